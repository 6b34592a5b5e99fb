import { isIP } from "node:net";
import { HomelabError } from "../../errors.js";
import type {
  ConfigDocument,
  JsonPatchOperation,
  NodeIntent,
  SecretsBundle,
  TalosConfigModule,
} from "../adapters/talos-config.js";
import type { HomelabConfig } from "../config/load.js";

type NodeConfig = HomelabConfig["nodes"][number];

/** The IPv4/IPv6 network of an address in CIDR notation, e.g. 192.168.50.200/24 -> 192.168.50.0/24. */
export function networkOf(cidr: string): string {
  const [addr = "", bitsText = "0"] = cidr.split("/");
  const bits = Number(bitsText);
  if (isIP(addr) !== 4) return cidr;
  const n = addr.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join(".")}/${bits}`;
}

/** The Talos version a node runs: its own, else the cluster's. */
export function nodeVersion(config: HomelabConfig, node: NodeConfig): string {
  return node.talosVersion ?? config.cluster.talosVersion;
}

/** What a node intent needs beyond homelab.yaml. */
export interface IntentExtras {
  /** The tunnel token for cloudflared (omitted: no cloudflared config). */
  tunnelToken?: string;
  /** Installer image from the schematic. */
  installImage?: string;
  /** Include the tailscale ExtensionServiceConfig (it carries the auth key: never for files on disk). */
  withTailscale?: boolean;
}

type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** A copy of `value` without its `undefined` properties (talos-config's intents are exact-optional). */
function defined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Defined<T>;
}

/** Maps one homelab.yaml node to the talos-config NodeIntent. */
export function nodeIntent(config: HomelabConfig, node: NodeConfig, extras: IntentExtras = {}): NodeIntent {
  const c = config.cluster;
  const interfaces = node.interfaces.map((f) => {
    const out: NodeIntent["interfaces"][number] = {};
    if (f.name !== undefined) out.name = f.name;
    if (f.selector !== undefined) out.selector = defined(f.selector);
    if (f.addresses !== undefined) out.addresses = [...f.addresses];
    if (f.gateway !== undefined) out.gateway = f.gateway;
    if (f.routes !== undefined) out.routes = f.routes.map(defined);
    if (f.dhcp !== undefined) out.dhcp = f.dhcp;
    if (f.mtu !== undefined) out.mtu = f.mtu;
    if (f.vlans !== undefined)
      out.vlans = f.vlans.map(({ routes, ...v }) =>
        routes === undefined ? defined(v) : { ...defined(v), routes: routes.map(defined) },
      );
    if (f.vip !== undefined && node.role === "controlplane") out.vip = f.vip;
    return out;
  });
  const own = node.interfaces.flatMap((f) => f.addresses ?? []).find((a) => a.split("/")[0] === node.address);
  const intent: NodeIntent = {
    target: nodeVersion(config, node),
    role: node.role,
    hostname: node.name,
    interfaces,
    nameservers: [...(node.nameservers ?? c.nameservers)],
    cluster: {
      endpoint: c.endpoint,
      podSubnets: [...c.network.podSubnets],
      serviceSubnets: [...c.network.serviceSubnets],
      allowSchedulingOnControlPlanes: c.allowSchedulingOnControlPlanes,
    },
  };
  if (own) intent.nodeIp = { validSubnets: [networkOf(own)] };
  if (c.cni)
    intent.cluster.cni = c.cni.urls ? { name: c.cni.name, urls: [...c.cni.urls] } : { name: c.cni.name };
  if (c.kubespan !== undefined) intent.kubespan = c.kubespan;
  if (c.registryMirrors) intent.registryMirrors = structuredClone(c.registryMirrors);
  const labels = { ...c.labels, ...node.labels };
  if (Object.keys(labels).length > 0) intent.labels = labels;
  if (node.taints) intent.taints = { ...node.taints };
  const sysctls = { ...c.sysctls, ...node.sysctls };
  if (Object.keys(sysctls).length > 0) intent.sysctls = sysctls;
  if (node.userVolumes) intent.userVolumes = node.userVolumes.map(defined);
  const controlPlanes = config.nodes.filter((n) => n.role === "controlplane").length;
  // A lone control plane that runs workloads is the only node external load balancers can use.
  if (node.role === "controlplane" && controlPlanes === 1 && c.allowSchedulingOnControlPlanes)
    intent.externalLoadBalancers = true;
  if (c.certSANs) intent.cluster.certSANs = [...c.certSANs];
  if (c.timeServers) intent.timeServers = [...c.timeServers];
  const install: NonNullable<NodeIntent["install"]> = {};
  if (node.installDisk) install.disk = node.installDisk;
  if (node.installDiskSelector) install.diskSelector = defined(node.installDiskSelector);
  if (node.wipe !== undefined) install.wipe = node.wipe;
  if (extras.installImage) install.image = extras.installImage;
  if (Object.keys(install).length > 0) intent.install = install;
  const extensions: NonNullable<NodeIntent["extensions"]> = {};
  if (extras.tunnelToken && node.tunnel && c.extensions.includes("siderolabs/cloudflared")) {
    extensions.cloudflared = { token: extras.tunnelToken };
  }
  const ts = config.tailscale;
  if (
    extras.withTailscale &&
    ts &&
    node.tailscale !== false &&
    c.extensions.includes("siderolabs/tailscale")
  ) {
    const perNode = node.tailscale === undefined ? {} : node.tailscale;
    const hostname = perNode.hostname ?? (ts.hostname ? `${ts.hostname}-${node.name}` : node.name);
    const t: NonNullable<NonNullable<NodeIntent["extensions"]>["tailscale"]> = {
      authKey: ts.authKey.reveal(),
      hostname,
    };
    if (ts.routes) t.routes = [...ts.routes];
    if (ts.authOnce !== undefined) t.authOnce = ts.authOnce;
    const extraArgs = [...(ts.extraArgs ?? []), ...(perNode.extraArgs ?? [])];
    if (extraArgs.length > 0) t.extraArgs = extraArgs;
    extensions.tailscale = t;
  }
  if (Object.keys(extensions).length > 0) intent.extensions = extensions;
  return intent;
}

/** How a node's documents become text: `tc.stringifyDocuments`, or {@link sharedStringify}'s. */
export type StringifyDocuments = (docs: readonly ConfigDocument[]) => string;

/**
 * `tc.stringifyDocuments` that writes each distinct document once: the nodes of a cluster share most
 * of theirs (v1alpha1, resolvers, extension services), so reading many nodes writes those once. The
 * texts hold secrets: keep the function for one run only.
 */
export function sharedStringify(tc: TalosConfigModule): StringifyDocuments {
  const written = new Map<string, string>();
  return (docs) =>
    docs
      .map((doc) => {
        const key = JSON.stringify(doc);
        let text = written.get(key);
        if (text === undefined) {
          text = tc.stringifyDocuments([doc]);
          written.set(key, text);
        }
        return text;
      })
      .join("---\n");
}

/**
 * One node's patches (from its intent and the schematic's installer image) and its complete machine
 * config: generateConfig with those patches, rendered on demand.
 */
export function nodeMachineConfig(
  tc: TalosConfigModule,
  config: HomelabConfig,
  node: NodeConfig,
  bundle: SecretsBundle,
  extras: Omit<IntentExtras, "installImage"> & { schematicId: string },
): { patches: ConfigDocument[]; render(stringify?: StringifyDocuments): string } {
  const { schematicId, ...intentExtras } = extras;
  const target = nodeVersion(config, node);
  const installImage = tc.installerImage({ schematicId, version: target });
  const { strategic, json } = userPatches(tc, config, node);
  const patches = withStrategic(tc, config, node, { ...intentExtras, installImage }, strategic);
  const c = config.cluster;
  return {
    patches,
    render: (stringify = tc.stringifyDocuments) => {
      const docs = tc.generateConfig({
        secrets: bundle,
        role: node.role,
        clusterName: c.name,
        endpoint: c.endpoint,
        target,
        kubernetesVersion: c.kubernetesVersion,
        patches: [patches, ...json],
      });
      tc.validateConfig(docs, { target });
      return stringify(docs);
    },
  };
}

/**
 * One node's patch documents, checked against its Talos line the way Talos loads them (unknown kinds
 * and fields are refused) before anything is written or applied.
 */
export function nodePatches(
  tc: TalosConfigModule,
  config: HomelabConfig,
  node: NodeConfig,
  extras: IntentExtras = {},
): ConfigDocument[] {
  const { strategic, json } = userPatches(tc, config, node);
  if (json.length > 0)
    throw new HomelabError(
      "USAGE",
      `node ${node.name}: JSON6902 patches cannot go into a patch file with other documents; use the direct engine (homelab up --engine direct) or write them as strategic-merge patches`,
    );
  return withStrategic(tc, config, node, extras, strategic);
}

function withStrategic(
  tc: TalosConfigModule,
  config: HomelabConfig,
  node: NodeConfig,
  extras: IntentExtras,
  strategic: ConfigDocument[],
): ConfigDocument[] {
  const patches = [...tc.buildNodePatches(nodeIntent(config, node, extras)), ...strategic];
  tc.validateConfig(patches, { target: nodeVersion(config, node), partial: true });
  return patches;
}

/**
 * The node's free-form patches from homelab.yaml, in order: `cluster.patches.all`, the role's, the
 * node's own. Strategic-merge documents and JSON6902 operation lists are told apart as Talos does
 * (`loadPatch`); JSON6902 applies only to a single-document config, which no line from 1.12 on generates.
 */
function userPatches(
  tc: TalosConfigModule,
  config: HomelabConfig,
  node: NodeConfig,
): { strategic: ConfigDocument[]; json: JsonPatchOperation[][] } {
  const sources = [
    ...(config.cluster.patches?.all ?? []).map((p, i) => ({ p, where: `cluster.patches.all[${i}]` })),
    ...(config.cluster.patches?.[node.role] ?? []).map((p, i) => ({
      p,
      where: `cluster.patches.${node.role}[${i}]`,
    })),
    ...(node.patches ?? []).map((p, i) => ({ p, where: `nodes.${node.name}.patches[${i}]` })),
  ];
  const strategic: ConfigDocument[] = [];
  const json: JsonPatchOperation[][] = [];
  const single = tc.versionFeatures(nodeVersion(config, node)).generatorDocuments.length === 1;
  for (const { p, where } of sources) {
    const loaded = typeof p === "string" ? tc.loadPatch(p) : Array.isArray(p) ? p : [p];
    const isJson = loaded.length > 0 && loaded.every((d) => typeof d === "object" && d !== null && "op" in d);
    if (isJson) {
      if (!single)
        throw new HomelabError(
          "USAGE",
          `${where}: a JSON6902 patch applies only to a single-document config; Talos ${nodeVersion(config, node)} generates several documents, so write it as a strategic-merge patch`,
        );
      json.push(loaded as JsonPatchOperation[]);
    } else strategic.push(...(loaded as ConfigDocument[]));
  }
  return { strategic, json };
}
