import { afterEach, describe, it } from "vitest";
import {
  createHelm,
  deploymentRolloutStatus,
  installArgoCd,
  type KubeClient,
  type ProgressEvent,
  statefulSetRolloutStatus,
  waitForRollouts,
} from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";

const deployment = (
  status: Record<string, unknown>,
  extra: { generation?: number; replicas?: number } = {},
) => ({
  metadata: { name: "argocd-server", generation: extra.generation ?? 2 },
  spec: extra.replicas === undefined ? {} : { replicas: extra.replicas },
  status,
});

describe("deploymentRolloutStatus", () => {
  it.for<[string, Record<string, unknown>, { generation?: number; replicas?: number }, unknown]>([
    [
      "spec not observed",
      { observedGeneration: 1 },
      {},
      { done: false, message: "Waiting for deployment spec update to be observed..." },
    ],
    [
      "too few updated",
      { observedGeneration: 2, updatedReplicas: 1 },
      { replicas: 3 },
      {
        done: false,
        message:
          'Waiting for deployment "argocd-server" rollout to finish: 1 out of 3 new replicas have been updated...',
      },
    ],
    [
      "old replicas left",
      { observedGeneration: 2, replicas: 4, updatedReplicas: 3 },
      { replicas: 3 },
      {
        done: false,
        message:
          'Waiting for deployment "argocd-server" rollout to finish: 1 old replicas are pending termination...',
      },
    ],
    [
      "too few available",
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 },
      { replicas: 3 },
      {
        done: false,
        message:
          'Waiting for deployment "argocd-server" rollout to finish: 2 of 3 updated replicas are available...',
      },
    ],
    [
      "complete",
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      { replicas: 3 },
      { done: true, message: 'deployment "argocd-server" successfully rolled out' },
    ],
    [
      "no spec.replicas and empty status",
      { observedGeneration: 2 },
      {},
      { done: true, message: 'deployment "argocd-server" successfully rolled out' },
    ],
    [
      "progress deadline exceeded",
      {
        observedGeneration: 2,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      },
      { replicas: 1 },
      { error: 'deployment "argocd-server" exceeded its progress deadline' },
    ],
    [
      "deadline but spec not observed",
      { observedGeneration: 1, conditions: [{ type: "Progressing", reason: "ProgressDeadlineExceeded" }] },
      {},
      { done: false, message: "Waiting for deployment spec update to be observed..." },
    ],
  ])("decides like kubectl when %s", ([, status, extra, expected], { expect }) => {
    expect(deploymentRolloutStatus(deployment(status, extra))).toEqual(expected);
  });
});

describe("statefulSetRolloutStatus", () => {
  const sts = (spec: Record<string, unknown>, status: Record<string, unknown>) => ({
    metadata: { name: "c", generation: 1 },
    spec,
    status,
  });
  it.for<[string, Record<string, unknown>, Record<string, unknown>, unknown]>([
    [
      "OnDelete strategy",
      { updateStrategy: { type: "OnDelete" } },
      { observedGeneration: 1 },
      { error: "rollout status is only available for RollingUpdate strategy type" },
    ],
    [
      "observedGeneration 0",
      { replicas: 1, updateStrategy: { type: "RollingUpdate" } },
      {},
      { done: false, message: "Waiting for statefulset spec update to be observed..." },
    ],
    [
      "pods not ready",
      { replicas: 2, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } } },
      { observedGeneration: 1, readyReplicas: 1 },
      { done: false, message: "Waiting for 1 pods to be ready..." },
    ],
    [
      "partition not rolled",
      { replicas: 3, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } },
      { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1 },
      {
        done: false,
        message: "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
      },
    ],
    [
      "partition rolled",
      { replicas: 3, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } } },
      { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 3 },
      { done: true, message: "partitioned roll out complete: 3 new pods have been updated..." },
    ],
    [
      "revisions differ without rollingUpdate",
      { replicas: 1, updateStrategy: { type: "RollingUpdate" } },
      {
        observedGeneration: 1,
        readyReplicas: 1,
        updatedReplicas: 1,
        currentRevision: "a",
        updateRevision: "b",
      },
      { done: false, message: "waiting for statefulset rolling update to complete 1 pods at revision b..." },
    ],
    [
      "revisions equal without rollingUpdate",
      { replicas: 1, updateStrategy: { type: "RollingUpdate" } },
      {
        observedGeneration: 1,
        readyReplicas: 1,
        currentReplicas: 1,
        currentRevision: "b",
        updateRevision: "b",
      },
      { done: true, message: "statefulset rolling update complete 1 pods at revision b..." },
    ],
  ])("decides like kubectl when %s", ([, spec, status, expected], { expect }) => {
    expect(statefulSetRolloutStatus(sts(spec, status))).toEqual(expected);
  });
});

describe("waitForRollouts", () => {
  let kube: KubeEmulator | undefined;
  afterEach(async () => {
    await kube?.close();
    kube = undefined;
  });

  it("fails at once with NOT_FOUND when a workload does not exist, as kubectl rollout status does", async ({
    expect,
  }) => {
    const slept: number[] = [];
    const error = await waitForRollouts({
      kube: { get: async () => undefined, apply: async () => ({}) },
      namespace: "gitops",
      timeoutMs: 600_000,
      sleep: async (ms) => {
        slept.push(ms);
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NOT_FOUND" });
    expect(String(error)).toContain('deployments.apps "argocd-server" not found in namespace gitops');
    expect(slept).toEqual([]);
  });

  it("names what is not ready when the fake clock runs out", async ({ expect }) => {
    let clock = 0;
    const objects: Record<string, Record<string, unknown>> = {
      "Deployment/argocd-server": deployment(
        { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
        { replicas: 1 },
      ),
      "Deployment/argocd-repo-server": {
        metadata: { name: "argocd-repo-server", generation: 1 },
        spec: { replicas: 1 },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 },
      },
      "StatefulSet/argocd-application-controller": {
        metadata: { name: "argocd-application-controller", generation: 1 },
        spec: { replicas: 1, updateStrategy: { type: "RollingUpdate" } },
        status: { observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1 },
      },
    };
    const kubeClient: KubeClient = {
      get: async (ref) => objects[`${ref.kind}/${ref.name}`],
      apply: async () => ({}),
    };
    const events: ProgressEvent[] = [];
    const slept: number[] = [];
    const error = await waitForRollouts({
      kube: kubeClient,
      timeoutMs: 10_000,
      pollIntervalMs: 2_000,
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
      onProgress: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "ROLLOUT_TIMEOUT",
      details: {
        notReady: [
          {
            kind: "Deployment",
            name: "argocd-repo-server",
            message:
              'Waiting for deployment "argocd-repo-server" rollout to finish: 0 of 1 updated replicas are available...',
          },
          { kind: "StatefulSet", name: "argocd-application-controller" },
        ],
      },
    });
    expect((error as Error).message).toContain("not rolled out after 10s");
    expect(slept).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(events.filter((e) => e.type === "rollout-complete").map((e) => e.name)).toEqual(["argocd-server"]);
  });

  it("throws ROLLOUT_FAILED at once when a deployment exceeded its progress deadline", async ({ expect }) => {
    const kubeClient: KubeClient = {
      get: async (ref) => ({
        metadata: { name: ref.name, generation: 1 },
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          conditions: [{ type: "Progressing", reason: "ProgressDeadlineExceeded" }],
        },
      }),
      apply: async () => ({}),
    };
    await expect(waitForRollouts({ kube: kubeClient, sleep: async () => {} })).rejects.toMatchObject({
      code: "ROLLOUT_FAILED",
    });
  });

  it("reports progress and retries API 500s while a real rollout proceeds in the emulator", async ({
    expect,
  }) => {
    kube = await createKubeEmulator({ stepMs: 10 });
    const run = createHelmStandIn({ kube });
    await installArgoCd({
      helm: createHelm({ run }),
      values: { server: { replicas: 3 } },
      timeoutMs: 10_000,
    });
    const server = kube.get({
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: "argocd",
      name: "argocd-server",
    })!;
    const target = { kind: "Deployment" as const, name: "argocd-server" };
    kube.faults.stallRollout(target);
    kube.apply({
      ...server,
      spec: {
        ...(server.spec as object),
        replicas: 3,
        template: { metadata: { annotations: { restartedAt: "now" } } },
      },
    });
    kube.faults.apiError({ status: 500, method: "GET", path: "/deployments/argocd-server", times: 2 });
    const events: ProgressEvent[] = [];
    const reports = await waitForRollouts({
      kubeconfig: kube.kubeconfig,
      pollIntervalMs: 5,
      timeoutMs: 10_000,
      onProgress: (e) => {
        events.push(e);
        if (e.type === "rollout-progress" && e.name === "argocd-server") kube?.faults.resumeRollout(target);
      },
    });
    expect(reports.every((r) => r.done)).toBe(true);
    expect(events.filter((e) => e.type === "api-error")).toHaveLength(2);
    expect(events.some((e) => e.type === "rollout-progress" && e.name === "argocd-server")).toBe(true);
  });
});
