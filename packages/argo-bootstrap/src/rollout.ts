import { ARGOCD_NAMESPACE } from "./constants.js";
import { ArgoBootstrapError, isArgoBootstrapError } from "./errors.js";
import { isRecord, type ProgressEvent, realSleep, rec, type Sleep, throwIfAborted } from "./internal/util.js";
import { createKubeClient, isTransientKubeError, type KubeClient } from "./kube.js";

/** The outcome of one rollout check, as `kubectl rollout status` decides it. */
export type RolloutStatus = { done: boolean; message: string } | { error: string };

/** A workload to wait for. */
export interface RolloutTarget {
  kind: "Deployment" | "StatefulSet";
  name: string;
}

/** The three workloads Argo CD needs before it can sync the root app. */
export const ARGOCD_WORKLOADS: readonly RolloutTarget[] = [
  { kind: "Deployment", name: "argocd-server" },
  { kind: "Deployment", name: "argocd-repo-server" },
  { kind: "StatefulSet", name: "argocd-application-controller" },
];

type Obj = Record<string, unknown>;

function int(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function optInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * Decides whether a Deployment has rolled out, with the rules and messages of `kubectl rollout status`.
 * Missing status integers count as 0.
 */
export function deploymentRolloutStatus(deployment: Obj): RolloutStatus {
  const metadata = rec(deployment.metadata);
  const spec = rec(deployment.spec);
  const status = rec(deployment.status);
  const name = String(metadata.name ?? "");
  if (int(metadata.generation) <= int(status.observedGeneration)) {
    const conditions = Array.isArray(status.conditions) ? status.conditions.map(rec) : [];
    const progressing = conditions.find((c) => c.type === "Progressing");
    if (progressing?.reason === "ProgressDeadlineExceeded") {
      return { error: `deployment "${name}" exceeded its progress deadline` };
    }
    const want = optInt(spec.replicas);
    const updated = int(status.updatedReplicas);
    if (want !== undefined && updated < want) {
      return {
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`,
      };
    }
    if (int(status.replicas) > updated) {
      return {
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${int(status.replicas) - updated} old replicas are pending termination...`,
      };
    }
    if (int(status.availableReplicas) < updated) {
      return {
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${int(status.availableReplicas)} of ${updated} updated replicas are available...`,
      };
    }
    return { done: true, message: `deployment "${name}" successfully rolled out` };
  }
  return { done: false, message: "Waiting for deployment spec update to be observed..." };
}

/** Decides whether a StatefulSet has rolled out, with the rules and messages of `kubectl rollout status`. */
export function statefulSetRolloutStatus(statefulSet: Obj): RolloutStatus {
  const metadata = rec(statefulSet.metadata);
  const spec = rec(statefulSet.spec);
  const status = rec(statefulSet.status);
  const strategy = rec(spec.updateStrategy);
  if (strategy.type !== "RollingUpdate") {
    return { error: "rollout status is only available for RollingUpdate strategy type" };
  }
  const observed = int(status.observedGeneration);
  if (observed === 0 || int(metadata.generation) > observed) {
    return { done: false, message: "Waiting for statefulset spec update to be observed..." };
  }
  const want = optInt(spec.replicas);
  if (want !== undefined && int(status.readyReplicas) < want) {
    return { done: false, message: `Waiting for ${want - int(status.readyReplicas)} pods to be ready...` };
  }
  if (isRecord(strategy.rollingUpdate)) {
    const partition = optInt(strategy.rollingUpdate.partition);
    if (want !== undefined && partition !== undefined && int(status.updatedReplicas) < want - partition) {
      return {
        done: false,
        message: `Waiting for partitioned roll out to finish: ${int(status.updatedReplicas)} out of ${want - partition} new pods have been updated...`,
      };
    }
    return {
      done: true,
      message: `partitioned roll out complete: ${int(status.updatedReplicas)} new pods have been updated...`,
    };
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      done: false,
      message: `waiting for statefulset rolling update to complete ${int(status.updatedReplicas)} pods at revision ${String(status.updateRevision ?? "")}...`,
    };
  }
  return {
    done: true,
    message: `statefulset rolling update complete ${int(status.currentReplicas)} pods at revision ${String(status.currentRevision ?? "")}...`,
  };
}

/** Options for {@link waitForRollouts}. */
export interface WaitForRolloutsOptions {
  /** kubeconfig YAML text; or pass `kube`. */
  kubeconfig?: string;
  kube?: KubeClient;
  namespace?: string;
  /** Default: {@link ARGOCD_WORKLOADS}. */
  workloads?: readonly RolloutTarget[];
  /** Overall limit (default 10 minutes). */
  timeoutMs?: number;
  /** Poll interval (default 2 s). */
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/** One workload's final state. */
export interface RolloutReport {
  kind: RolloutTarget["kind"];
  name: string;
  done: boolean;
  message: string;
}

/**
 * Waits until every workload has rolled out by the `kubectl rollout status` rules. Transient API
 * errors (5xx, connection resets) are retried until the deadline.
 *
 * @throws ArgoBootstrapError ROLLOUT_TIMEOUT (naming what is not ready), ROLLOUT_FAILED, NOT_FOUND (a workload
 *   does not exist, as kubectl fails at once), KUBE_API_ERROR, ABORTED
 */
export async function waitForRollouts(options: WaitForRolloutsOptions): Promise<RolloutReport[]> {
  const kube = resolveKube(options);
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const workloads = options.workloads ?? ARGOCD_WORKLOADS;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const pollMs = options.pollIntervalMs ?? 2_000;
  const deadline = now() + timeoutMs;
  const reports = new Map<string, RolloutReport>(
    workloads.map((w) => [key(w), { kind: w.kind, name: w.name, done: false, message: "not checked yet" }]),
  );
  let lastApiError: ArgoBootstrapError | undefined;

  for (;;) {
    throwIfAborted(options.signal);
    for (const workload of workloads) {
      const report = reports.get(key(workload))!;
      if (report.done) continue;
      let object: Obj | undefined;
      try {
        object = await kube.get(
          { apiVersion: "apps/v1", kind: workload.kind, namespace, name: workload.name },
          options.signal === undefined ? {} : { signal: options.signal },
        );
      } catch (error) {
        if (isArgoBootstrapError(error) && error.code === "KUBE_API_ERROR" && isTransientKubeError(error)) {
          lastApiError = error;
          options.onProgress?.({ type: "api-error", message: `retrying after: ${error.rawMessage}` });
          continue;
        }
        throw error;
      }
      if (object === undefined) {
        // kubectl rollout status fails at once on a missing object (NotFound); helm has already
        // applied the chart, so a missing workload will not appear by waiting
        const resource = workload.kind === "Deployment" ? "deployments.apps" : "statefulsets.apps";
        throw new ArgoBootstrapError(
          "NOT_FOUND",
          `${resource} "${workload.name}" not found in namespace ${namespace}: is Argo CD installed there (argocd.namespace), and does the chart's values keep this component?`,
          { details: { kind: workload.kind, name: workload.name, namespace } },
        );
      }
      const status: RolloutStatus =
        workload.kind === "Deployment" ? deploymentRolloutStatus(object) : statefulSetRolloutStatus(object);
      if ("error" in status) {
        throw new ArgoBootstrapError(
          "ROLLOUT_FAILED",
          `${workload.kind} ${namespace}/${workload.name}: ${status.error}`,
          {
            details: { kind: workload.kind, name: workload.name, namespace },
          },
        );
      }
      if (status.message !== report.message || status.done) {
        options.onProgress?.({
          type: status.done ? "rollout-complete" : "rollout-progress",
          message: status.message,
          kind: workload.kind,
          name: workload.name,
          namespace,
        });
      }
      report.done = status.done;
      report.message = status.message;
    }
    const pending = [...reports.values()].filter((r) => !r.done);
    if (pending.length === 0) return [...reports.values()];
    if (now() >= deadline) {
      const list = pending.map((r) => `${r.kind} ${namespace}/${r.name}: ${r.message}`).join("; ");
      throw new ArgoBootstrapError(
        "ROLLOUT_TIMEOUT",
        `not rolled out after ${Math.round(timeoutMs / 1000)}s: ${list}${lastApiError === undefined ? "" : ` (last API error: ${lastApiError.rawMessage})`}. Inspect with: kubectl -n ${namespace} get pods; kubectl -n ${namespace} describe ${pending[0]!.kind.toLowerCase()} ${pending[0]!.name}`,
        { details: { notReady: pending.map((r) => ({ kind: r.kind, name: r.name, message: r.message })) } },
      );
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - now())), options.signal);
  }
}

function key(w: RolloutTarget): string {
  return `${w.kind}/${w.name}`;
}

/** @internal */
export function resolveKube(options: {
  kubeconfig?: string | undefined;
  kube?: KubeClient | undefined;
}): KubeClient {
  if (options.kube !== undefined) return options.kube;
  if (options.kubeconfig === undefined) {
    throw new ArgoBootstrapError("INVALID_OPTIONS", "pass kubeconfig (YAML text) or kube");
  }
  return createKubeClient({ kubeconfig: options.kubeconfig });
}
