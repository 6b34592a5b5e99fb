import { readFile } from "node:fs/promises";
import type { V1Container } from "@kubernetes/client-node";
import type { KubernetesAccess, KubernetesNode, KubernetesPod } from "@talos-homelab/talos-client";
import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import { locateKubeconfig, type ProjectSource } from "../state/locate.js";

// talos-client's KubernetesAccess (health checks, cordon and drain) over @kubernetes/client-node,
// loaded on first use so commands that never talk to Kubernetes do not pay for it.

interface Meta {
  name?: string;
  namespace?: string;
  annotations?: Record<string, string>;
  ownerReferences?: { kind?: string; controller?: boolean }[];
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new HomelabError("INTERRUPTED", "interrupted");
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** The API server's own message (a Status body), never a request dump. */
function messageOf(error: unknown): string {
  const body = (error as { body?: unknown })?.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: unknown })?.message;
  if (typeof message === "string") return message;
  const status = statusOf(error);
  if (status !== undefined) return `HTTP ${status}`;
  return error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}

function kubeError(error: unknown, what: string): HomelabError {
  if (error instanceof HomelabError) return error;
  const status = statusOf(error);
  return new HomelabError(
    status === undefined ? "UNREACHABLE" : "COMMAND_FAILED",
    `Kubernetes API: ${what}: ${messageOf(error)}`,
    {
      cause: error,
      ...(status === undefined ? {} : { details: { status } }),
      ...(status === undefined
        ? { hint: "check that the cluster's API endpoint answers (the kubeconfig's server)" }
        : {}),
    },
  );
}

function isReady(conditions: { type?: string; status?: string }[] | undefined): boolean {
  return (conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function toPod(pod: {
  metadata?: Meta;
  spec?: { nodeName?: string };
  status?: { conditions?: { type?: string; status?: string }[] };
}): KubernetesPod {
  const meta = pod.metadata ?? {};
  const controller = (meta.ownerReferences ?? []).find((r) => r.controller === true);
  return {
    namespace: meta.namespace ?? "",
    name: meta.name ?? "",
    nodeName: pod.spec?.nodeName ?? "",
    ready: isReady(pod.status?.conditions),
    daemonSet: controller?.kind === "DaemonSet",
    mirror: meta.annotations?.["kubernetes.io/config.mirror"] !== undefined,
  };
}

/** A pod with its containers' images (what an upgrade waits for). */
export interface PodImages {
  namespace: string;
  name: string;
  nodeName: string;
  ready: boolean;
  images: string[];
}

/** The workloads whose images an upgrade moves. */
export type WorkloadKind = "DaemonSet" | "Deployment";

/** What of a DaemonSet or Deployment the image calls read. */
interface Workload {
  spec?: { template: { spec?: { containers: V1Container[] } } };
}

/** talos-client's {@link KubernetesAccess} plus what the day-2 operations read and do beyond it. */
export interface ClusterKubernetes extends KubernetesAccess {
  /** Pods of a namespace matching a label selector, with their images. */
  listPodImages(
    namespace: string,
    labelSelector: string,
    options?: { signal?: AbortSignal },
  ): Promise<PodImages[]>;
  /** Each Node's kubelet version (`v1.35.0`), by node name. */
  kubeletVersions(options?: { signal?: AbortSignal }): Promise<Record<string, string>>;
  /** The API server's version (`v1.35.0`, from /version). */
  serverVersion(options?: { signal?: AbortSignal }): Promise<string>;
  /** A kube-system-style workload's container images by container name; undefined when it does not exist. */
  workloadImages(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    options?: { signal?: AbortSignal },
  ): Promise<Record<string, string> | undefined>;
  /** Sets one container's image in a DaemonSet's or Deployment's pod template (`kubectl set image`). */
  setWorkloadImage(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    container: string,
    image: string,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
  /** Deletes a Node object (`kubectl delete node`); false when it did not exist. */
  deleteNode(name: string, options?: { signal?: AbortSignal }): Promise<boolean>;
}

/**
 * A {@link ClusterKubernetes} for the cluster of `kubeconfig` (text; never printed).
 * @throws HomelabError STATE_INVALID when the kubeconfig cannot be read; COMMAND_FAILED or UNREACHABLE from calls
 */
export async function createKubernetesAccess(kubeconfig: string, source: string): Promise<ClusterKubernetes> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(kubeconfig);
  } catch (cause) {
    throw new HomelabError("STATE_INVALID", `${source} is not a kubeconfig`, { cause });
  }
  if (kc.getCurrentCluster() === null)
    throw new HomelabError("STATE_INVALID", `${source}: the current context names no cluster`);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const version = kc.makeApiClient(k8s.VersionApi);
  const call = async <T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> => {
    throwIfAborted(signal);
    try {
      return await fn();
    } catch (error) {
      throw kubeError(error, what);
    }
  };
  const readWorkload = (kind: WorkloadKind, namespace: string, name: string): Promise<Workload> =>
    kind === "DaemonSet"
      ? apps.readNamespacedDaemonSet({ name, namespace })
      : apps.readNamespacedDeployment({ name, namespace });
  return {
    async listPodImages(namespace, labelSelector, options = {}) {
      const list = await call(`listing pods ${labelSelector}`, options.signal, () =>
        core.listNamespacedPod({ namespace, labelSelector }),
      );
      return list.items.map((p) => ({
        ...toPod(p),
        images: (p.spec?.containers ?? []).map((c) => c.image ?? ""),
      }));
    },
    async kubeletVersions(options = {}) {
      const list = await call("listing nodes", options.signal, () => core.listNode());
      return Object.fromEntries(
        list.items.map((n) => [n.metadata?.name ?? "", n.status?.nodeInfo?.kubeletVersion ?? ""]),
      );
    },
    async serverVersion(options = {}) {
      const info = await call("reading /version", options.signal, () => version.getCode());
      return info.gitVersion;
    },
    async workloadImages(kind, namespace, name, options = {}) {
      throwIfAborted(options.signal);
      try {
        const object = await readWorkload(kind, namespace, name);
        return Object.fromEntries(
          (object.spec?.template.spec?.containers ?? []).map((c) => [c.name, c.image ?? ""]),
        );
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw kubeError(error, `reading ${kind} ${namespace}/${name}`);
      }
    },
    async setWorkloadImage(kind, namespace, name, container, image, options = {}) {
      const what = `setting the image of ${kind} ${namespace}/${name}`;
      const object = await call(what, options.signal, () => readWorkload(kind, namespace, name));
      const containers = object.spec?.template.spec?.containers ?? [];
      if (!containers.some((c) => c.name === container))
        throw new HomelabError(
          "COMMAND_FAILED",
          `${kind} ${namespace}/${name} has no container ${container}`,
        );
      // a merge patch replaces the list whole: send every container, only this one's image changed
      const body = {
        spec: {
          template: {
            spec: { containers: containers.map((c) => (c.name === container ? { ...c, image } : c)) },
          },
        },
      };
      const patch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
      await call(what, options.signal, async () => {
        if (kind === "DaemonSet") await apps.patchNamespacedDaemonSet({ name, namespace, body }, patch);
        else await apps.patchNamespacedDeployment({ name, namespace, body }, patch);
      });
    },
    async deleteNode(name, options = {}) {
      try {
        throwIfAborted(options.signal);
        await core.deleteNode({ name });
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw kubeError(error, `deleting node ${name}`);
      }
    },
    async listNodes(options = {}): Promise<KubernetesNode[]> {
      const list = await call("listing nodes", options.signal, () => core.listNode());
      return list.items.map((n) => ({
        name: n.metadata?.name ?? "",
        internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === "InternalIP").map((a) => a.address),
        ready: isReady(n.status?.conditions),
        unschedulable: n.spec?.unschedulable === true,
      }));
    },
    async listPods(query, options = {}) {
      const selectors = {
        ...(query.labelSelector === undefined ? {} : { labelSelector: query.labelSelector }),
        ...(query.nodeName === undefined ? {} : { fieldSelector: `spec.nodeName=${query.nodeName}` }),
      };
      const list = await call("listing pods", options.signal, () =>
        query.namespace === undefined
          ? core.listPodForAllNamespaces(selectors)
          : core.listNamespacedPod({ namespace: query.namespace, ...selectors }),
      );
      return list.items.map(toPod);
    },
    async desiredReplicas(kind, namespace, labelSelector, options = {}) {
      if (kind === "DaemonSet") {
        const list = await call(`listing DaemonSets ${labelSelector}`, options.signal, () =>
          apps.listNamespacedDaemonSet({ namespace, labelSelector }),
        );
        if (list.items.length === 0) return undefined;
        return list.items.reduce((sum, d) => sum + (d.status?.desiredNumberScheduled ?? 0), 0);
      }
      const list = await call(`listing Deployments ${labelSelector}`, options.signal, () =>
        apps.listNamespacedDeployment({ namespace, labelSelector }),
      );
      if (list.items.length === 0) return undefined;
      return list.items.reduce((sum, d) => sum + (d.spec?.replicas ?? 1), 0);
    },
    async setUnschedulable(node, unschedulable, options = {}) {
      await call(`${unschedulable ? "cordoning" : "uncordoning"} ${node}`, options.signal, () =>
        core.patchNode(
          { name: node, body: { spec: { unschedulable: unschedulable ? true : null } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        ),
      );
    },
    async evictPod(namespace, name, options = {}) {
      throwIfAborted(options.signal);
      try {
        await core.createNamespacedPodEviction({
          name,
          namespace,
          body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
        });
        return "evicted";
      } catch (error) {
        const status = statusOf(error);
        // 429: a PodDisruptionBudget refuses it now (kubectl drain retries, and so does the caller)
        if (status === 429) return "blocked";
        if (status === 404) return "gone";
        throw kubeError(error, `evicting ${namespace}/${name}`);
      }
    },
  };
}

/**
 * Kubernetes access for a command from --kubeconfig, $KUBECONFIG or the project's state directory;
 * undefined (with the reason) when there is no kubeconfig.
 */
export async function kubernetesFromFlags(
  inv: Invocation,
  project: ProjectSource,
): Promise<{ access: ClusterKubernetes; path: string } | { access: undefined; why: string }> {
  const found = await locateKubeconfig(inv, project);
  if (!found)
    return {
      access: undefined,
      why: "no kubeconfig found (--kubeconfig, $KUBECONFIG or the state directory of homelab.yaml)",
    };
  let text: string;
  try {
    text = await readFile(found.path, "utf8");
  } catch (cause) {
    throw new HomelabError("MISSING_CREDENTIALS", `cannot read kubeconfig ${found.path}`, { cause });
  }
  inv.out.debug(`kubeconfig: ${found.path} (${found.source})`);
  return { access: await createKubernetesAccess(text, found.path), path: found.path };
}
