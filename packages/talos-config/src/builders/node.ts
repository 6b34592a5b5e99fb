import { buildExtensionServices } from "../extensions.js";
import { type ConfigDocument, documentKey, documentKind } from "../model/document.js";
import { isPlainObject } from "../patch/values.js";
import { parseTalosVersion } from "../version.js";
import { buildInstall } from "./install.js";
import type { NodeIntent } from "./intent.js";
import { type BuildNodeIpOptions, buildClusterSettings, buildNodeIp } from "./kubernetes.js";
import { buildMachineSettings } from "./machine.js";
import {
  buildHostname,
  buildInterfaces,
  buildNameservers,
  buildStaticHosts,
  buildTimeServers,
  cloudflaredNameservers,
  lanSubnets,
} from "./network.js";
import { fail, mergeFragments, requireArray } from "./util.js";

const KIND_ORDER = [
  "v1alpha1",
  "HostnameConfig",
  "LinkAliasConfig",
  "LinkConfig",
  "VLANConfig",
  "DHCPv4Config",
  "DHCPv6Config",
  "Layer2VIPConfig",
  "ResolverConfig",
  "TimeSyncConfig",
  "StaticHostConfig",
  "KubeClusterConfig",
  "KubeAPIServerConfig",
  "KubeNetworkConfig",
  "KubeFlannelCNIConfig",
  "KubeletConfig",
  "KubeNodeConfig",
  "KubeInlineManifestConfig",
  "KubeExternalManifestConfig",
  "UnattendedInstallConfig",
  "ExtensionServiceConfig",
];

/**
 * Combines builder output: all v1alpha1 fragments into one document, documents with the same
 * (kind, name) merged, the result ordered by kind (v1alpha1 first), then by build order.
 *
 * @internal
 */
export function combineDocuments(parts: readonly ConfigDocument[]): ConfigDocument[] {
  const byKey = new Map<string, ConfigDocument>();
  for (const doc of parts) {
    const key = documentKey(doc);
    const id = `${key.kind}\u0000${key.name}`;
    const existing = byKey.get(id);
    byKey.set(id, existing === undefined ? doc : mergeFragments(existing, doc));
  }
  const rank = (doc: ConfigDocument): number => {
    const index = KIND_ORDER.indexOf(documentKind(doc));
    return index < 0 ? KIND_ORDER.length : index;
  };
  return [...byKey.values()]
    .map((doc, order) => ({ doc, order }))
    .sort((a, b) => rank(a.doc) - rank(b.doc) || a.order - b.order)
    .map((entry) => entry.doc);
}

/**
 * The patch documents for one node on its target Talos version: hostname, interfaces, kubelet node IP
 * (pinned to the LAN: `nodeIp`, else the subnets of the interface holding the default gateway),
 * nameservers (the `coredns` token gives cloudflared a resolv.conf asking CoreDNS first, never the machine),
 * time servers, cluster settings, install, extension services.
 * The same intent gives legacy v1alpha1 fields or the new documents as the target expects, never both.
 *
 * @example
 * ```ts
 * const patches = buildNodePatches({
 *   target: "v1.13.9", role: "controlplane", hostname: "cp-1",
 *   interfaces: [{ name: "eno1", addresses: ["192.168.50.200/24"], gateway: "192.168.50.1" }],
 *   cluster: { endpoint: "https://192.168.50.200:6443", podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] },
 * });
 * ```
 * @throws TalosConfigError `UNSUPPORTED_VERSION` (target), `INVALID_INPUT` / `INVALID_CIDR` naming the
 * field (e.g. `interfaces[0].gateway`), `UNKNOWN_EXTENSION` (`extensions.<name>`).
 */
export function buildNodePatches(intent: NodeIntent): ConfigDocument[] {
  if (!isPlainObject(intent)) fail("intent", "must be a mapping");
  const target = parseTalosVersion(intent.target);
  if (intent.role !== "controlplane" && intent.role !== "worker")
    fail("role", "must be controlplane or worker");
  if (!isPlainObject(intent.cluster)) fail("cluster", "must be a mapping");
  const interfaces = requireArray<NodeIntent["interfaces"][number]>(intent.interfaces, "interfaces");
  const parts: ConfigDocument[] = [];
  parts.push(...buildHostname({ target, hostname: intent.hostname }));
  parts.push(...buildInterfaces({ target, interfaces }));
  const cluster = buildClusterSettings({ target, role: intent.role, cluster: intent.cluster });
  if (intent.nodeIp !== undefined && !isPlainObject(intent.nodeIp)) {
    fail("nodeIp", "must be a mapping with validSubnets or address");
  }
  let nodeSubnets: string[] = [];
  if (intent.nodeIp === undefined) {
    const validSubnets = lanSubnets(interfaces);
    nodeSubnets = validSubnets;
    if (validSubnets.length > 0) parts.push(...buildNodeIp({ target, validSubnets }));
  } else {
    nodeSubnets = (intent.nodeIp.validSubnets ?? []).filter(
      (s) => typeof s === "string" && !s.startsWith("!"),
    );
    const options: BuildNodeIpOptions = { target };
    if (intent.nodeIp.validSubnets !== undefined) options.validSubnets = intent.nodeIp.validSubnets;
    if (intent.nodeIp.address !== undefined) options.address = intent.nodeIp.address;
    parts.push(...buildNodeIp(options));
  }
  if (intent.nameservers !== undefined || intent.searchDomains !== undefined) {
    const options: Parameters<typeof buildNameservers>[0] = {
      target,
      nameservers: intent.nameservers ?? [],
      serviceSubnets: intent.cluster.serviceSubnets,
    };
    if (intent.searchDomains !== undefined) options.searchDomains = intent.searchDomains;
    parts.push(...buildNameservers(options));
  }
  if (intent.extraHosts !== undefined) parts.push(...buildStaticHosts({ target, hosts: intent.extraHosts }));
  if (intent.timeServers !== undefined)
    parts.push(...buildTimeServers({ target, servers: intent.timeServers }));
  parts.push(...cluster);
  // etcd advertises the node-IP subnets too: otherwise a Tailscale 100.64.0.0/10 address, which sorts
  // before 192.168.0.0/16, becomes the peer address.
  const settings: Parameters<typeof buildMachineSettings>[0] = {
    target,
    role: intent.role,
    etcdAdvertisedSubnets: nodeSubnets,
  };
  for (const key of [
    "labels",
    "taints",
    "sysctls",
    "registryMirrors",
    "kubespan",
    "userVolumes",
    "externalLoadBalancers",
  ] as const) {
    if (intent[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = intent[key];
  }
  parts.push(...buildMachineSettings(settings));
  if (intent.install !== undefined) parts.push(...buildInstall({ target, install: intent.install }));
  if (intent.extensions !== undefined) {
    const extensions = { ...intent.extensions };
    const resolvers =
      intent.nameservers === undefined
        ? undefined
        : cloudflaredNameservers(
            requireArray<string>(intent.nameservers, "nameservers"),
            intent.cluster.serviceSubnets,
          );
    if (
      isPlainObject(extensions.cloudflared) &&
      extensions.cloudflared.nameservers === undefined &&
      resolvers
    )
      extensions.cloudflared = { ...extensions.cloudflared, nameservers: resolvers };
    parts.push(...buildExtensionServices(extensions));
  }
  return combineDocuments(parts);
}
