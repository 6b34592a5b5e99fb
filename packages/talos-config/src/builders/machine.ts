import { LABEL_EXCLUDE_FROM_EXTERNAL_LB } from "../generate/defaults.js";
import type { ConfigDocument } from "../model/document.js";
import { formatCidr, networkOf, parseCidr } from "../net.js";
import { isPlainObject } from "../patch/values.js";
import { parseTalosVersion, type TalosVersion } from "../version.js";
import type { NodeIntent } from "./intent.js";
import { fail, multiDoc, requireArray, requireString, v1alpha1 } from "./util.js";

const LABEL_KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const TAINT_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
const SYSCTL_RE = /^[a-z0-9_]+([./][a-z0-9_-]+)+$/;

function stringMap(value: unknown, field: string, check: (key: string, value: string, at: string) => void) {
  if (!isPlainObject(value)) fail(field, "must be a mapping");
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    const at = `${field}.${key}`;
    if (typeof item !== "string") fail(at, "must be a string");
    check(key, item, at);
    out[key] = item;
  }
  return out;
}

/** Options for {@link buildMachineSettings}. */
export interface BuildMachineSettingsOptions {
  target: string | TalosVersion;
  role: NodeIntent["role"];
  labels?: NodeIntent["labels"];
  taints?: NodeIntent["taints"];
  sysctls?: NodeIntent["sysctls"];
  registryMirrors?: NodeIntent["registryMirrors"];
  kubespan?: NodeIntent["kubespan"];
  userVolumes?: NodeIntent["userVolumes"];
  externalLoadBalancers?: NodeIntent["externalLoadBalancers"];
  /** Control planes: the subnets etcd advertises on (the node-IP subnets). */
  etcdAdvertisedSubnets?: string[];
}

/**
 * Node labels and taints, sysctls, registry mirrors, KubeSpan, user volumes, the etcd advertised subnets
 * and the external-load-balancer label, each in the form the target line takes: ≤1.13 `machine.nodeLabels`
 * / `nodeTaints` / `sysctls`, 1.14+ KubeNodeConfig and SysctlConfig; ≤1.11 `machine.registries.mirrors`,
 * 1.12+ RegistryMirrorConfig; ≤1.12 `machine.network.kubespan`, 1.13+ KubeSpanConfig; UserVolumeConfig on
 * every line; `cluster.etcd.advertisedSubnets` on every line.
 *
 * @internal
 */
export function buildMachineSettings(options: BuildMachineSettingsOptions): ConfigDocument[] {
  const minor = parseTalosVersion(options.target).minor;
  const controlPlane = options.role === "controlplane";
  const docs: ConfigDocument[] = [];
  const machine: ConfigDocument = {};
  const labels =
    options.labels === undefined
      ? {}
      : stringMap(options.labels, "labels", (key, _v, at) => {
          if (!LABEL_KEY_RE.test(key)) fail(at, "is not a Kubernetes label key");
        });
  const taints =
    options.taints === undefined
      ? {}
      : stringMap(options.taints, "taints", (key, value, at) => {
          if (!LABEL_KEY_RE.test(key)) fail(at, "is not a Kubernetes taint key");
          if (!TAINT_RE.test(value))
            fail(at, 'must be "value:Effect" or ":Effect" (NoSchedule, PreferNoSchedule, NoExecute)');
        });
  const dropLbLabel = controlPlane && options.externalLoadBalancers === true;
  const node: ConfigDocument = {};
  if (Object.keys(labels).length > 0 || dropLbLabel) {
    const all: Record<string, unknown> = { ...labels };
    // The generator labels control planes with it; a patch deletes the generated key.
    if (dropLbLabel) all[LABEL_EXCLUDE_FROM_EXTERNAL_LB] = { $patch: "delete" };
    if (minor <= 13) machine.nodeLabels = all;
    else node.labels = all;
  }
  if (Object.keys(taints).length > 0) {
    if (minor <= 13) machine.nodeTaints = taints;
    else node.taints = taints;
  }
  if (Object.keys(node).length > 0) docs.push(multiDoc("KubeNodeConfig", node));
  if (options.sysctls !== undefined) {
    const sysctls = stringMap(options.sysctls, "sysctls", (key, _v, at) => {
      if (!SYSCTL_RE.test(key)) fail(at, "is not a sysctl name like net.ipv4.ip_forward");
    });
    if (Object.keys(sysctls).length > 0) {
      if (minor <= 13) machine.sysctls = sysctls;
      else docs.push(multiDoc("SysctlConfig", { params: sysctls }));
    }
  }
  if (options.registryMirrors !== undefined) {
    if (!isPlainObject(options.registryMirrors))
      fail("registryMirrors", "must be a mapping of registry to endpoint URLs");
    const mirrors: Record<string, { endpoints: string[] }> = {};
    for (const [registry, list] of Object.entries(options.registryMirrors)) {
      const at = `registryMirrors.${registry}`;
      if (!/^[a-z0-9.-]+(:\d+)?$|^\*$/i.test(registry)) fail(at, "is not a registry host like docker.io");
      const endpoints = requireArray<string>(list, at).map((url, i) => {
        const text = requireString(url, `${at}[${i}]`);
        if (!/^https?:\/\/\S+$/.test(text)) fail(`${at}[${i}]`, "must be an http(s) URL");
        return text;
      });
      if (endpoints.length === 0) fail(at, "must list at least one endpoint");
      mirrors[registry] = { endpoints };
    }
    if (minor <= 11) machine.registries = { mirrors };
    else
      for (const [name, { endpoints }] of Object.entries(mirrors))
        docs.push(multiDoc("RegistryMirrorConfig", { name, endpoints: endpoints.map((url) => ({ url })) }));
  }
  if (options.kubespan !== undefined) {
    if (typeof options.kubespan !== "boolean") fail("kubespan", "must be true or false");
    if (minor <= 12) machine.network = { kubespan: { enabled: options.kubespan } };
    else docs.push(multiDoc("KubeSpanConfig", { enabled: options.kubespan }));
  }
  for (const [i, volume] of (options.userVolumes === undefined
    ? []
    : requireArray<NonNullable<NodeIntent["userVolumes"]>[number]>(options.userVolumes, "userVolumes")
  ).entries()) {
    const at = `userVolumes[${i}]`;
    if (!isPlainObject(volume)) fail(at, "must be a mapping");
    const name = requireString(volume.name, `${at}.name`);
    if (!/^[a-z0-9]([a-z0-9-]{0,32}[a-z0-9])?$/.test(name))
      fail(`${at}.name`, "must be a short lower-case name");
    const provisioning: ConfigDocument = {
      diskSelector: { match: requireString(volume.diskSelector, `${at}.diskSelector`) },
    };
    if (volume.minSize !== undefined) provisioning.minSize = requireString(volume.minSize, `${at}.minSize`);
    if (volume.maxSize !== undefined) provisioning.maxSize = requireString(volume.maxSize, `${at}.maxSize`);
    docs.push(multiDoc("UserVolumeConfig", { name, provisioning }));
  }
  const cluster: ConfigDocument = {};
  if (
    controlPlane &&
    options.etcdAdvertisedSubnets !== undefined &&
    options.etcdAdvertisedSubnets.length > 0
  ) {
    cluster.etcd = {
      advertisedSubnets: options.etcdAdvertisedSubnets.map((s, i) =>
        formatCidr(networkOf(parseCidr(s, `etcdAdvertisedSubnets[${i}]`))),
      ),
    };
  }
  const legacy: ConfigDocument = {};
  if (Object.keys(machine).length > 0) legacy.machine = machine;
  if (Object.keys(cluster).length > 0) legacy.cluster = cluster;
  return Object.keys(legacy).length > 0 ? [v1alpha1(legacy), ...docs] : docs;
}
