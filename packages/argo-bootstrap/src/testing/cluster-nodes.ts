import { createHash, randomBytes } from "node:crypto";
import { isRecord } from "../internal/util.js";
import { type ObjectStore, type ResourceType, type StoredObject, StoreError } from "./store.js";

// The part of the Kubernetes emulator that models the cluster's machines: Nodes as kubelets
// register them, Pods placed on them by a small scheduler (Deployment, StatefulSet and DaemonSet
// controllers, mirror pods of static pods), PodDisruptionBudgets kept current like the disruption
// controller, and the eviction subresource that honours them.

/** A taint on a Node (`spec.taints[]`). */
export interface NodeTaint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** A static pod the kubelet runs from its own manifests (shown in the API as a mirror pod). */
export interface StaticPodSpec {
  /** `kube-apiserver`: the mirror pod is `kube-apiserver-<node>` in kube-system, label `k8s-app`. */
  name: string;
  image: string;
  /** Talos' `talos.dev/config-version` annotation value, when the static pod comes from a config. */
  configVersion?: string;
}

/** A Node as its kubelet registers it. */
export interface NodeRegistration {
  name: string;
  internalIP: string;
  /** `v1.34.1` */
  kubeletVersion: string;
  /** Labels the node as a control plane (`node-role.kubernetes.io/control-plane`). */
  controlPlane?: boolean;
  taints?: NodeTaint[];
  /** Default true. */
  ready?: boolean;
  /** `Talos (v1.13.9)` */
  osImage?: string;
  staticPods?: StaticPodSpec[];
}

/** Control of the emulated cluster's Nodes (what kubelets and the node lifecycle controller do). */
export interface KubeNodes {
  /** Registers a Node (or updates the registration), as a kubelet does when it starts. */
  register(node: NodeRegistration): void;
  /** Ready (the kubelet posts status) or not (it stopped: the node is down or rebooting). */
  setReady(name: string, ready: boolean): void;
  /** Changes what the kubelet reports: its version, OS image, static pods. */
  update(name: string, changes: Partial<Omit<NodeRegistration, "name" | "internalIP">>): void;
  /** Deletes the Node (`kubectl delete node`); its pods go with it. */
  remove(name: string): void;
  /** The registered names. */
  names(): string[];
}

const NODE_TYPE: ResourceType = {
  group: "",
  version: "v1",
  resource: "nodes",
  singular: "node",
  kind: "Node",
  namespaced: false,
  shortNames: ["no"],
  statusSubresource: true,
  columns: [
    { name: "Status", jsonPath: "@nodeStatus", type: "string" },
    { name: "Version", jsonPath: ".status.nodeInfo.kubeletVersion", type: "string" },
  ],
};

const PDB_TYPE: ResourceType = {
  group: "policy",
  version: "v1",
  resource: "poddisruptionbudgets",
  singular: "poddisruptionbudget",
  kind: "PodDisruptionBudget",
  namespaced: true,
  shortNames: ["pdb"],
  statusSubresource: true,
};

const DAEMONSET_TYPE: ResourceType = {
  group: "apps",
  version: "v1",
  resource: "daemonsets",
  singular: "daemonset",
  kind: "DaemonSet",
  namespaced: true,
  shortNames: ["ds"],
  statusSubresource: true,
  categories: ["all"],
};

/** The resource types this part serves. */
export const CLUSTER_NODE_TYPES: readonly ResourceType[] = [NODE_TYPE, PDB_TYPE, DAEMONSET_TYPE];

/** Discovery entries of the pods subresources this part serves (core/v1). */
export const POD_SUBRESOURCES: readonly Record<string, unknown>[] = [
  {
    name: "pods/eviction",
    singularName: "",
    namespaced: true,
    group: "policy",
    version: "v1",
    kind: "Eviction",
    verbs: ["create"],
  },
];

const CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane";
/** talos pkg/machinery/constants: the annotation of a static pod with the config version it was rendered from. */
const CONFIG_VERSION_ANNOTATION = "talos.dev/config-version";
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function labelsOf(object: StoredObject): Record<string, string> {
  return record(object.metadata.labels) as Record<string, string>;
}

/** metav1.LabelSelector semantics: matchLabels and matchExpressions; an empty selector matches nothing here (PDB rule). */
export function labelSelectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector)) return false;
  const matchLabels = record(selector.matchLabels);
  const expressions = Array.isArray(selector.matchExpressions)
    ? selector.matchExpressions.filter(isRecord)
    : [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const e of expressions) {
    const key = String(e.key);
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = key in labels;
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(labels[key] as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key] as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isNodeReady(node: StoredObject): boolean {
  const conditions = Array.isArray(record(node.status).conditions)
    ? (record(node.status).conditions as Record<string, unknown>[])
    : [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

export function isPodReady(pod: StoredObject): boolean {
  const conditions = Array.isArray(record(pod.status).conditions)
    ? (record(pod.status).conditions as Record<string, unknown>[])
    : [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

function taintsOf(node: StoredObject): NodeTaint[] {
  const taints = record(node.spec).taints;
  return Array.isArray(taints) ? (taints.filter(isRecord) as unknown as NodeTaint[]) : [];
}

/** True when `tolerations` tolerate every NoSchedule/NoExecute taint of the node. */
function toleratesAll(tolerations: Record<string, unknown>[], taints: NodeTaint[]): boolean {
  return taints
    .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
    .every((taint) =>
      tolerations.some((tol) => {
        if (tol.effect !== undefined && tol.effect !== "" && tol.effect !== taint.effect) return false;
        if (tol.operator === "Exists")
          return tol.key === undefined || tol.key === "" || tol.key === taint.key;
        return tol.key === taint.key && (tol.value ?? "") === (taint.value ?? "");
      }),
    );
}

/** A template's hash, as the pod-template-hash label carries one. */
function templateHash(template: unknown): string {
  return createHash("sha256").update(JSON.stringify(template)).digest("hex").slice(0, 10);
}

function suffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
}

function controllerOf(pod: StoredObject): Record<string, unknown> | undefined {
  const refs = pod.metadata.ownerReferences;
  return Array.isArray(refs) ? refs.filter(isRecord).find((r) => r.controller === true) : undefined;
}

/** intstr.GetScaledValueFromIntOrPercent with rounding up. */
function scaled(value: unknown, total: number): number {
  if (typeof value === "number") return value;
  const match = /^(\d+)%$/.exec(String(value));
  if (match === null) return Number(value) || 0;
  return Math.ceil((Number(match[1]) * total) / 100);
}

/** A pod-level Kubernetes API error (kind Status). */
export class StatusError extends StoreError {
  constructor(
    status: number,
    reason: string,
    message: string,
    readonly details?: Record<string, unknown> | undefined,
  ) {
    super(status, reason, message);
  }
}

/**
 * The Node, Pod, DaemonSet and PodDisruptionBudget controllers over `store`: `step()` runs one round
 * (schedule, place, recompute budgets); `evict()` is the eviction subresource.
 */
export function createClusterNodes(store: ObjectStore): {
  nodes: KubeNodes;
  step(): void;
  evict(
    namespace: string,
    name: string,
    body: Record<string, unknown>,
    dryRun: boolean,
  ): Record<string, unknown>;
} {
  const podType = (): ResourceType => store.typeFor("v1", "Pod") as ResourceType;
  const nodeList = (): StoredObject[] => store.list(NODE_TYPE);

  function nodeStatus(node: NodeRegistration, ready: boolean, previous?: Record<string, unknown>) {
    const time = now();
    const previousReady = (Array.isArray(previous?.conditions) ? previous.conditions : []).find(
      (c: unknown) => isRecord(c) && c.type === "Ready",
    ) as Record<string, unknown> | undefined;
    const ready_ = ready
      ? { status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }
      : // kubernetes pkg/controller/nodelifecycle/node_lifecycle_controller.go tryUpdateNodeHealth
        { status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." };
    const transition =
      previousReady?.status === ready_.status ? String(previousReady.lastTransitionTime ?? time) : time;
    return {
      addresses: [
        { type: "InternalIP", address: node.internalIP },
        { type: "Hostname", address: node.name },
      ],
      nodeInfo: {
        kubeletVersion: node.kubeletVersion,
        kubeProxyVersion: node.kubeletVersion,
        osImage: node.osImage ?? "Talos",
        operatingSystem: "linux",
        architecture: "amd64",
        containerRuntimeVersion: "containerd://2.1.4",
        kernelVersion: "6.12.0-talos",
      },
      conditions: [{ type: "Ready", ...ready_, lastHeartbeatTime: time, lastTransitionTime: transition }],
    };
  }

  const registrations = new Map<string, NodeRegistration & { ready: boolean }>();

  function writeNode(name: string): void {
    const reg = registrations.get(name);
    if (reg === undefined) return;
    const current = store.get(NODE_TYPE, undefined, name);
    const unreachable: NodeTaint[] = reg.ready
      ? []
      : [
          { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
          { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
        ];
    const ownTaints = [...(reg.taints ?? []), ...unreachable];
    const labels = {
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      ...(reg.controlPlane ? { [CONTROL_PLANE_LABEL]: "" } : {}),
    };
    if (current === undefined) {
      // a Node deleted through the API comes back only when its kubelet runs and registers again
      if (!reg.ready) return;
      const created = store.create(
        NODE_TYPE,
        {
          apiVersion: "v1",
          kind: "Node",
          metadata: { name, labels },
          spec: ownTaints.length > 0 ? { taints: ownTaints } : {},
        },
        "kubelet",
      );
      store.replace(
        NODE_TYPE,
        { ...created, status: nodeStatus(reg, reg.ready) },
        {
          manager: "kubelet",
          statusOnly: true,
        },
      );
      return;
    }
    // taints other than the unreachable ones belong to whoever set them (kubectl taint)
    const kept = taintsOf(current).filter((t) => t.key !== "node.kubernetes.io/unreachable");
    const mine = new Set((reg.taints ?? []).map((t) => `${t.key}:${t.effect}`));
    const taints = [...kept.filter((t) => !mine.has(`${t.key}:${t.effect}`)), ...ownTaints];
    const spec = { ...record(current.spec) };
    if (taints.length > 0) spec.taints = taints;
    else delete spec.taints;
    const written = store.replace(
      NODE_TYPE,
      { ...current, metadata: { ...current.metadata, labels: { ...labelsOf(current), ...labels } }, spec },
      { manager: "kubelet" },
    );
    const status = nodeStatus(reg, reg.ready, record(written.status));
    if (
      !sameJson(
        withoutConditionTime(status, "lastHeartbeatTime"),
        withoutConditionTime(record(written.status), "lastHeartbeatTime"),
      )
    )
      store.replace(NODE_TYPE, { ...written, status }, { manager: "kubelet", statusOnly: true });
  }

  const nodes: KubeNodes = {
    register(node) {
      registrations.set(node.name, { ...node, ready: node.ready ?? true });
      writeNode(node.name);
    },
    setReady(name, ready) {
      const reg = registrations.get(name);
      if (reg === undefined) throw new Error(`no node ${name} is registered`);
      reg.ready = ready;
      writeNode(name);
    },
    update(name, changes) {
      const reg = registrations.get(name);
      if (reg === undefined) throw new Error(`no node ${name} is registered`);
      Object.assign(reg, changes);
      writeNode(name);
    },
    remove(name) {
      registrations.delete(name);
      if (store.get(NODE_TYPE, undefined, name) !== undefined) store.delete(NODE_TYPE, undefined, name);
    },
    names: () => [...registrations.keys()],
  };

  /** The nodes a pod may go to: Ready, schedulable (unless a DaemonSet pod), taints tolerated. */
  function feasible(podSpec: Record<string, unknown>, all: StoredObject[], daemon: boolean): StoredObject[] {
    const tolerations = Array.isArray(podSpec.tolerations) ? podSpec.tolerations.filter(isRecord) : [];
    return all.filter(
      (n) =>
        isNodeReady(n) &&
        (daemon || record(n.spec).unschedulable !== true) &&
        toleratesAll(tolerations, taintsOf(n)),
    );
  }

  function unschedulableMessage(all: StoredObject[], podSpec: Record<string, unknown>): string {
    const tolerations = Array.isArray(podSpec.tolerations) ? podSpec.tolerations.filter(isRecord) : [];
    const reasons: string[] = [];
    const cordoned = all.filter((n) => record(n.spec).unschedulable === true).length;
    const notReady = all.filter((n) => !isNodeReady(n)).length;
    const tainted = all.filter(
      (n) =>
        isNodeReady(n) && record(n.spec).unschedulable !== true && !toleratesAll(tolerations, taintsOf(n)),
    ).length;
    if (tainted > 0) reasons.push(`${tainted} node(s) had untolerated taint(s)`);
    if (cordoned > 0) reasons.push(`${cordoned} node(s) were unschedulable`);
    if (notReady > 0) reasons.push(`${notReady} node(s) were not ready`);
    return `0/${all.length} nodes are available: ${reasons.join(", ")}.`;
  }

  function podStatus(pod: StoredObject, all: StoredObject[], podSpec: Record<string, unknown>) {
    const nodeName = record(pod.spec).nodeName;
    const node = all.find((n) => n.metadata.name === nodeName);
    const previous = record(pod.status);
    const time = typeof previous.startTime === "string" ? previous.startTime : now();
    if (node === undefined)
      return {
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: unschedulableMessage(all, podSpec),
          },
        ],
      };
    const ready = isNodeReady(node) ? "True" : "False";
    const address = (record(node.status).addresses as Record<string, unknown>[] | undefined)?.find(
      (a) => a.type === "InternalIP",
    )?.address;
    return {
      phase: "Running",
      hostIP: address,
      podIP: address,
      startTime: time,
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "Initialized", status: "True" },
        { type: "ContainersReady", status: ready },
        { type: "Ready", status: ready },
      ],
    };
  }

  function createPod(
    owner: StoredObject,
    ownerRef: Record<string, unknown>,
    name: string,
    template: Record<string, unknown>,
    nodeName: string | undefined,
    extraLabels: Record<string, string>,
  ): void {
    const podSpec = { ...record(template.spec), ...(nodeName === undefined ? {} : { nodeName }) };
    store.create(
      podType(),
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: owner.metadata.namespace,
          labels: { ...(record(record(template.metadata).labels) as Record<string, string>), ...extraLabels },
          ownerReferences: [ownerRef],
        },
        spec: podSpec,
      },
      "kube-controller-manager",
    );
  }

  /** The node with the fewest pods of this owner, then the fewest pods overall. */
  function pick(
    candidates: StoredObject[],
    owned: StoredObject[],
    allPods: StoredObject[],
  ): string | undefined {
    const count = (list: StoredObject[], node: string) =>
      list.filter((p) => record(p.spec).nodeName === node).length;
    return [...candidates].sort(
      (a, b) =>
        count(owned, a.metadata.name) - count(owned, b.metadata.name) ||
        count(allPods, a.metadata.name) - count(allPods, b.metadata.name) ||
        a.metadata.name.localeCompare(b.metadata.name),
    )[0]?.metadata.name;
  }

  function stepWorkloadPods(all: StoredObject[]): void {
    const pods = store.list(podType());
    const deploymentType = store.typeFor("apps/v1", "Deployment") as ResourceType;
    const statefulSetType = store.typeFor("apps/v1", "StatefulSet") as ResourceType;
    const alive = new Set<string>();
    for (const owner of [...store.list(deploymentType), ...store.list(statefulSetType)]) {
      const spec = record(owner.spec);
      const template = record(spec.template);
      const want = typeof spec.replicas === "number" ? spec.replicas : 1;
      const isDeployment = owner.kind === "Deployment";
      const hash = templateHash(template);
      const ownerName = isDeployment ? `${owner.metadata.name}-${hash}` : owner.metadata.name;
      const ownerRef = {
        apiVersion: "apps/v1",
        kind: isDeployment ? "ReplicaSet" : "StatefulSet",
        name: ownerName,
        uid: isDeployment
          ? createHash("sha256")
              .update(`${String(owner.metadata.uid)}/${hash}`)
              .digest("hex")
              .slice(0, 32)
          : String(owner.metadata.uid),
        controller: true,
        blockOwnerDeletion: true,
      };
      const mine = pods.filter((p) => {
        if (p.metadata.namespace !== owner.metadata.namespace) return false;
        const ref = controllerOf(p);
        if (ref === undefined) return false;
        if (!isDeployment) return ref.kind === "StatefulSet" && ref.name === owner.metadata.name;
        const podHash = labelsOf(p)["pod-template-hash"];
        return ref.kind === "ReplicaSet" && ref.name === `${owner.metadata.name}-${podHash}`;
      });
      for (const p of mine) alive.add(`${p.metadata.namespace}/${p.metadata.name}`);
      // a changed template replaces the pods (the emulator does not roll them one by one)
      const current = mine.filter((p) => !isDeployment || labelsOf(p)["pod-template-hash"] === hash);
      for (const p of mine.filter((p) => !current.includes(p)))
        store.delete(podType(), p.metadata.namespace, p.metadata.name);
      const surplus = current.length - want;
      for (const p of current.slice(current.length - Math.max(0, surplus)))
        store.delete(podType(), p.metadata.namespace, p.metadata.name);
      const kept = current.slice(0, Math.min(current.length, want));
      const candidates = feasible(record(template.spec), all, false);
      const names = isDeployment
        ? Array.from({ length: want - kept.length }, () => `${ownerName}-${suffix()}`)
        : Array.from({ length: want }, (_, i) => `${owner.metadata.name}-${i}`).filter(
            (n) => !kept.some((p) => p.metadata.name === n),
          );
      for (const name of names) {
        const target = pick(candidates, kept, pods);
        createPod(owner, ownerRef, name, template, target, isDeployment ? { "pod-template-hash": hash } : {});
        if (target !== undefined) kept.push({ metadata: { name }, spec: { nodeName: target } } as never);
      }
    }
    for (const ds of store.list(DAEMONSET_TYPE)) {
      const template = record(record(ds.spec).template);
      const ownerRef = {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        name: ds.metadata.name,
        uid: String(ds.metadata.uid),
        controller: true,
        blockOwnerDeletion: true,
      };
      const mine = pods.filter((p) => {
        const ref = controllerOf(p);
        return (
          p.metadata.namespace === ds.metadata.namespace &&
          ref?.kind === "DaemonSet" &&
          ref.name === ds.metadata.name
        );
      });
      const tolerations = Array.isArray(record(template.spec).tolerations)
        ? (record(template.spec).tolerations as unknown[]).filter(isRecord)
        : [];
      // the DaemonSet controller tolerates a node's unreachable and unschedulable state itself
      const eligible = all.filter((n) =>
        toleratesAll(
          tolerations,
          taintsOf(n).filter((t) => t.key !== "node.kubernetes.io/unreachable"),
        ),
      );
      for (const p of mine) {
        const on = record(p.spec).nodeName;
        if (eligible.some((n) => n.metadata.name === on))
          alive.add(`${p.metadata.namespace}/${p.metadata.name}`);
      }
      for (const node of eligible) {
        if (mine.some((p) => record(p.spec).nodeName === node.metadata.name)) continue;
        const name = `${ds.metadata.name}-${suffix()}`;
        createPod(ds, ownerRef, name, template, node.metadata.name, {});
        alive.add(`${ds.metadata.namespace}/${name}`);
      }
    }
    // garbage collection: pods whose controller is gone
    for (const p of pods) {
      const ref = controllerOf(p);
      if (ref === undefined || ref.kind === "Node") continue;
      if (!alive.has(`${p.metadata.namespace}/${p.metadata.name}`))
        store.delete(podType(), p.metadata.namespace, p.metadata.name);
    }
  }

  /** The DaemonSet controller's status counts (kubectl rollout status and the kube-proxy health check read them). */
  function stepDaemonSetStatus(): void {
    for (const ds of store.list(DAEMONSET_TYPE)) {
      const mine = store.list(podType(), ds.metadata.namespace).filter((p) => {
        const ref = controllerOf(p);
        return ref?.kind === "DaemonSet" && ref.name === ds.metadata.name;
      });
      const ready = mine.filter(isPodReady).length;
      const status = {
        observedGeneration: ds.metadata.generation,
        desiredNumberScheduled: mine.length,
        currentNumberScheduled: mine.length,
        updatedNumberScheduled: mine.length,
        numberReady: ready,
        numberAvailable: ready,
        numberMisscheduled: 0,
        ...(mine.length - ready > 0 ? { numberUnavailable: mine.length - ready } : {}),
      };
      if (!sameJson(record(ds.status), status))
        store.replace(
          DAEMONSET_TYPE,
          { ...ds, status },
          { manager: "kube-controller-manager", statusOnly: true },
        );
    }
  }

  function stepMirrorPods(all: StoredObject[]): void {
    const pods = store.list(podType(), "kube-system").filter((p) => controllerOf(p)?.kind === "Node");
    const wanted = new Set<string>();
    for (const node of all) {
      const reg = registrations.get(node.metadata.name);
      for (const sp of reg?.staticPods ?? []) {
        const name = `${sp.name}-${node.metadata.name}`;
        wanted.add(name);
        const current = pods.find((p) => p.metadata.name === name);
        const annotations = {
          [MIRROR_ANNOTATION]: createHash("sha256").update(sp.image).digest("hex").slice(0, 32),
          ...(sp.configVersion === undefined ? {} : { [CONFIG_VERSION_ANNOTATION]: sp.configVersion }),
        };
        const spec = { nodeName: node.metadata.name, containers: [{ name: sp.name, image: sp.image }] };
        const image = (record(current?.spec).containers as Record<string, unknown>[] | undefined)?.[0]?.image;
        if (
          current !== undefined &&
          image === sp.image &&
          sameJson(current.metadata.annotations, annotations)
        )
          continue;
        if (current !== undefined) store.delete(podType(), "kube-system", name);
        store.create(
          podType(),
          {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              name,
              namespace: "kube-system",
              labels: { "k8s-app": sp.name, tier: "control-plane" },
              annotations,
              ownerReferences: [
                {
                  apiVersion: "v1",
                  kind: "Node",
                  name: node.metadata.name,
                  uid: String(node.metadata.uid),
                  controller: true,
                },
              ],
            },
            spec,
          },
          "kubelet",
        );
      }
    }
    for (const p of pods)
      if (!wanted.has(p.metadata.name)) store.delete(podType(), "kube-system", p.metadata.name);
  }

  function stepPodStatus(all: StoredObject[]): void {
    const names = new Set(all.map((n) => n.metadata.name));
    for (const pod of store.list(podType())) {
      const spec = record(pod.spec);
      // pod garbage collector: pods bound to a node that no longer exists
      if (typeof spec.nodeName === "string" && !names.has(spec.nodeName)) {
        store.delete(podType(), pod.metadata.namespace, pod.metadata.name);
        continue;
      }
      let written = pod;
      if (spec.nodeName === undefined) {
        const target = feasible(spec, all, false)[0]?.metadata.name;
        if (target !== undefined) {
          const owned = store
            .list(podType(), pod.metadata.namespace)
            .filter((p) => controllerOf(p)?.name === controllerOf(pod)?.name);
          const best = pick(feasible(spec, all, false), owned, store.list(podType())) ?? target;
          written = store.replace(
            podType(),
            { ...pod, spec: { ...spec, nodeName: best } },
            { manager: "kube-scheduler" },
          );
        }
      }
      const status = podStatus(written, all, record(written.spec));
      if (!sameJson(record(written.status), status))
        store.replace(podType(), { ...written, status }, { manager: "kubelet", statusOnly: true });
    }
  }

  /** kubernetes pkg/controller/disruption/disruption.go trySync / getExpectedPodCount / updatePdbStatus. */
  function stepBudgets(): void {
    for (const pdb of store.list(PDB_TYPE)) {
      const spec = record(pdb.spec);
      const pods = store
        .list(podType(), pdb.metadata.namespace)
        .filter((p) => labelSelectorMatches(spec.selector, labelsOf(p)));
      let expected = 0;
      let desired = 0;
      let failed = false;
      const expectedScale = (): number => {
        const scales = new Map<string, number>();
        for (const p of pods) {
          const ref = controllerOf(p);
          if (ref === undefined) continue;
          const scale = controllerScale(p.metadata.namespace as string, ref);
          if (scale === undefined) failed = true;
          else scales.set(String(ref.uid ?? ref.name), scale);
        }
        return [...scales.values()].reduce((a, b) => a + b, 0);
      };
      if (spec.maxUnavailable !== undefined) {
        expected = expectedScale();
        desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected));
      } else if (spec.minAvailable !== undefined) {
        if (typeof spec.minAvailable === "number") {
          desired = spec.minAvailable;
          expected = pods.length;
        } else {
          expected = expectedScale();
          desired = scaled(spec.minAvailable, expected);
        }
      }
      const previous = record(pdb.status);
      const disrupted: Record<string, string> = {};
      const stamp = record(previous.disruptedPods);
      for (const p of pods) {
        const at = stamp[p.metadata.name];
        // DeletionTimeout: two minutes
        if (typeof at === "string" && Date.parse(at) + 120_000 > Date.now()) disrupted[p.metadata.name] = at;
      }
      const healthy = pods.filter((p) => !(p.metadata.name in disrupted) && isPodReady(p)).length;
      let allowed = healthy - desired;
      if (failed || expected <= 0 || allowed <= 0) allowed = 0;
      const status = {
        observedGeneration: pdb.metadata.generation,
        currentHealthy: healthy,
        desiredHealthy: desired,
        expectedPods: expected,
        disruptionsAllowed: allowed,
        ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
        conditions: [disruptionCondition(allowed, previous, failed)],
      };
      if (
        !sameJson(
          withoutConditionTime(previous, "lastTransitionTime"),
          withoutConditionTime(status, "lastTransitionTime"),
        )
      )
        store.replace(PDB_TYPE, { ...pdb, status }, { manager: "kube-controller-manager", statusOnly: true });
    }
  }

  function controllerScale(namespace: string, ref: Record<string, unknown>): number | undefined {
    const replicasOf = (o: StoredObject | undefined) =>
      o === undefined ? undefined : Number(record(o.spec).replicas ?? 1);
    if (ref.kind === "StatefulSet")
      return replicasOf(
        store.get(store.typeFor("apps/v1", "StatefulSet") as ResourceType, namespace, String(ref.name)),
      );
    if (ref.kind === "ReplicaSet") {
      const deployments = store.list(store.typeFor("apps/v1", "Deployment") as ResourceType, namespace);
      return replicasOf(deployments.find((d) => String(ref.name).startsWith(`${d.metadata.name}-`)));
    }
    return undefined;
  }

  function step(): void {
    if (registrations.size === 0 && store.list(NODE_TYPE).length === 0) return;
    const all = nodeList();
    stepMirrorPods(all);
    stepWorkloadPods(all);
    stepPodStatus(all);
    stepDaemonSetStatus();
    stepBudgets();
  }

  /** kubernetes pkg/registry/core/pod/storage/eviction.go EvictionREST.Create (the policy/v1 path). */
  function evict(
    namespace: string,
    name: string,
    body: Record<string, unknown>,
    dryRun: boolean,
  ): Record<string, unknown> {
    const meta = record(body.metadata);
    if (body.kind !== undefined && body.kind !== "Eviction")
      throw new StatusError(400, "BadRequest", `not a Eviction object: ${String(body.kind)}`);
    if (meta.name !== name)
      throw new StatusError(400, "BadRequest", "name in URL does not match name in Eviction object");
    const pod = store.get(podType(), namespace, name);
    if (pod === undefined) throw new StatusError(404, "NotFound", `pods "${name}" not found`);
    const success = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
    const remove = () => {
      if (!dryRun) store.delete(podType(), namespace, name);
      return success;
    };
    const phase = record(pod.status).phase;
    // canIgnorePDB: a terminal or pending pod is deleted without looking at budgets
    if (phase === "Succeeded" || phase === "Failed" || phase === "Pending") return remove();
    const budgets = store
      .list(PDB_TYPE, namespace)
      .filter((b) => labelSelectorMatches(record(b.spec).selector, labelsOf(pod)));
    if (budgets.length > 1)
      throw new StatusError(
        500,
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    const [pdb] = budgets;
    if (pdb === undefined) return remove();
    const status = record(pdb.status);
    const currentHealthy = Number(status.currentHealthy ?? 0);
    const desiredHealthy = Number(status.desiredHealthy ?? 0);
    if (!isPodReady(pod) && currentHealthy >= desiredHealthy && desiredHealthy > 0) return remove();
    // checkAndDecrement
    const tooMany = (message: string) =>
      new StatusError(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
          causes: [{ reason: "DisruptionBudget", message }],
        },
      );
    if (Number(status.observedGeneration ?? 0) < Number(pdb.metadata.generation ?? 0))
      throw tooMany(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`);
    const allowed = Number(status.disruptionsAllowed ?? 0);
    if (allowed < 0)
      throw new StatusError(
        403,
        "Forbidden",
        `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: pdb disruptions allowed is negative`,
      );
    if (allowed === 0)
      throw tooMany(
        `The disruption budget ${pdb.metadata.name} needs ${desiredHealthy} healthy pods and has ${currentHealthy} currently`,
      );
    if (!dryRun) {
      const next = {
        ...status,
        disruptionsAllowed: allowed - 1,
        disruptedPods: { ...record(status.disruptedPods), [name]: new Date().toISOString() },
      };
      store.replace(PDB_TYPE, { ...pdb, status: next }, { manager: "kube-apiserver", statusOnly: true });
    }
    return remove();
  }

  return { nodes, step, evict };
}

function disruptionCondition(allowed: number, previous: Record<string, unknown>, failed: boolean) {
  // kubernetes staging/src/k8s.io/component-helpers/apps/poddisruptionbudget/helpers.go
  const condition = failed
    ? { type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: "found no controllers" }
    : allowed > 0
      ? { type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "" }
      : { type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "" };
  const old = (Array.isArray(previous.conditions) ? previous.conditions : []).find(
    (c: unknown) => isRecord(c) && c.type === "DisruptionAllowed",
  ) as Record<string, unknown> | undefined;
  return {
    ...condition,
    lastTransitionTime: old?.status === condition.status ? old.lastTransitionTime : now(),
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}

/** A status without one time field of its conditions (a refreshed timestamp alone is no change). */
function withoutConditionTime(status: Record<string, unknown>, field: string): unknown {
  const conditions = Array.isArray(status.conditions)
    ? status.conditions.map((c: unknown) => {
        const copy = { ...record(c) };
        delete copy[field];
        return copy;
      })
    : undefined;
  return { ...status, conditions };
}
