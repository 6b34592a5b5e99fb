import { TalosConfigError } from "./errors.js";

/** A parsed IP address. `value` is the address as an unsigned integer (32 or 128 bits). */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A parsed CIDR: the address as written plus its prefix length. */
export interface Cidr {
  readonly address: IpAddress;
  readonly prefix: number;
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** Parses an IPv4 or IPv6 address; undefined when `text` is not one. */
export function tryParseIp(text: string): IpAddress | undefined {
  if (IPV4_RE.test(text)) {
    let value = 0n;
    for (const part of text.split(".")) value = (value << 8n) | BigInt(Number(part));
    return { family: 4, value };
  }
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  let tailV4: IpAddress | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tailV4 = tryParseIp(text.slice(lastColon + 1));
    if (tailV4?.family !== 4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): string[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? groups : undefined;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  if (tailV4) value = (value & ~0xffffffffn) | tailV4.value;
  return { family: 6, value };
}

/** Parses a CIDR (`192.168.50.200/24`, `fd00::/64`); undefined when `text` is not one. */
export function tryParseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = tryParseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits(address.family)) return undefined;
  return { address, prefix };
}

/**
 * Parses an IP address.
 *
 * @param field - the input path named in the error, e.g. `interfaces[0].gateway`.
 * @throws TalosConfigError `INVALID_INPUT` naming `field`.
 */
export function parseIp(text: string, field: string): IpAddress {
  const ip = typeof text === "string" ? tryParseIp(text) : undefined;
  if (!ip) {
    throw new TalosConfigError("INVALID_INPUT", `${field}: ${JSON.stringify(text)} is not an IP address`, {
      details: { field },
    });
  }
  return ip;
}

/**
 * Parses a CIDR.
 *
 * @param field - the input path named in the error, e.g. `interfaces[0].addresses[0]`.
 * @throws TalosConfigError `INVALID_CIDR` naming `field`.
 */
export function parseCidr(text: string, field: string): Cidr {
  const cidr = typeof text === "string" ? tryParseCidr(text) : undefined;
  if (!cidr) {
    throw new TalosConfigError(
      "INVALID_CIDR",
      `${field}: ${JSON.stringify(text)} is not a CIDR like 10.0.0.1/24`,
      {
        details: { field },
      },
    );
  }
  return cidr;
}

/** Formats an address canonically (IPv6 lower-case, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const out: number[] = [];
    for (let shift = 24n; shift >= 0n; shift -= 8n) out.push(Number((ip.value >> shift) & 0xffn));
    return out.join(".");
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** Formats a CIDR canonically, keeping the host part (`192.168.50.200/24`). */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.address)}/${cidr.prefix}`;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(bits(family));
  const all = (1n << width) - 1n;
  return (all >> BigInt(prefix)) ^ all;
}

/** The network of a CIDR (host bits cleared). */
export function networkOf(cidr: Cidr): Cidr {
  return {
    address: {
      family: cidr.address.family,
      value: cidr.address.value & mask(cidr.address.family, cidr.prefix),
    },
    prefix: cidr.prefix,
  };
}

/** True when `ip` lies inside `cidr` (same family and same network bits). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.address.family !== ip.family) return false;
  const m = mask(ip.family, cidr.prefix);
  return (cidr.address.value & m) === (ip.value & m);
}

/**
 * The CoreDNS ClusterIPs Talos gives the kube-dns service: base + 10 of the first IPv4 and of the first
 * IPv6 service subnet (one address per family, in the order the families first appear).
 *
 * @throws TalosConfigError `INVALID_CIDR` naming `serviceSubnets[i]`.
 */
export function corednsAddresses(serviceSubnets: readonly string[]): string[] {
  if (!Array.isArray(serviceSubnets)) {
    throw new TalosConfigError("INVALID_CIDR", "serviceSubnets: must be a list of CIDRs", {
      details: { field: "serviceSubnets" },
    });
  }
  const out: string[] = [];
  const seen = new Set<number>();
  serviceSubnets.forEach((subnet, i) => {
    const cidr = parseCidr(subnet, `serviceSubnets[${i}]`);
    if (seen.has(cidr.address.family)) return;
    seen.add(cidr.address.family);
    out.push(corednsAddress(subnet));
  });
  return out;
}

/**
 * The CoreDNS ClusterIP Kubernetes reserves in a service subnet: the subnet base + 10
 * (`10.96.0.0/12` gives `10.96.0.10`, `fd00:10:96::/112` gives `fd00:10:96::a`).
 *
 * @throws TalosConfigError `INVALID_CIDR` when `serviceSubnet` is not a CIDR or is too small to hold base + 10.
 */
export function corednsAddress(serviceSubnet: string): string {
  const cidr = parseCidr(serviceSubnet, "serviceSubnet");
  if (bits(cidr.address.family) - cidr.prefix < 4) {
    throw new TalosConfigError(
      "INVALID_CIDR",
      `serviceSubnet: ${serviceSubnet} is too small to hold base + 10`,
      {
        details: { field: "serviceSubnet" },
      },
    );
  }
  const base = networkOf(cidr).address;
  return formatIp({ family: base.family, value: base.value + 10n });
}
