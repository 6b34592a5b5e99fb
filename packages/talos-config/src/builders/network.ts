import type { ConfigDocument } from "../model/document.js";
import type { AddressConfig, RouteConfig } from "../model/network.js";
import type { LegacyDevice, LegacyRoute, LegacyVlan } from "../model/v1alpha1.js";
import {
  type Cidr,
  cidrContains,
  corednsAddresses,
  formatCidr,
  formatIp,
  type IpAddress,
  networkOf,
  parseCidr,
  parseIp,
} from "../net.js";
import { isPlainObject } from "../patch/values.js";
import { parseTalosVersion, type TalosVersion, usesLegacyNetwork, usesLegacyTime } from "../version.js";
import type {
  InterfaceIntent,
  LinkSelectorIntent,
  RouteIntent,
  StaticHostIntent,
  VlanIntent,
} from "./intent.js";
import {
  fail,
  multiDoc,
  requireArray,
  requireHostname,
  requireInt,
  requireString,
  v1alpha1,
} from "./util.js";

/** Options for {@link buildHostname}. */
export interface BuildHostnameOptions {
  target: string | TalosVersion;
  hostname: string;
}

/**
 * The hostname: `machine.network.hostname` (≤1.11) or a HostnameConfig with `auto: off` (1.12+, which
 * replaces the generator's `auto: stable`).
 *
 * @throws TalosConfigError `INVALID_INPUT` (field `hostname`), `UNSUPPORTED_VERSION`.
 */
export function buildHostname(options: BuildHostnameOptions): ConfigDocument[] {
  const hostname = requireHostname(options.hostname, "hostname");
  if (usesLegacyNetwork(options.target)) return [v1alpha1({ machine: { network: { hostname } } })];
  return [multiDoc("HostnameConfig", { auto: "off", hostname })];
}

/** A validated static address of an interface or VLAN. */
interface ParsedAddresses {
  readonly cidrs: Cidr[];
  readonly text: string[];
}

function parseAddresses(value: unknown, field: string): ParsedAddresses {
  if (value === undefined) return { cidrs: [], text: [] };
  const list = requireArray<string>(value, field);
  const cidrs = list.map((item, i) => parseCidr(item, `${field}[${i}]`));
  return { cidrs, text: cidrs.map(formatCidr) };
}

function checkInside(ip: IpAddress, addresses: ParsedAddresses, field: string, addressesField: string): void {
  const sameFamily = addresses.cidrs.filter((c) => c.address.family === ip.family);
  if (sameFamily.length === 0) return;
  if (!sameFamily.some((c) => cidrContains(c, ip))) {
    fail(
      field,
      `${formatIp(ip)} is outside the subnet of ${addressesField} (${sameFamily.map((c) => formatCidr(networkOf(c))).join(", ")})`,
    );
  }
}

interface ParsedRoute {
  readonly network: Cidr;
  readonly gateway?: IpAddress;
  readonly source?: IpAddress;
  readonly metric?: number;
  readonly mtu?: number;
}

function parseRoutes(value: unknown, field: string): ParsedRoute[] {
  if (value === undefined) return [];
  return requireArray<RouteIntent>(value, field).map((route, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(route)) fail(at, "must be a mapping");
    const destination = route.network ?? route.destination;
    const network = parseCidr(
      destination as string,
      route.network === undefined && route.destination !== undefined ? `${at}.destination` : `${at}.network`,
    );
    const parsed: {
      network: Cidr;
      gateway?: IpAddress;
      source?: IpAddress;
      metric?: number;
      mtu?: number;
    } = { network: networkOf(network) };
    if (route.gateway !== undefined) parsed.gateway = parseIp(route.gateway, `${at}.gateway`);
    if (route.source !== undefined) parsed.source = parseIp(route.source, `${at}.source`);
    if (route.metric !== undefined) parsed.metric = requireInt(route.metric, `${at}.metric`, 0, 2 ** 32 - 1);
    if (route.mtu !== undefined) parsed.mtu = requireInt(route.mtu, `${at}.mtu`, 68, 65535);
    if (parsed.gateway && parsed.gateway.family !== network.address.family) {
      fail(`${at}.gateway`, "has a different IP family than the route network");
    }
    return parsed;
  });
}

/** The validated, version-independent form of one link (interface or VLAN). */
interface ParsedLink {
  readonly field: string;
  readonly addresses: ParsedAddresses;
  readonly gateway?: IpAddress;
  readonly routes: ParsedRoute[];
  readonly dhcp: boolean;
  readonly dhcp6: boolean;
  readonly dhcpRouteMetric?: number;
  readonly mtu?: number;
  readonly vip?: IpAddress;
}

function parseLink(intent: InterfaceIntent | VlanIntent, field: string): ParsedLink {
  const addresses = parseAddresses(intent.addresses, `${field}.addresses`);
  const link: {
    field: string;
    addresses: ParsedAddresses;
    gateway?: IpAddress;
    routes: ParsedRoute[];
    dhcp: boolean;
    dhcp6: boolean;
    dhcpRouteMetric?: number;
    mtu?: number;
    vip?: IpAddress;
  } = { field, addresses, routes: parseRoutes(intent.routes, `${field}.routes`), dhcp: false, dhcp6: false };
  if (intent.dhcp !== undefined) {
    if (typeof intent.dhcp !== "boolean") fail(`${field}.dhcp`, "must be true or false");
    link.dhcp = intent.dhcp;
  }
  if (intent.dhcp6 !== undefined) {
    if (typeof intent.dhcp6 !== "boolean") fail(`${field}.dhcp6`, "must be true or false");
    link.dhcp6 = intent.dhcp6;
  }
  if (intent.gateway !== undefined) {
    link.gateway = parseIp(intent.gateway, `${field}.gateway`);
    checkInside(link.gateway, addresses, `${field}.gateway`, `${field}.addresses`);
  }
  for (const [i, route] of link.routes.entries()) {
    if (route.gateway)
      checkInside(route.gateway, addresses, `${field}.routes[${i}].gateway`, `${field}.addresses`);
  }
  if (intent.mtu !== undefined) link.mtu = requireInt(intent.mtu, `${field}.mtu`, 68, 65535);
  if (intent.vip !== undefined) {
    link.vip = parseIp(intent.vip, `${field}.vip`);
    checkInside(link.vip, addresses, `${field}.vip`, `${field}.addresses`);
  }
  const metric = (intent as InterfaceIntent).dhcpRouteMetric;
  if (metric !== undefined)
    link.dhcpRouteMetric = requireInt(metric, `${field}.dhcpRouteMetric`, 0, 2 ** 32 - 1);
  return link;
}

const LINK_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$/;
const MAC_RE = /^[0-9a-fA-F*?]{1,2}(:[0-9a-fA-F*?]{1,2}){0,5}$|^\*$/;
const SELECTOR_KEYS = ["hardwareAddr", "permanentAddr", "busPath", "pciID", "driver", "physical", "match"];

function parseSelector(selector: LinkSelectorIntent, field: string): LinkSelectorIntent {
  if (!isPlainObject(selector)) fail(field, "must be a mapping");
  const out: LinkSelectorIntent = {};
  for (const key of Object.keys(selector)) {
    if (!SELECTOR_KEYS.includes(key)) fail(`${field}.${key}`, "is not a known selector field");
  }
  for (const key of ["hardwareAddr", "permanentAddr"] as const) {
    const value = selector[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || !MAC_RE.test(value)) {
      fail(`${field}.${key}`, "must be a MAC address like aa:bb:cc:dd:ee:ff (* and ? globs allowed)");
    }
    out[key] = value.toLowerCase();
  }
  for (const key of ["busPath", "pciID", "driver", "match"] as const) {
    if (selector[key] !== undefined) out[key] = requireString(selector[key], `${field}.${key}`);
  }
  if (selector.physical !== undefined) {
    if (typeof selector.physical !== "boolean") fail(`${field}.physical`, "must be true or false");
    out.physical = selector.physical;
  }
  if (Object.keys(out).length === 0) fail(field, `must set at least one of ${SELECTOR_KEYS.join(", ")}`);
  return out;
}

function celMatch(expr: string, value: string): string {
  return /[*?]/.test(value)
    ? `glob(${JSON.stringify(value)}, ${expr})`
    : `${expr} == ${JSON.stringify(value)}`;
}

/**
 * The CEL expression (1.12+ LinkAliasConfig) for a link selector: MAC addresses through `mac()`, values
 * with `*` / `?` through `glob()`, `physical` as an Ethernet link that is no virtual kind.
 */
export function linkSelectorExpression(selector: LinkSelectorIntent): string {
  const terms: string[] = [];
  if (selector.hardwareAddr)
    terms.push(celMatch("mac(link.hardware_addr)", selector.hardwareAddr.toLowerCase()));
  if (selector.permanentAddr)
    terms.push(celMatch("mac(link.permanent_addr)", selector.permanentAddr.toLowerCase()));
  if (selector.busPath) terms.push(celMatch("link.bus_path", selector.busPath));
  if (selector.pciID) terms.push(celMatch("link.pciid", selector.pciID));
  if (selector.driver) terms.push(celMatch("link.driver", selector.driver));
  if (selector.physical === true) terms.push('link.type == 1 && link.kind == ""');
  if (selector.physical === false) terms.push('!(link.type == 1 && link.kind == "")');
  if (selector.match) terms.push(terms.length === 0 ? selector.match : `(${selector.match})`);
  return terms.join(" && ");
}

/** A validated interface with its resolved link name (1.12+) and VLANs. */
export interface ParsedInterface {
  readonly index: number;
  readonly name?: string;
  readonly selector?: LinkSelectorIntent;
  /** The link name the new documents use: the interface name, or the alias of a selected link. */
  readonly linkName: string;
  readonly link: ParsedLink;
  readonly vlans: { id: number; link: ParsedLink }[];
}

/**
 * Validates interfaces (names, CIDRs, gateways inside the subnet, VIPs, MTUs, VLAN ids).
 *
 * @throws TalosConfigError `INVALID_INPUT` / `INVALID_CIDR` naming `interfaces[i]...`.
 * @internal
 */
export function parseInterfaces(interfaces: unknown): ParsedInterface[] {
  const list = requireArray<InterfaceIntent>(interfaces, "interfaces");
  const names = new Set<string>();
  return list.map((intent, index) => {
    const field = `interfaces[${index}]`;
    if (!isPlainObject(intent)) fail(field, "must be a mapping");
    if (intent.name === undefined && intent.selector === undefined) fail(field, "needs a name or a selector");
    let name: string | undefined;
    if (intent.name !== undefined) {
      name = requireString(intent.name, `${field}.name`);
      if (!LINK_NAME_RE.test(name))
        fail(`${field}.name`, `${JSON.stringify(name)} is not a valid link name (1-15 characters)`);
    }
    const selector =
      intent.selector === undefined ? undefined : parseSelector(intent.selector, `${field}.selector`);
    const linkName = name ?? `net${index}`;
    if (names.has(linkName)) fail(`${field}.name`, `${linkName} is configured twice`);
    names.add(linkName);
    const link = parseLink(intent, field);
    const vlanIds = new Set<number>();
    const vlans = (
      intent.vlans === undefined ? [] : requireArray<VlanIntent>(intent.vlans, `${field}.vlans`)
    ).map((vlan, v) => {
      const at = `${field}.vlans[${v}]`;
      if (!isPlainObject(vlan)) fail(at, "must be a mapping");
      const id =
        vlan.id === undefined && vlan.vlanId !== undefined
          ? requireInt(vlan.vlanId, `${at}.vlanId`, 1, 4094)
          : requireInt(vlan.id, `${at}.id`, 1, 4094);
      if (vlanIds.has(id)) fail(`${at}.id`, `VLAN ${id} is configured twice`);
      vlanIds.add(id);
      return { id, link: parseLink(vlan, at) };
    });
    const parsed: {
      index: number;
      name?: string;
      selector?: LinkSelectorIntent;
      linkName: string;
      link: ParsedLink;
      vlans: { id: number; link: ParsedLink }[];
    } = { index, linkName, link, vlans };
    if (name !== undefined) parsed.name = name;
    if (selector !== undefined) parsed.selector = selector;
    return parsed;
  });
}

function defaultNetwork(gateway: IpAddress): string {
  return gateway.family === 4 ? "0.0.0.0/0" : "::/0";
}

function legacyRoutes(link: ParsedLink): LegacyRoute[] {
  const routes: LegacyRoute[] = [];
  if (link.gateway) routes.push({ network: defaultNetwork(link.gateway), gateway: formatIp(link.gateway) });
  for (const route of link.routes) {
    const out: LegacyRoute = { network: formatCidr(route.network) };
    if (route.gateway) out.gateway = formatIp(route.gateway);
    if (route.source) out.source = formatIp(route.source);
    if (route.metric !== undefined) out.metric = route.metric;
    if (route.mtu !== undefined) out.mtu = route.mtu;
    routes.push(out);
  }
  return routes;
}

function routeConfigs(link: ParsedLink): RouteConfig[] {
  const routes: RouteConfig[] = [];
  if (link.gateway) routes.push({ gateway: formatIp(link.gateway) });
  for (const route of link.routes) {
    const out: RouteConfig = {};
    const isDefault = route.network.prefix === 0;
    if (!isDefault) out.destination = formatCidr(route.network);
    if (route.gateway) out.gateway = formatIp(route.gateway);
    if (route.source) out.source = formatIp(route.source);
    if (route.metric !== undefined) out.metric = route.metric;
    if (route.mtu !== undefined) out.mtu = route.mtu;
    routes.push(out);
  }
  return routes;
}

function legacyDevice(parsed: ParsedInterface): LegacyDevice {
  const device: LegacyDevice = {};
  if (parsed.selector) {
    if (parsed.selector.match !== undefined) {
      fail(`interfaces[${parsed.index}].selector.match`, "CEL selectors need Talos 1.12 or newer");
    }
    const { match: _match, ...selector } = parsed.selector;
    device.deviceSelector = selector;
  } else {
    device.interface = parsed.linkName;
  }
  fillLegacyLink(device, parsed.link);
  if (parsed.vlans.length > 0) {
    device.vlans = parsed.vlans.map(({ id, link }) => {
      const vlan: LegacyVlan = { vlanId: id };
      fillLegacyLink(vlan, link);
      return vlan;
    });
  }
  return device;
}

function fillLegacyLink(target: LegacyDevice | LegacyVlan, link: ParsedLink): void {
  if (link.addresses.text.length > 0) target.addresses = link.addresses.text;
  const routes = legacyRoutes(link);
  if (routes.length > 0) target.routes = routes;
  if (link.mtu !== undefined) target.mtu = link.mtu;
  if (link.dhcp || link.dhcp6) target.dhcp = true;
  const options: NonNullable<LegacyDevice["dhcpOptions"]> = {};
  if (link.dhcp6) options.ipv6 = true;
  if (link.dhcp6 && !link.dhcp) options.ipv4 = false;
  if (link.dhcpRouteMetric !== undefined) options.routeMetric = link.dhcpRouteMetric;
  if (Object.keys(options).length > 0) target.dhcpOptions = options;
  if (link.vip) target.vip = { ip: formatIp(link.vip) };
}

function linkDocuments(
  kind: "LinkConfig" | "VLANConfig",
  name: string,
  link: ParsedLink,
  extra: ConfigDocument,
): ConfigDocument[] {
  const body: ConfigDocument = { name, ...extra, up: true };
  if (link.mtu !== undefined) body.mtu = link.mtu;
  if (link.addresses.text.length > 0)
    body.addresses = link.addresses.text.map((address): AddressConfig => ({ address }));
  const routes = routeConfigs(link);
  if (routes.length > 0) body.routes = routes;
  const docs = [multiDoc(kind, body)];
  if (link.dhcp) {
    const dhcp: ConfigDocument = { name };
    if (link.dhcpRouteMetric !== undefined) dhcp.routeMetric = link.dhcpRouteMetric;
    docs.push(multiDoc("DHCPv4Config", dhcp));
  }
  if (link.dhcp6) {
    const dhcp: ConfigDocument = { name };
    if (link.dhcpRouteMetric !== undefined) dhcp.routeMetric = link.dhcpRouteMetric;
    docs.push(multiDoc("DHCPv6Config", dhcp));
  }
  if (link.vip) docs.push(multiDoc("Layer2VIPConfig", { name: formatIp(link.vip), link: name }));
  return docs;
}

/** Options for {@link buildInterfaces}. */
export interface BuildInterfacesOptions {
  target: string | TalosVersion;
  interfaces: InterfaceIntent[];
}

/**
 * Interfaces by name or selector with static addresses, default gateway, routes, DHCP, MTU, VLANs and
 * VIPs: `machine.network.interfaces` (≤1.11) or LinkAliasConfig / LinkConfig / DHCPv4Config /
 * VLANConfig / Layer2VIPConfig documents (1.12+).
 *
 * @throws TalosConfigError `INVALID_INPUT` / `INVALID_CIDR` naming `interfaces[i]...`, `UNSUPPORTED_VERSION`.
 */
export function buildInterfaces(options: BuildInterfacesOptions): ConfigDocument[] {
  const parsed = parseInterfaces(options.interfaces);
  if (parsed.length === 0) return [];
  if (usesLegacyNetwork(options.target)) {
    return [v1alpha1({ machine: { network: { interfaces: parsed.map(legacyDevice) } } })];
  }
  const minor = parseTalosVersion(options.target).minor;
  const docs: ConfigDocument[] = [];
  for (const iface of parsed) {
    let linkName = iface.linkName;
    if (iface.selector) {
      let aliasName = linkName;
      if (!selectsOneLink(iface.selector)) {
        // Talos skips a fixed-name alias whose selector matches several links
        // (internal/app/machined/pkg/controllers/network/link_alias_config.go): 1.13+ has pattern
        // aliases (`name%d`, one alias per match in hardware-address order), 1.12 has nothing safe.
        if (minor < 13) {
          fail(
            `interfaces[${iface.index}].selector`,
            "may match several links, and Talos 1.12 then aliases none of them; select by hardwareAddr, permanentAddr or busPath (no globs), or target 1.13+",
          );
        }
        aliasName = `${linkName}-%d`;
        linkName = `${linkName}-0`;
      }
      docs.push(
        multiDoc("LinkAliasConfig", {
          name: aliasName,
          selector: { match: linkSelectorExpression(iface.selector) },
        }),
      );
    }
    docs.push(...linkDocuments("LinkConfig", linkName, iface.link, {}));
    for (const vlan of iface.vlans) {
      const name = `${linkName}.${vlan.id}`;
      docs.push(...linkDocuments("VLANConfig", name, vlan.link, { vlanID: vlan.id, parent: linkName }));
    }
  }
  return docs;
}

/**
 * True when a selector can match one link at most: an exact hardware or permanent MAC address or bus
 * path (a raw CEL `match` is taken as written).
 */
function selectsOneLink(selector: LinkSelectorIntent): boolean {
  const exact = (value: string | undefined): boolean => value !== undefined && !/[*?[]/.test(value);
  return (
    exact(selector.hardwareAddr) ||
    exact(selector.permanentAddr) ||
    exact(selector.busPath) ||
    selector.match !== undefined
  );
}

/** The subnets (network CIDRs) of the interface that holds the default gateway; empty when none does. */
export function lanSubnets(interfaces: InterfaceIntent[]): string[] {
  const parsed = parseInterfaces(interfaces);
  const links = parsed.flatMap((p) => [p.link, ...p.vlans.map((v) => v.link)]);
  const withGateway = links.find((l) => l.gateway !== undefined && l.addresses.cidrs.length > 0);
  if (!withGateway) return [];
  return [...new Set(withGateway.addresses.cidrs.map((c) => formatCidr(networkOf(c))))];
}

/** Options for {@link buildNameservers}. */
export interface BuildNameserversOptions {
  target: string | TalosVersion;
  /** IPs, or the token `coredns` (needs `serviceSubnets`). */
  nameservers: string[];
  searchDomains?: string[];
  /** Used to resolve `coredns` to base + 10 of the first subnet of each family. */
  serviceSubnets?: string[];
}

/**
 * Nameservers and search domains: `machine.network.nameservers` (≤1.11) or a ResolverConfig (1.12+).
 * The token `coredns` is left out of the machine's nameservers (see {@link resolveNameservers}).
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `nameservers[i]`, `INVALID_CIDR`, `UNSUPPORTED_VERSION`.
 */
export function buildNameservers(options: BuildNameserversOptions): ConfigDocument[] {
  const resolved = resolveNameservers(options.nameservers, options.serviceSubnets);
  const domains =
    options.searchDomains === undefined
      ? []
      : requireArray<string>(options.searchDomains, "searchDomains").map((d, i) =>
          requireHostname(d, `searchDomains[${i}]`),
        );
  if (resolved.length === 0 && domains.length === 0) return [];
  if (usesLegacyNetwork(options.target)) {
    const network: ConfigDocument = {};
    if (resolved.length > 0) network.nameservers = resolved;
    if (domains.length > 0) network.searchDomains = domains;
    return [v1alpha1({ machine: { network } })];
  }
  const body: ConfigDocument = {};
  if (resolved.length > 0) body.nameservers = resolved.map((address) => ({ address }));
  if (domains.length > 0) body.searchDomains = { domains };
  return [multiDoc("ResolverConfig", body)];
}

/**
 * The machine nameservers of a list: IPs validated, duplicates dropped, order kept, the token `coredns`
 * left out (it configures cloudflared's resolver instead, see {@link cloudflaredNameservers}). A CoreDNS
 * ClusterIP (or any address of the service subnets) is refused: as a machine nameserver it makes CoreDNS
 * and the host DNS forward to each other (docs/dns.md).
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `nameservers[i]`.
 */
export function resolveNameservers(nameservers: unknown, serviceSubnets?: readonly string[]): string[] {
  const list = requireArray<string>(nameservers, "nameservers");
  const subnets = (serviceSubnets ?? []).map((s, i) => parseCidr(s, `cluster.serviceSubnets[${i}]`));
  const out: string[] = [];
  list.forEach((entry, i) => {
    if (entry === "coredns") return;
    const ip = parseIp(entry, `nameservers[${i}]`);
    if (subnets.some((s) => cidrContains(s, ip))) {
      fail(
        `nameservers[${i}]`,
        `${formatIp(ip)} is in the service subnet: as a machine nameserver it loops CoreDNS and the host DNS into each other; use the token coredns (cloudflared asks CoreDNS, the machine does not)`,
      );
    }
    const address = formatIp(ip);
    if (!out.includes(address)) out.push(address);
  });
  return out;
}

/** The host DNS resolver Talos serves on the node when hostDNS is enabled (the generated default). */
const HOST_DNS = "127.0.0.53";

/**
 * The nameservers of cloudflared's own resolv.conf when the list holds the token `coredns`: the CoreDNS
 * ClusterIP of each service-subnet family, then the list's other nameservers, else the host DNS
 * (127.0.0.53), three at most; `undefined` without the token.
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `nameservers[i]`.
 * @internal
 */
export function cloudflaredNameservers(
  nameservers: readonly string[],
  serviceSubnets: readonly string[] | undefined,
): string[] | undefined {
  const at = nameservers.indexOf("coredns");
  if (at < 0) return undefined;
  if (serviceSubnets === undefined || serviceSubnets.length === 0)
    fail(`nameservers[${at}]`, "the token coredns needs cluster.serviceSubnets");
  const others = resolveNameservers(nameservers, serviceSubnets);
  return [...corednsAddresses(serviceSubnets), ...(others.length > 0 ? others : [HOST_DNS])].slice(0, 3);
}

/** Options for {@link buildTimeServers}. */
export interface BuildTimeServersOptions {
  target: string | TalosVersion;
  /** NTP server host names or IPs. */
  servers: string[];
}

/**
 * NTP servers: `machine.time.servers` (≤1.11) or a TimeSyncConfig (1.12+).
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `timeServers[i]`, `UNSUPPORTED_VERSION`.
 */
export function buildTimeServers(options: BuildTimeServersOptions): ConfigDocument[] {
  const servers = requireArray<string>(options.servers, "timeServers").map((server, i) => {
    const text = requireString(server, `timeServers[${i}]`);
    if (/\s/.test(text)) fail(`timeServers[${i}]`, `${JSON.stringify(text)} is not a host name or IP`);
    return text;
  });
  if (servers.length === 0) return [];
  if (usesLegacyTime(options.target)) return [v1alpha1({ machine: { time: { servers } } })];
  return [multiDoc("TimeSyncConfig", { ntp: { servers } })];
}

/** Options for {@link buildStaticHosts}. */
export interface BuildStaticHostsOptions {
  target: string | TalosVersion;
  hosts: StaticHostIntent[];
}

/**
 * Static host entries: `machine.network.extraHostEntries` (≤1.11) or one StaticHostConfig per IP (1.12+).
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `extraHosts[i]...`, `UNSUPPORTED_VERSION`.
 */
export function buildStaticHosts(options: BuildStaticHostsOptions): ConfigDocument[] {
  const seen = new Set<string>();
  const hosts = requireArray<StaticHostIntent>(options.hosts, "extraHosts").map((host, i) => {
    const at = `extraHosts[${i}]`;
    if (!isPlainObject(host)) fail(at, "must be a mapping with ip and hostnames");
    const ip = formatIp(parseIp(host.ip, `${at}.ip`));
    if (seen.has(ip)) fail(`${at}.ip`, `${ip} is listed twice`);
    seen.add(ip);
    const names = requireArray<string>(host.hostnames, `${at}.hostnames`).map((n, j) =>
      requireHostname(n, `${at}.hostnames[${j}]`),
    );
    if (names.length === 0) fail(`${at}.hostnames`, "must list at least one name");
    return { ip, names };
  });
  if (hosts.length === 0) return [];
  if (usesLegacyNetwork(options.target)) {
    return [
      v1alpha1({
        machine: { network: { extraHostEntries: hosts.map((h) => ({ ip: h.ip, aliases: h.names })) } },
      }),
    ];
  }
  return hosts.map((h) => multiDoc("StaticHostConfig", { name: h.ip, hostnames: h.names }));
}
