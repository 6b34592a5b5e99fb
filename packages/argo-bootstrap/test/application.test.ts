import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, it } from "vitest";
import {
  applicationWaitStatus,
  applyRootApplication,
  buildGitApplication,
  buildRootApplication,
  createHelm,
  createKubeClient,
  installArgoCd,
  type KubeClient,
  readInitialAdminPassword,
  SecretText,
  toYaml,
  waitForApplication,
  waitForRollouts,
} from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";

// biome-ignore lint/suspicious/noExplicitAny: the tests mutate status objects freely
type Loose = any;

const source = {
  repoURL: "https://github.com/example/homelab.git",
  path: "cluster/app-of-apps",
  targetRevision: "HEAD",
};
const synced = () => ({
  spec: { source },
  status: {
    sync: { status: "Synced", revision: "abc", comparedTo: { source } },
    health: { status: "Healthy" },
    operationState: { phase: "Succeeded", finishedAt: "2026-11-24T10:00:00Z" },
    reconciledAt: "2026-11-24T10:00:01Z",
  },
});

describe("applicationWaitStatus", () => {
  it("waits while a requested refresh is pending: the status is from before it", ({ expect }) => {
    // argo-cd v3.5.1 server/application/application.go Get: a refresh is done once the controller removed
    // the argocd.argoproj.io/refresh annotation (controller/appcontroller.go persistReconciliationStatus)
    const app: Loose = synced();
    app.metadata = { annotations: { "argocd.argoproj.io/refresh": "normal" } };
    expect(applicationWaitStatus(app)).toMatchObject({ done: false, waitingFor: ["the requested refresh"] });
  });

  it("is done when Synced, Healthy, reconciled after the sync and compared against the current spec", ({
    expect,
  }) => {
    expect(applicationWaitStatus(synced())).toEqual({
      done: true,
      sync: "Synced",
      health: "Healthy",
      revision: "abc",
      waitingFor: [],
    });
  });

  it.for<[string, (a: ReturnType<typeof synced> & Record<string, unknown>) => void, string]>([
    ["an operation is pending", (a) => (a.operation = { sync: {} }), "a pending operation"],
    [
      "the last reconcile is older than the sync",
      (a) => (a.status.reconciledAt = "2026-11-24T09:59:00Z"),
      "a reconcile after the last sync",
    ],
    [
      "the sync is still running",
      (a) => (a.status.operationState = { phase: "Running" } as never),
      "the running operation (Running)",
    ],
    [
      "the status was compared against an older spec",
      (a) => (a.status.sync.comparedTo = { source: { ...source, path: "old" } }),
      "a comparison against the current spec",
    ],
    ["it is OutOfSync", (a) => (a.status.sync.status = "OutOfSync"), "sync status OutOfSync"],
    ["it is Progressing", (a) => (a.status.health.status = "Progressing"), "health status Progressing"],
  ])("waits when %s", ([, mutate, reason], { expect }) => {
    const app = synced() as ReturnType<typeof synced> & Record<string, unknown>;
    mutate(app);
    const status = applicationWaitStatus(app);
    expect(status.done).toBe(false);
    expect(status.waitingFor).toContain(reason);
  });

  it("reports a failure for an InvalidSpecError or a failed sync with no retry left", ({ expect }) => {
    const withCondition = synced() as Loose;
    withCondition.status.conditions = [{ type: "InvalidSpecError", message: "project platform not found" }];
    expect(applicationWaitStatus(withCondition).failure).toBe("InvalidSpecError: project platform not found");
    const failed = synced() as Loose;
    failed.status.operationState = {
      phase: "Failed",
      message: "one or more objects failed",
      finishedAt: "2026-11-24T10:00:00Z",
      retryCount: 2,
    };
    failed.spec.syncPolicy = { retry: { limit: 5 } };
    expect(applicationWaitStatus(failed).failure).toBeUndefined();
    failed.status.operationState.retryCount = 5;
    expect(applicationWaitStatus(failed).failure).toBe("sync Failed: one or more objects failed");
  });

  it("waits through a transient ComparisonError instead of failing (argocd app wait ignores conditions)", ({
    expect,
  }) => {
    const app = synced() as Loose;
    app.status.conditions = [{ type: "ComparisonError", message: "rpc error: repo-server unavailable" }];
    const status = applicationWaitStatus(app);
    expect(status.failure).toBeUndefined();
    expect(status.done).toBe(false);
    expect(status.waitingFor.join()).toContain("ComparisonError: rpc error: repo-server unavailable");
  });
});

describe("applyRootApplication", () => {
  let kube: KubeEmulator;
  beforeEach(async () => {
    kube = await createKubeEmulator({ stepMs: 5 });
  });
  afterEach(async () => {
    await kube.close();
  });

  it("throws SYNC_TIMEOUT when the Application CRD never appears", async ({ expect }) => {
    await expect(
      applyRootApplication({
        kubeconfig: kube.kubeconfig,
        application: buildRootApplication(source),
        crdTimeoutMs: 50,
        pollIntervalMs: 10,
      }),
    ).rejects.toMatchObject({
      code: "SYNC_TIMEOUT",
      message: expect.stringContaining("applications.argoproj.io is not established"),
    });
  });

  it("applies with its own field manager and reports no change on a second apply", async ({ expect }) => {
    await installArgoCd({ helm: createHelm({ run: createHelmStandIn({ kube }) }), timeoutMs: 10_000 });
    const first = await applyRootApplication({
      kubeconfig: kube.kubeconfig,
      application: buildRootApplication(source),
    });
    const second = await applyRootApplication({
      kubeconfig: kube.kubeconfig,
      application: buildRootApplication(source),
    });
    const third = await applyRootApplication({
      kubeconfig: kube.kubeconfig,
      application: buildRootApplication({ ...source, targetRevision: "v1.0.0" }),
    });
    expect([first.created, first.changed, second.changed, third.changed]).toEqual([true, true, false, true]);
    const stored = kube.get({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      namespace: "argocd",
      name: "root",
    })!;
    expect((stored.metadata.managedFields as { manager: string }[]).map((m) => m.manager)).toContain(
      "argo-bootstrap",
    );
  });
});

describe("waitForApplication", () => {
  let kube: KubeEmulator;
  beforeEach(async () => {
    kube = await createKubeEmulator({ stepMs: 5 });
    await installArgoCd({ helm: createHelm({ run: createHelmStandIn({ kube }) }), timeoutMs: 10_000 });
    await waitForRollouts({ kubeconfig: kube.kubeconfig, pollIntervalMs: 5 });
  });
  afterEach(async () => {
    await kube.close();
  });

  it("throws SYNC_FAILED naming the condition when the app's project does not exist", async ({ expect }) => {
    const app = buildGitApplication({
      name: "demo",
      project: "missing",
      repoURL: source.repoURL,
      path: "demo",
      destinationNamespace: "demo",
    });
    await applyRootApplication({ kubeconfig: kube.kubeconfig, application: app });
    await expect(
      waitForApplication({ kubeconfig: kube.kubeconfig, name: "demo", pollIntervalMs: 5, timeoutMs: 5_000 }),
    ).rejects.toMatchObject({
      code: "SYNC_FAILED",
      message: expect.stringContaining(
        "InvalidSpecError: Application referencing project missing which does not exist",
      ),
    });
  });

  it("throws SYNC_TIMEOUT with the current state when the app does not become healthy in time", async ({
    expect,
  }) => {
    kube.argo.setHealth("demo", "Progressing");
    const app = buildGitApplication({
      name: "demo",
      repoURL: source.repoURL,
      path: "demo",
      destinationNamespace: "demo",
    });
    await applyRootApplication({ kubeconfig: kube.kubeconfig, application: app });
    await expect(
      waitForApplication({ kubeconfig: kube.kubeconfig, name: "demo", pollIntervalMs: 5, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: "SYNC_TIMEOUT",
      details: { sync: "Synced", health: "Progressing" },
    });
  });

  it("reports no change when the controller wrote the status between the read and the apply", async ({
    expect,
  }) => {
    await installArgoCd({ helm: createHelm({ run: createHelmStandIn({ kube }) }), timeoutMs: 10_000 });
    const application = buildRootApplication(source);
    await applyRootApplication({ kubeconfig: kube.kubeconfig, application });
    // the Application CRD has no status subresource: a status write moves metadata.generation
    const real = createKubeClient({ kubeconfig: kube.kubeconfig });
    const racing: KubeClient = {
      get: async (ref, options) => {
        const found = await real.get(ref, options);
        if (ref.kind === "Application")
          kube.apply(
            {
              apiVersion: "argoproj.io/v1alpha1",
              kind: "Application",
              metadata: { name: "root", namespace: "argocd" },
              status: { reconciledAt: new Date().toISOString(), sync: { status: "Synced" } },
            },
            { fieldManager: "argocd-application-controller" },
          );
        return found;
      },
      apply: (object, options) => real.apply(object, options),
    };
    const again = await applyRootApplication({ kube: racing, application });
    expect(again).toMatchObject({ created: false, changed: false });
  });

  it("asks for a refresh, so an unchanged root syncs what was pushed since (no 3-minute wait)", async ({
    expect,
  }) => {
    await installArgoCd({ helm: createHelm({ run: createHelmStandIn({ kube }) }), timeoutMs: 10_000 });
    const checkout = mkdtempSync(join(tmpdir(), "argo-refresh-"));
    try {
      const tree = join(checkout, "cluster", "app-of-apps");
      mkdirSync(tree, { recursive: true });
      writeFileSync(join(tree, "kustomization.yaml"), "resources: []\n");
      kube.argo.setGitRepo(source.repoURL, checkout);
      const wait = () =>
        waitForApplication({
          kubeconfig: kube.kubeconfig,
          name: "root",
          pollIntervalMs: 5,
          timeoutMs: 5_000,
        });
      await applyRootApplication({ kubeconfig: kube.kubeconfig, application: buildRootApplication(source) });
      await wait();
      // a push: the tree now lists an app
      const child = buildGitApplication({
        name: "pushed",
        repoURL: source.repoURL,
        path: "pushed",
        destinationNamespace: "pushed",
      });
      writeFileSync(join(tree, "pushed.yaml"), toYaml([child]));
      writeFileSync(join(tree, "kustomization.yaml"), "resources: [pushed.yaml]\n");
      const again = await applyRootApplication({
        kubeconfig: kube.kubeconfig,
        application: buildRootApplication(source),
      });
      expect(again.changed).toBe(false);
      await wait();
      const ref = { apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd" };
      expect(kube.get({ ...ref, name: "pushed" })).toBeDefined();
      // the controller consumed the request
      expect(kube.get({ ...ref, name: "root" })?.metadata.annotations).not.toHaveProperty(
        "argocd.argoproj.io/refresh",
      );
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });

  it("syncs the children a Git path renders when the stand-in knows the content", async ({ expect }) => {
    const child = buildGitApplication({
      name: "child",
      repoURL: source.repoURL,
      path: "apps/child",
      destinationNamespace: "child",
    });
    kube.argo.setGitContent(source, [child]);
    await applyRootApplication({ kubeconfig: kube.kubeconfig, application: buildRootApplication(source) });
    await waitForApplication({
      kubeconfig: kube.kubeconfig,
      name: "root",
      pollIntervalMs: 5,
      timeoutMs: 5_000,
    });
    const status = await waitForApplication({
      kubeconfig: kube.kubeconfig,
      name: "child",
      pollIntervalMs: 5,
      timeoutMs: 5_000,
    });
    expect(status).toMatchObject({ done: true, sync: "Synced", health: "Healthy" });
  });
});

describe("readInitialAdminPassword", () => {
  it("says why there is no password when the values set one", async ({ expect }) => {
    const kube = await createKubeEmulator({ stepMs: 5 });
    try {
      await installArgoCd({
        helm: createHelm({ run: createHelmStandIn({ kube }) }),
        values: { configs: { secret: { argocdServerAdminPassword: "$2a$10$abcdefghijklmnopqrstuv" } } },
        timeoutMs: 10_000,
      });
      await waitForRollouts({ kubeconfig: kube.kubeconfig, pollIntervalMs: 5 });
      const result = await readInitialAdminPassword({ kubeconfig: kube.kubeconfig });
      expect(result).toMatchObject({
        found: false,
        reason: expect.stringContaining("configs.secret.argocdServerAdminPassword"),
      });
    } finally {
      await kube.close();
    }
  });
});

describe("SecretText", () => {
  it("never shows the secret in String, JSON or inspect", ({ expect }) => {
    const secret = new SecretText("hunter2-hunter2!");
    expect(`${secret}`).toBe("[redacted]");
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ secret })).not.toContain("hunter2");
    expect(secret.reveal()).toBe("hunter2-hunter2!");
  });
});
