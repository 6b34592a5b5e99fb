import { environmentName, KNOWN_EXTENSION_SERVICES } from "../extensions.js";
import { type ConfigDocument, documentKind, documentLabel, isV1Alpha1Document } from "../model/document.js";
import {
  type Cidr,
  cidrContains,
  corednsAddress,
  corednsAddresses,
  formatCidr,
  formatIp,
  type IpAddress,
  networkOf,
  tryParseCidr,
  tryParseIp,
} from "../net.js";
import { parseSchematic, type Schematic } from "../schematic.js";
import { configIssues } from "../validate/validate-config.js";
import { parseTalosVersion, supportsKind, type TalosVersion, versionFeatures } from "../version.js";

/** How bad a finding is. */
export type LintSeverity = "error" | "warning" | "info";

/** Every code {@link lint} can report. */
export const LintCode = {
  MULTIPLE_LINKS_WITHOUT_NODE_IP: "MULTIPLE_LINKS_WITHOUT_NODE_IP",
  COREDNS_NAMESERVER_LOOP: "COREDNS_NAMESERVER_LOOP",
  COREDNS_NAMESERVER_MISMATCH: "COREDNS_NAMESERVER_MISMATCH",
  LEGACY_AND_NEW_MIXED: "LEGACY_AND_NEW_MIXED",
  LEGACY_FIELD_FOR_TARGET: "LEGACY_FIELD_FOR_TARGET",
  KIND_NOT_SUPPORTED: "KIND_NOT_SUPPORTED",
  DUPLICATE_ENVIRONMENT_VARIABLE: "DUPLICATE_ENVIRONMENT_VARIABLE",
  EXTENSION_SECRET_MISSING: "EXTENSION_SECRET_MISSING",
  EXTENSION_NOT_IN_SCHEMATIC: "EXTENSION_NOT_IN_SCHEMATIC",
  ADDRESS_OUTSIDE_GATEWAY_SUBNET: "ADDRESS_OUTSIDE_GATEWAY_SUBNET",
  VIP_OUTSIDE_LINK_SUBNET: "VIP_OUTSIDE_LINK_SUBNET",
  ENDPOINT_NOT_CONTROL_PLANE: "ENDPOINT_NOT_CONTROL_PLANE",
  INSTALL_DISK_MISSING: "INSTALL_DISK_MISSING",
  HOSTNAME_AUTO_CONFLICT: "HOSTNAME_AUTO_CONFLICT",
  INSTALL_DISK_AMBIGUOUS: "INSTALL_DISK_AMBIGUOUS",
  SCHEMA_VIOLATION: "SCHEMA_VIOLATION",
} as const;

/** Union of the values of {@link LintCode}. */
export type LintCode = (typeof LintCode)[keyof typeof LintCode];

/** One lint finding. `path` is `<document label>:<field path>`, e.g. `LinkConfig/eno1:routes[0].gateway`. */
export interface LintFinding {
  readonly code: LintCode;
  readonly severity: LintSeverity;
  readonly path: string;
  readonly message: string;
  readonly hint: string;
}

/** What {@link lint} knows beyond the documents. Every field is optional; checks that need a missing one are skipped. */
export interface LintContext {
  /** The Talos version the config is for. Enables the legacy-field and kind checks. */
  target?: string | TalosVersion;
  /** The node's role; defaults to `machine.type` of the v1alpha1 document. */
  role?: "controlplane" | "worker";
  /** Service subnets; default from `cluster.network.serviceSubnets` or KubeNetworkConfig. */
  serviceSubnets?: string[];
  /** The node's schematic: a {@link Schematic}-like object or the schematic's YAML/JSON text. */
  schematic?: { officialExtensions: readonly string[] } | string;
  /**
   * Addresses and VIPs of all control planes (the endpoint must match one; a mismatch is an error). This
   * node's own are added when it is a control plane; without this list a mismatch is only a warning.
   */
  controlPlaneAddresses?: string[];
  /** Check that an install disk is set (default true; false for configs applied to installed nodes). */
  requireInstallDisk?: boolean;
}

type Finder = (finding: LintFinding) => void;

function get(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asStrings(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === "string");
}

/** A link with addresses as the lint sees it, from any document form. */
interface LinkView {
  name: string;
  path: string;
  addresses: Cidr[];
  gateways: { ip: IpAddress; path: string }[];
  vips: { ip: IpAddress; path: string }[];
}

function linkViews(docs: readonly ConfigDocument[]): LinkView[] {
  const links: LinkView[] = [];
  const byName = new Map<string, LinkView>();
  const cidrs = (list: unknown, extract: (item: unknown) => unknown): Cidr[] =>
    asArray(list)
      .map((item) => extract(item))
      .filter((t): t is string => typeof t === "string")
      .map((t) => tryParseCidr(t))
      .filter((c): c is Cidr => c !== undefined);
  const gateways = (routes: unknown, base: string): { ip: IpAddress; path: string }[] =>
    asArray(routes).flatMap((route, i) => {
      const ip =
        typeof get(route, "gateway") === "string" ? tryParseIp(get(route, "gateway") as string) : undefined;
      return ip ? [{ ip, path: `${base}routes[${i}].gateway` }] : [];
    });
  for (const doc of docs) {
    const label = documentLabel(doc);
    if (isV1Alpha1Document(doc)) {
      asArray(get(doc, "machine", "network", "interfaces")).forEach((device, i) => {
        const base = `machine.network.interfaces[${i}]`;
        const name = (get(device, "interface") as string | undefined) ?? `${base}`;
        const view: LinkView = {
          name,
          path: `${label}:${base}`,
          addresses: cidrs(get(device, "addresses"), (a) => a),
          gateways: gateways(get(device, "routes"), `${label}:${base}.`),
          vips: [],
        };
        const vip = tryParseIp(String(get(device, "vip", "ip") ?? ""));
        if (vip) view.vips.push({ ip: vip, path: `${label}:${base}.vip.ip` });
        links.push(view);
        asArray(get(device, "vlans")).forEach((vlan, v) => {
          const vbase = `${base}.vlans[${v}]`;
          const vview: LinkView = {
            name: `${name}.${String(get(vlan, "vlanId"))}`,
            path: `${label}:${vbase}`,
            addresses: cidrs(get(vlan, "addresses"), (a) => a),
            gateways: gateways(get(vlan, "routes"), `${label}:${vbase}.`),
            vips: [],
          };
          const vvip = tryParseIp(String(get(vlan, "vip", "ip") ?? ""));
          if (vvip) vview.vips.push({ ip: vvip, path: `${label}:${vbase}.vip.ip` });
          links.push(vview);
        });
      });
      continue;
    }
    const kind = documentKind(doc);
    if (kind === "LinkConfig" || kind === "VLANConfig") {
      const view: LinkView = {
        name: String(doc.name),
        path: label,
        addresses: cidrs(doc.addresses, (a) => get(a, "address")),
        gateways: gateways(doc.routes, `${label}:`),
        vips: [],
      };
      links.push(view);
      byName.set(view.name, view);
    }
  }
  for (const doc of docs) {
    if (documentKind(doc) !== "Layer2VIPConfig") continue;
    const ip = tryParseIp(String(doc.name ?? ""));
    const link = byName.get(String(doc.link ?? ""));
    if (ip && link) link.vips.push({ ip, path: `${documentLabel(doc)}:name` });
  }
  return links;
}

function checkLinks(links: LinkView[], add: Finder): void {
  for (const link of links) {
    for (const gateway of link.gateways) {
      const same = link.addresses.filter((a) => a.address.family === gateway.ip.family);
      if (same.length === 0 || same.some((a) => cidrContains(a, gateway.ip))) continue;
      add({
        code: "ADDRESS_OUTSIDE_GATEWAY_SUBNET",
        severity: "error",
        path: gateway.path,
        message: `gateway ${formatIp(gateway.ip)} of ${link.name} is outside its addresses (${same.map(formatCidr).join(", ")})`,
        hint: "fix the address prefix or the gateway so both are in the same subnet",
      });
    }
    for (const vip of link.vips) {
      const same = link.addresses.filter((a) => a.address.family === vip.ip.family);
      if (same.length === 0 || same.some((a) => cidrContains(a, vip.ip))) continue;
      add({
        code: "VIP_OUTSIDE_LINK_SUBNET",
        severity: "error",
        path: vip.path,
        message: `VIP ${formatIp(vip.ip)} is outside the subnet of ${link.name} (${same.map((a) => formatCidr(networkOf(a))).join(", ")})`,
        hint: "pick a free address inside the link's subnet for the VIP",
      });
    }
  }
}

/**
 * Legacy v1alpha1 path → the documents Talos refuses it next to (their V1Alpha1ConflictValidate checks)
 * and the line that deprecated it.
 */
const LEGACY_PAIRS: { path: string[]; kinds: string[]; since: number }[] = [
  { path: ["machine", "network", "hostname"], kinds: ["HostnameConfig"], since: 12 },
  { path: ["machine", "network", "nameservers"], kinds: ["ResolverConfig"], since: 12 },
  { path: ["machine", "network", "searchDomains"], kinds: ["ResolverConfig"], since: 12 },
  { path: ["machine", "network", "disableSearchDomain"], kinds: ["ResolverConfig"], since: 12 },
  {
    path: ["machine", "network", "interfaces"],
    kinds: ["LinkConfig", "LinkAliasConfig", "VLANConfig", "DHCPv4Config", "DHCPv6Config", "Layer2VIPConfig"],
    since: 12,
  },
  { path: ["machine", "network", "extraHostEntries"], kinds: ["StaticHostConfig"], since: 12 },
  { path: ["machine", "network", "kubespan"], kinds: ["KubeSpanConfig"], since: 13 },
  { path: ["machine", "time"], kinds: ["TimeSyncConfig"], since: 12 },
  {
    path: ["machine", "kubelet"],
    kinds: ["KubeletConfig", "KubeNodeConfig", "KubeCredentialProviderConfig"],
    since: 14,
  },
  { path: ["machine", "nodeLabels"], kinds: ["KubeNodeConfig"], since: 14 },
  { path: ["machine", "nodeAnnotations"], kinds: ["KubeNodeConfig"], since: 14 },
  { path: ["machine", "nodeTaints"], kinds: ["KubeNodeConfig"], since: 14 },
  { path: ["machine", "install"], kinds: ["UnattendedInstallConfig"], since: 14 },
  { path: ["machine", "features", "kubePrism"], kinds: ["KubePrismConfig"], since: 14 },
  { path: ["cluster", "controlPlane"], kinds: ["KubeClusterConfig"], since: 14 },
  { path: ["cluster", "clusterName"], kinds: ["KubeClusterConfig"], since: 14 },
  { path: ["cluster", "network"], kinds: ["KubeNetworkConfig", "KubeFlannelCNIConfig"], since: 14 },
  { path: ["cluster", "inlineManifests"], kinds: ["KubeInlineManifestConfig"], since: 14 },
  { path: ["cluster", "extraManifests"], kinds: ["KubeExternalManifestConfig"], since: 14 },
  { path: ["cluster", "allowSchedulingOnControlPlanes"], kinds: ["KubeNodeConfig"], since: 14 },
  { path: ["cluster", "apiServer"], kinds: ["KubeAPIServerConfig"], since: 14 },
  { path: ["cluster", "controllerManager"], kinds: ["KubeControllerManagerConfig"], since: 14 },
  { path: ["cluster", "scheduler"], kinds: ["KubeSchedulerConfig"], since: 14 },
  { path: ["cluster", "proxy"], kinds: ["KubeProxyConfig"], since: 14 },
  { path: ["cluster", "coreDNS"], kinds: ["KubeCoreDNSConfig"], since: 14 },
  { path: ["cluster", "discovery"], kinds: ["DiscoveryServiceConfig"], since: 14 },
  { path: ["cluster", "id"], kinds: ["DiscoveryIdentityConfig"], since: 14 },
  { path: ["cluster", "secret"], kinds: ["DiscoveryIdentityConfig"], since: 14 },
];

function checkLegacy(docs: readonly ConfigDocument[], context: LintContext, add: Finder): void {
  const kinds = new Set(docs.map(documentKind));
  const minor = context.target === undefined ? undefined : parseTalosVersion(context.target).minor;
  for (const doc of docs.filter(isV1Alpha1Document)) {
    for (const pair of LEGACY_PAIRS) {
      if (get(doc, ...pair.path) === undefined) continue;
      const path = `v1alpha1:${pair.path.join(".")}`;
      const clash = pair.kinds.filter((k) => kinds.has(k));
      if (clash.length > 0) {
        add({
          code: "LEGACY_AND_NEW_MIXED",
          severity: "error",
          path,
          message: `${pair.path.join(".")} is set together with ${clash.join(", ")}; Talos rejects the mix`,
          hint: `keep only the ${clash.join(", ")} document${clash.length > 1 ? "s" : ""} (or only the legacy field)`,
        });
      } else if (minor !== undefined && minor >= pair.since) {
        add({
          code: "LEGACY_FIELD_FOR_TARGET",
          severity: "error",
          path,
          message: `${pair.path.join(".")} is deprecated on Talos 1.${minor} and missing from its schema`,
          hint: `use ${pair.kinds.join(" / ")} instead (buildNodePatches does this for the target)`,
        });
      }
    }
  }
  if (context.target !== undefined) {
    for (const doc of docs) {
      const kind = documentKind(doc);
      if (kind === "v1alpha1" || supportsKind(context.target, kind)) continue;
      const known = supportsKind("v1.15", kind);
      add({
        code: "KIND_NOT_SUPPORTED",
        severity: "error",
        path: documentLabel(doc),
        message: known
          ? `${kind} is not accepted by Talos ${versionFeatures(context.target).line}`
          : `${kind} is not a document kind Talos knows`,
        hint: known
          ? "use the legacy v1alpha1 field for this version, or upgrade Talos first"
          : "check the kind's spelling",
      });
    }
  }
}

function checkExtensions(docs: readonly ConfigDocument[], context: LintContext, add: Finder): void {
  const schematic =
    typeof context.schematic === "string" ? parseSchematic(context.schematic) : context.schematic;
  for (const doc of docs) {
    if (documentKind(doc) !== "ExtensionServiceConfig") continue;
    const label = documentLabel(doc);
    const env = asStrings(doc.environment);
    const seen = new Map<string, number>();
    env.forEach((entry, i) => {
      const name = environmentName(entry);
      const first = seen.get(name);
      if (first === undefined) {
        seen.set(name, i);
        return;
      }
      add({
        code: "DUPLICATE_ENVIRONMENT_VARIABLE",
        severity: "error",
        path: `${label}:environment[${i}]`,
        message: `${name} is set again (first at environment[${first}]); a strategic-merge patch appends to environment`,
        hint: "replace the variable in place (setExtensionEnvironment) instead of patching it in again",
      });
    });
    const names = new Set(env.map(environmentName));
    if (doc.name === "cloudflared" && !names.has("TUNNEL_TOKEN")) {
      add({
        code: "EXTENSION_SECRET_MISSING",
        severity: "error",
        path: `${label}:environment`,
        message: "cloudflared has no TUNNEL_TOKEN; the service cannot connect the tunnel",
        hint: "add TUNNEL_TOKEN=<tunnel token> (cloudflaredServiceConfig)",
      });
    }
    if (doc.name === "tailscale" && !names.has("TS_AUTHKEY") && !names.has("TS_AUTH_KEY")) {
      add({
        code: "EXTENSION_SECRET_MISSING",
        severity: "error",
        path: `${label}:environment`,
        message: "tailscale has no TS_AUTHKEY; the node cannot join the tailnet",
        hint: "add TS_AUTHKEY=<auth key> (tailscaleServiceConfig)",
      });
    }
    if (schematic !== undefined && typeof doc.name === "string") {
      const wanted = (KNOWN_EXTENSION_SERVICES as Record<string, string>)[doc.name];
      const installed = schematic.officialExtensions.some(
        (e) => e === wanted || e.split("/").pop() === doc.name,
      );
      if (!installed) {
        add({
          code: "EXTENSION_NOT_IN_SCHEMATIC",
          severity: "error",
          path: label,
          message: `the ${doc.name} service is configured but the schematic has no ${wanted ?? doc.name} extension`,
          hint: `add ${wanted ?? `<vendor>/${doc.name}`} to the schematic and upgrade to its installer image`,
        });
      }
    }
  }
}

function serviceSubnetsOf(docs: readonly ConfigDocument[], context: LintContext): string[] {
  if (context.serviceSubnets) return context.serviceSubnets;
  for (const doc of docs) {
    const legacy = isV1Alpha1Document(doc) ? asStrings(get(doc, "cluster", "network", "serviceSubnets")) : [];
    if (legacy.length > 0) return legacy;
    if (documentKind(doc) === "KubeNetworkConfig") return asStrings(doc.serviceSubnets);
  }
  return [];
}

/** CoreDNS ClusterIPs of common distribution defaults, to spot a copied-over nameserver. */
const WELL_KNOWN_SERVICE_SUBNETS = [
  "10.96.0.0/12",
  "10.43.0.0/16",
  "10.0.0.0/16",
  "10.100.0.0/16",
  "10.152.183.0/24",
];

function checkNameservers(docs: readonly ConfigDocument[], context: LintContext, add: Finder): void {
  const entries: { address: string; path: string }[] = [];
  for (const doc of docs) {
    if (isV1Alpha1Document(doc)) {
      asStrings(get(doc, "machine", "network", "nameservers")).forEach((address, i) => {
        entries.push({ address, path: `v1alpha1:machine.network.nameservers[${i}]` });
      });
    } else if (documentKind(doc) === "ResolverConfig") {
      asArray(doc.nameservers).forEach((ns, i) => {
        const address = get(ns, "address");
        if (typeof address === "string")
          entries.push({ address, path: `ResolverConfig:nameservers[${i}].address` });
      });
    }
  }
  if (entries.length === 0) return;
  const subnets = serviceSubnetsOf(docs, context)
    .map((s) => tryParseCidr(s))
    .filter((c): c is Cidr => c !== undefined);
  if (subnets.length === 0) return;
  const expected = corednsAddresses(subnets.map(formatCidr)).join(" / ");
  for (const entry of entries) {
    const ip = tryParseIp(entry.address);
    if (!ip) continue;
    const text = formatIp(ip);
    if (subnets.some((s) => cidrContains(s, ip))) {
      // internal/pkg/dns/handler.go tries upstreams in order; with forwardKubeDNSToHost CoreDNS's upstream
      // is the host DNS (controllers/network/etcfile.go), without it the machine nameservers: either way
      // CoreDNS ends up asking itself.
      add({
        code: "COREDNS_NAMESERVER_LOOP",
        severity: "error",
        path: entry.path,
        message: `nameserver ${text} is in the service subnet ${subnets.map(formatCidr).join(", ")}: the host DNS forwards to CoreDNS, which forwards back to the host DNS (a loop until the query limit; every lookup stalls before kube-proxy runs)`,
        hint: "remove it from the machine nameservers; the token coredns gives cloudflared alone a resolver that asks CoreDNS first",
      });
    } else if (WELL_KNOWN_SERVICE_SUBNETS.map((s) => corednsAddress(s)).includes(text)) {
      add({
        code: "COREDNS_NAMESERVER_MISMATCH",
        severity: "error",
        path: entry.path,
        message: `nameserver ${text} looks like a CoreDNS ClusterIP of another distribution; this cluster's CoreDNS is ${expected}, and no machine nameserver should point at CoreDNS`,
        hint: "remove it; the token coredns gives cloudflared alone a resolver that asks CoreDNS first",
      });
    }
  }
}

function checkNodeIp(
  docs: readonly ConfigDocument[],
  links: LinkView[],
  context: LintContext,
  add: Finder,
): void {
  const addressed = links.filter((l) => l.addresses.length > 0);
  const linkDocs = docs.filter((d) => ["LinkConfig", "VLANConfig"].includes(documentKind(d))).length;
  const legacyLinks = links.filter((l) => l.path.startsWith("v1alpha1:")).length;
  const count = Math.max(addressed.length, linkDocs + legacyLinks);
  if (count < 2) return;
  const pinned = docs.some(
    (d) =>
      asStrings(get(d, "machine", "kubelet", "nodeIP", "validSubnets")).length > 0 ||
      get(d, "machine", "kubelet", "extraArgs", "node-ip") !== undefined ||
      (documentKind(d) === "KubeNodeConfig" && asStrings(get(d, "nodeIP", "validSubnets")).length > 0) ||
      (documentKind(d) === "KubeletConfig" && get(d, "extraArgs", "node-ip") !== undefined),
  );
  if (pinned) return;
  add({
    code: "MULTIPLE_LINKS_WITHOUT_NODE_IP",
    severity: "warning",
    path: usesKubeDocuments(docs, context) ? "KubeNodeConfig:nodeIP" : "v1alpha1:machine.kubelet.nodeIP",
    message: `${count} links are configured but the kubelet node IP is not pinned; it may pick a VLAN, VIP or tunnel address`,
    hint: "set nodeIp.validSubnets to the LAN subnet (machine.kubelet.nodeIP ≤1.13, KubeNodeConfig.nodeIP 1.14+)",
  });
}

function endpointOf(docs: readonly ConfigDocument[]): { url: string; path: string } | undefined {
  for (const doc of docs) {
    const legacy = get(doc, "cluster", "controlPlane", "endpoint");
    if (isV1Alpha1Document(doc) && typeof legacy === "string")
      return { url: legacy, path: "v1alpha1:cluster.controlPlane.endpoint" };
    if (documentKind(doc) === "KubeClusterConfig" && typeof doc.endpoint === "string") {
      return { url: doc.endpoint, path: "KubeClusterConfig:endpoint" };
    }
  }
  return undefined;
}

function checkEndpoint(
  docs: readonly ConfigDocument[],
  links: LinkView[],
  context: LintContext,
  add: Finder,
): void {
  const endpoint = endpointOf(docs);
  if (!endpoint) return;
  let host: string;
  try {
    host = new URL(endpoint.url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return;
  }
  const ip = tryParseIp(host);
  if (!ip) return;
  const role = context.role ?? (get(docs.find(isV1Alpha1Document), "machine", "type") as string | undefined);
  const candidates = new Set<string>();
  for (const a of context.controlPlaneAddresses ?? []) {
    const parsed = tryParseIp(a) ?? tryParseCidr(a)?.address;
    if (parsed) candidates.add(formatIp(parsed));
  }
  if (role === "controlplane") {
    for (const link of links) {
      for (const a of link.addresses) candidates.add(formatIp(a.address));
      for (const v of link.vips) candidates.add(formatIp(v.ip));
    }
  }
  if (candidates.size === 0 || candidates.has(formatIp(ip))) return;
  const cluster = context.controlPlaneAddresses !== undefined;
  add({
    code: "ENDPOINT_NOT_CONTROL_PLANE",
    // Without the other control planes' addresses the endpoint may still be a peer's address.
    severity: cluster ? "error" : "warning",
    path: endpoint.path,
    message: cluster
      ? `the endpoint ${formatIp(ip)} is neither a control-plane address nor a VIP (${[...candidates].join(", ")})`
      : `the endpoint ${formatIp(ip)} is none of this control plane's addresses or VIPs (${[...candidates].join(", ")})`,
    hint: cluster
      ? "point the endpoint at a control-plane address or the shared VIP"
      : "point the endpoint at a control-plane address or the shared VIP; pass controlPlaneAddresses to check against every control plane",
  });
}

function checkInstall(docs: readonly ConfigDocument[], context: LintContext, add: Finder): void {
  for (const doc of docs.filter(isV1Alpha1Document)) {
    if (
      get(doc, "machine", "install", "disk") !== undefined &&
      get(doc, "machine", "install", "diskSelector") !== undefined
    ) {
      add({
        code: "INSTALL_DISK_AMBIGUOUS",
        severity: "error",
        path: "v1alpha1:machine.install",
        message: "machine.install sets both disk and diskSelector; Talos accepts only one",
        hint: "keep one (a generated config with an install disk plus a disk-selector patch ends up with both)",
      });
    }
  }
  if (context.requireInstallDisk === false) return;
  const legacy = docs.some(
    (d) =>
      isV1Alpha1Document(d) &&
      (get(d, "machine", "install", "disk") !== undefined ||
        get(d, "machine", "install", "diskSelector") !== undefined),
  );
  const unattended = docs.some(
    (d) =>
      documentKind(d) === "UnattendedInstallConfig" &&
      typeof get(d, "provisioning", "diskSelector", "match") === "string",
  );
  if (legacy || unattended) return;
  const modern = context.target !== undefined && !versionFeatures(context.target).legacyInstall;
  add({
    code: "INSTALL_DISK_MISSING",
    severity: "error",
    path: modern ? "UnattendedInstallConfig:provisioning.diskSelector" : "v1alpha1:machine.install.disk",
    message: "no install disk or disk selector is set; the node cannot install Talos",
    hint: "set install.disk (e.g. /dev/nvme0n1) or install.diskSelector in the node intent",
  });
}

function checkHostname(docs: readonly ConfigDocument[], add: Finder): void {
  const hostnameDocs = docs.filter((d) => documentKind(d) === "HostnameConfig");
  for (const doc of hostnameDocs) {
    if (typeof doc.hostname === "string" && doc.hostname !== "" && doc.auto !== "off") {
      add({
        code: "HOSTNAME_AUTO_CONFLICT",
        severity: "error",
        path: "HostnameConfig:auto",
        message: `HostnameConfig sets hostname with auto ${doc.auto === undefined ? "unset" : JSON.stringify(doc.auto)}; Talos requires auto: off with a hostname`,
        hint: 'set auto: "off" in the same patch (the generator writes auto: stable)',
      });
    }
  }
  const stable = docs.some(
    (d) => isV1Alpha1Document(d) && get(d, "machine", "features", "stableHostname") === true,
  );
  if (stable && hostnameDocs.length > 0) {
    add({
      code: "HOSTNAME_AUTO_CONFLICT",
      severity: "error",
      path: "v1alpha1:machine.features.stableHostname",
      message: "machine.features.stableHostname is set together with a HostnameConfig; Talos rejects the mix",
      hint: "remove machine.features.stableHostname (HostnameConfig auto: stable replaces it)",
    });
  }
}

/** True when the config is in the 1.14+ form (per the target, else by the presence of Kube* documents). */
function usesKubeDocuments(docs: readonly ConfigDocument[], context: LintContext): boolean {
  if (context.target !== undefined) return !versionFeatures(context.target).legacyKubernetes;
  return docs.some((d) => documentKind(d).startsWith("Kube") && documentKind(d) !== "KubeSpanConfig");
}

/**
 * Fields and values the target's schema refuses (Talos decodes with known fields only), as patches:
 * required fields are not checked. Kinds and legacy sections already reported are left out.
 */
function checkSchema(
  docs: readonly ConfigDocument[],
  context: LintContext,
  found: readonly LintFinding[],
  add: Finder,
): void {
  if (context.target === undefined) return;
  const reported = found
    .filter((f) => f.code === "LEGACY_FIELD_FOR_TARGET" || f.code === "LEGACY_AND_NEW_MIXED")
    .map((f) => f.path.slice("v1alpha1:".length));
  for (const issue of configIssues(docs, { target: context.target, partial: true })) {
    if (issue.path === "kind") continue;
    if (
      issue.document === "v1alpha1" &&
      reported.some((p) => issue.path === p || issue.path.startsWith(`${p}.`))
    )
      continue;
    add({
      code: "SCHEMA_VIOLATION",
      severity: "error",
      path: `${issue.document}:${issue.path}`,
      message: `${issue.path === "" ? issue.document : issue.path} ${issue.message} (Talos ${versionFeatures(context.target).line} refuses the document)`,
      hint: "fix or remove the field; see the official schema of the target's line",
    });
  }
}

const SEVERITY_ORDER: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

/**
 * Checks a machine config (or a set of patches) for mistakes Talos would reject or that break a homelab
 * quietly. Pure: reads only `docs` and `context`.
 *
 * @throws TalosConfigError only for an unreadable `context.schematic` text (`PARSE_ERROR` / `INVALID_INPUT`). Findings are sorted by severity, then in check order; messages
 * never carry secret values.
 */
export function lint(docs: readonly ConfigDocument[], context: LintContext = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const add: Finder = (f) => findings.push(f);
  const links = linkViews(docs);
  checkNodeIp(docs, links, context, add);
  checkNameservers(docs, context, add);
  checkLegacy(docs, context, add);
  checkExtensions(docs, context, add);
  checkLinks(links, add);
  checkEndpoint(docs, links, context, add);
  checkInstall(docs, context, add);
  checkHostname(docs, add);
  checkSchema(docs, context, findings, add);
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map((e) => e.f);
}
