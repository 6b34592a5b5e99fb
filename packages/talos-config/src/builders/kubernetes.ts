import type { ConfigDocument } from "../model/document.js";
import { formatCidr, formatIp, networkOf, parseCidr, parseIp, tryParseIp } from "../net.js";
import { isPlainObject } from "../patch/values.js";
import { type TalosVersion, usesLegacyKubernetes } from "../version.js";
import type { ClusterIntent, ExternalManifestIntent, InlineManifestIntent } from "./intent.js";
import { fail, multiDoc, requireArray, requireHostname, requireString, v1alpha1 } from "./util.js";

/** The taint that keeps workloads off control planes (1.14+ KubeNodeConfig). */
export const CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane";

/** Options for {@link buildNodeIp}: `validSubnets` or `address` (exactly one). */
export interface BuildNodeIpOptions {
  target: string | TalosVersion;
  /** CIDRs the kubelet picks its node IP from (`!` prefix excludes). */
  validSubnets?: string[];
  /** A fixed node IP, passed as the kubelet `node-ip` argument. */
  address?: string;
}

/**
 * Pins the kubelet node IP. Valid subnets: `machine.kubelet.nodeIP.validSubnets` (≤1.13) or KubeNodeConfig
 * `nodeIP.validSubnets` (1.14+). A fixed address: the kubelet `node-ip` argument in
 * `machine.kubelet.extraArgs` (≤1.13) or KubeletConfig `extraArgs` (1.14+; a patch for the generated
 * KubeletConfig, which carries the required image).
 *
 * @throws TalosConfigError `INVALID_CIDR` naming `nodeIp.validSubnets[i]`, `INVALID_INPUT` (`nodeIp`,
 * `nodeIp.address`), `UNSUPPORTED_VERSION`.
 */
export function buildNodeIp(options: BuildNodeIpOptions): ConfigDocument[] {
  const legacy = usesLegacyKubernetes(options.target);
  if ((options.validSubnets === undefined) === (options.address === undefined)) {
    fail("nodeIp", "set validSubnets or address (exactly one)");
  }
  if (options.address !== undefined) {
    const address = formatIp(parseIp(options.address, "nodeIp.address"));
    if (legacy) return [v1alpha1({ machine: { kubelet: { extraArgs: { "node-ip": address } } } })];
    return [multiDoc("KubeletConfig", { extraArgs: { "node-ip": address } })];
  }
  const subnets = requireArray<string>(options.validSubnets, "nodeIp.validSubnets").map((subnet, i) => {
    const field = `nodeIp.validSubnets[${i}]`;
    const negated = typeof subnet === "string" && subnet.startsWith("!");
    const cidr = parseCidr(negated ? subnet.slice(1) : subnet, field);
    return `${negated ? "!" : ""}${formatCidr(networkOf(cidr))}`;
  });
  if (subnets.length === 0) fail("nodeIp.validSubnets", "must list at least one subnet");
  if (legacy) {
    return [v1alpha1({ machine: { kubelet: { nodeIP: { validSubnets: subnets } } } })];
  }
  return [multiDoc("KubeNodeConfig", { nodeIP: { validSubnets: subnets } })];
}

function parseSubnets(value: unknown, field: string): string[] {
  const list = requireArray<string>(value, field);
  if (list.length === 0) fail(field, "must list at least one subnet");
  return list.map((item, i) => {
    const cidr = parseCidr(item, `${field}[${i}]`);
    const network = formatCidr(networkOf(cidr));
    if (network !== formatCidr(cidr))
      fail(`${field}[${i}]`, `${item} has host bits set (did you mean ${network}?)`, "INVALID_CIDR");
    return network;
  });
}

function parseHttpsEndpoint(value: unknown, field: string): string {
  const text = requireString(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(field, `${JSON.stringify(text)} is not a URL like https://192.168.50.200:6443`);
  }
  if (url.protocol !== "https:") fail(field, "must start with https://");
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== "/" && url.pathname !== "")
  ) {
    fail(field, "must be https://host:port without path, query or credentials");
  }
  return text.replace(/\/$/, "");
}

function parseUrl(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (!/^https?:\/\/\S+$/.test(text)) fail(field, `${JSON.stringify(text)} is not an http(s) URL`);
  return text;
}

function manifestName(url: string): string {
  const last =
    url
      .replace(/[?#].*$/, "")
      .replace(/\/+$/, "")
      .split("/")
      .pop() ?? "manifest";
  const base = last
    .replace(/\.(ya?ml|json)$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return base === "" ? "manifest" : base;
}

interface ParsedExternal {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

function parseExternal(list: unknown, field: string, taken: Set<string>, prefix = ""): ParsedExternal[] {
  return requireArray<string | ExternalManifestIntent>(list, field).map((entry, i) => {
    const at = `${field}[${i}]`;
    const intent: ExternalManifestIntent = typeof entry === "string" ? { url: entry } : entry;
    if (!isPlainObject(intent)) fail(at, "must be a URL or a mapping with url");
    const url = parseUrl(intent.url, typeof entry === "string" ? at : `${at}.url`);
    let name =
      intent.name === undefined ? `${prefix}${manifestName(url)}` : requireString(intent.name, `${at}.name`);
    if (intent.name === undefined) {
      const base = name;
      for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    } else if (taken.has(name)) {
      fail(`${at}.name`, `manifest name ${name} is used twice`);
    }
    taken.add(name);
    const out: ParsedExternal = { name, url };
    if (intent.headers !== undefined) {
      if (!isPlainObject(intent.headers))
        fail(`${at}.headers`, "must be a mapping of header names to values");
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(intent.headers))
        headers[k] = requireString(v, `${at}.headers.${k}`, true);
      out.headers = headers;
    }
    return out;
  });
}

function parseInline(list: unknown, field: string, taken: Set<string>): InlineManifestIntent[] {
  return requireArray<InlineManifestIntent>(list, field).map((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(entry)) fail(at, "must be a mapping with name and contents");
    const name = requireString(entry.name, `${at}.name`);
    if (taken.has(name)) fail(`${at}.name`, `manifest name ${name} is used twice`);
    taken.add(name);
    if (typeof entry.contents !== "string" || entry.contents.trim() === "")
      fail(`${at}.contents`, "must be non-empty text");
    return { name, contents: entry.contents };
  });
}

function parseCertSans(value: unknown): string[] {
  return requireArray<string>(value, "cluster.certSANs").map((san, i) => {
    const field = `cluster.certSANs[${i}]`;
    const text = requireString(san, field);
    return tryParseIp(text) ? text : requireHostname(text, field);
  });
}

/** Options for {@link buildClusterSettings}. */
export interface BuildClusterSettingsOptions {
  target: string | TalosVersion;
  role: "controlplane" | "worker";
  cluster: ClusterIntent;
}

/**
 * Cluster endpoint and name, pod/service subnets, DNS domain, CNI, scheduling on control planes, certSANs,
 * inline and external manifests. ≤1.13: `cluster.*` of v1alpha1; 1.14+: KubeClusterConfig,
 * KubeNetworkConfig, KubeFlannelCNIConfig (control planes: present = flannel; `$patch: delete` for custom/none),
 * KubeNodeConfig taints, KubeInlineManifestConfig, KubeExternalManifestConfig. certSANs go to the Talos
 * API certificate (`machine.certSANs`, every line and role) and, on control planes, to the Kubernetes API
 * server certificate (`cluster.apiServer.certSANs` ≤1.13, KubeAPIServerConfig `certExtraSANs` 1.14+).
 * Manifests and scheduling only go to control planes.
 *
 * @throws TalosConfigError `INVALID_INPUT` / `INVALID_CIDR` naming `cluster.<field>`, `UNSUPPORTED_VERSION`.
 */
export function buildClusterSettings(options: BuildClusterSettingsOptions): ConfigDocument[] {
  const { cluster, role } = options;
  if (!isPlainObject(cluster)) fail("cluster", "must be a mapping");
  if (role !== "controlplane" && role !== "worker") fail("role", "must be controlplane or worker");
  const legacy = usesLegacyKubernetes(options.target);
  const endpoint = parseHttpsEndpoint(cluster.endpoint, "cluster.endpoint");
  const name = cluster.name === undefined ? undefined : requireHostname(cluster.name, "cluster.name");
  const podSubnets = parseSubnets(cluster.podSubnets, "cluster.podSubnets");
  const serviceSubnets = parseSubnets(cluster.serviceSubnets, "cluster.serviceSubnets");
  const dnsDomain =
    cluster.dnsDomain === undefined ? undefined : requireHostname(cluster.dnsDomain, "cluster.dnsDomain");
  const certSANs = cluster.certSANs === undefined ? [] : parseCertSans(cluster.certSANs);
  const cni = typeof cluster.cni === "string" ? { name: cluster.cni } : cluster.cni;
  let cniUrls: string[] = [];
  if (cni !== undefined) {
    if (!isPlainObject(cni) || !["flannel", "custom", "none"].includes(cni.name)) {
      fail("cluster.cni.name", "must be flannel, custom or none");
    }
    if (cni.name === "custom") {
      cniUrls = requireArray<string>(cni.urls, "cluster.cni.urls").map((u, i) =>
        parseUrl(u, `cluster.cni.urls[${i}]`),
      );
      if (cniUrls.length === 0) fail("cluster.cni.urls", "a custom CNI needs at least one manifest URL");
    } else if (cni.urls !== undefined && cni.urls.length > 0) {
      fail("cluster.cni.urls", `only a custom CNI takes urls (name is ${cni.name})`);
    }
  }
  const taken = new Set<string>();
  const inline =
    cluster.inlineManifests === undefined
      ? []
      : parseInline(cluster.inlineManifests, "cluster.inlineManifests", taken);
  const external =
    cluster.externalManifests === undefined
      ? []
      : parseExternal(cluster.externalManifests, "cluster.externalManifests", taken);
  let schedule: boolean | undefined;
  if (cluster.allowSchedulingOnControlPlanes !== undefined) {
    if (typeof cluster.allowSchedulingOnControlPlanes !== "boolean") {
      fail("cluster.allowSchedulingOnControlPlanes", "must be true or false");
    }
    schedule = cluster.allowSchedulingOnControlPlanes;
  }
  const isControlPlane = role === "controlplane";
  const machine: ConfigDocument = {};
  if (certSANs.length > 0) machine.certSANs = certSANs;

  if (legacy) {
    const network: ConfigDocument = { podSubnets, serviceSubnets };
    if (dnsDomain !== undefined) network.dnsDomain = dnsDomain;
    if (cni !== undefined)
      network.cni = cni.name === "custom" ? { name: "custom", urls: cniUrls } : { name: cni.name };
    const body: ConfigDocument = { controlPlane: { endpoint }, network };
    if (name !== undefined) body.clusterName = name;
    if (isControlPlane) {
      if (certSANs.length > 0) body.apiServer = { certSANs };
      if (schedule !== undefined) body.allowSchedulingOnControlPlanes = schedule;
      if (inline.length > 0)
        body.inlineManifests = inline.map((m) => ({ name: m.name, contents: m.contents }));
      if (external.length > 0) {
        body.extraManifests = external.map((m) => m.url);
        const headers: Record<string, string> = {};
        for (const m of external) {
          for (const [k, v] of Object.entries(m.headers ?? {})) {
            if (headers[k] !== undefined && headers[k] !== v) {
              fail(
                "cluster.externalManifests",
                `header ${k} differs between manifests; Talos ${String(options.target)} has one header set for all`,
              );
            }
            headers[k] = v;
          }
        }
        if (Object.keys(headers).length > 0) body.extraManifestHeaders = headers;
      }
    }
    const doc: ConfigDocument = { cluster: body };
    if (Object.keys(machine).length > 0) doc.machine = machine;
    return [v1alpha1(doc)];
  }

  const docs: ConfigDocument[] = [];
  if (Object.keys(machine).length > 0) docs.push(v1alpha1({ machine }));
  docs.push(
    multiDoc("KubeClusterConfig", name === undefined ? { endpoint } : { clusterName: name, endpoint }),
  );
  const network: ConfigDocument = { podSubnets, serviceSubnets };
  if (dnsDomain !== undefined) network.dnsDomain = dnsDomain;
  docs.push(multiDoc("KubeNetworkConfig", network));
  // Control planes only: the generator emits KubeFlannelCNIConfig for them alone, so a worker patch would
  // append an empty (invalid) document, and a delete would target a document that is not there.
  if (cni !== undefined && isControlPlane) {
    if (cni.name === "flannel") docs.push(multiDoc("KubeFlannelCNIConfig"));
    else docs.push(multiDoc("KubeFlannelCNIConfig", { $patch: "delete" }));
  }
  if (isControlPlane && schedule === true) {
    docs.push(multiDoc("KubeNodeConfig", { taints: { [CONTROL_PLANE_TAINT]: { $patch: "delete" } } }));
  }
  if (isControlPlane) {
    // A patch for the generated KubeAPIServerConfig, which carries the required image.
    if (certSANs.length > 0) docs.push(multiDoc("KubeAPIServerConfig", { certExtraSANs: certSANs }));
    for (const m of inline)
      docs.push(multiDoc("KubeInlineManifestConfig", { name: m.name, manifest: m.contents }));
    const cniManifests = parseExternal(cniUrls, "cluster.cni.urls", taken, "cni-");
    for (const m of [...cniManifests, ...external]) {
      docs.push(
        multiDoc(
          "KubeExternalManifestConfig",
          m.headers ? { name: m.name, url: m.url, headers: m.headers } : { name: m.name, url: m.url },
        ),
      );
    }
  }
  return docs;
}
