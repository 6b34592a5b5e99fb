import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import {
  type Application,
  type ArgoBootstrapError,
  bootstrapArgoCd,
  buildRootApplication,
  createHelm,
  type ProgressEvent,
  parseManifests,
  waitForApplication,
} from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";
import { repoRoot } from "./helpers.js";

/** cluster/app-of-apps/bootstrap.yaml, with the emulator rendering its repository from this checkout. */
function committedRoot(kube: KubeEmulator): Application {
  const rootApp = parseManifests(
    readFileSync(join(repoRoot, "cluster", "app-of-apps", "bootstrap.yaml"), "utf8"),
  )[0] as Application;
  kube.argo.setGitRepo(rootApp.spec.source.repoURL, repoRoot);
  return rootApp;
}

const FAST = { pollIntervalMs: 15, timeoutMs: 30_000, degradedGraceMs: 100 };
const root = buildRootApplication({
  repoURL: "https://github.com/example/homelab.git",
  path: "cluster/app-of-apps",
});

let kube: KubeEmulator;
beforeEach(async () => {
  kube = await createKubeEmulator({ stepMs: 10 });
});
afterEach(async () => {
  await kube.close();
});

/** Runs bootstrapArgoCd against the emulator through `run` and returns what it throws. */
async function bootstrapError(
  run: ReturnType<typeof createHelmStandIn>,
  timeoutMs: number = FAST.timeoutMs,
): Promise<ArgoBootstrapError> {
  return (await bootstrapArgoCd({
    helm: createHelm({ run }),
    kubeconfig: kube.kubeconfig,
    rootApplication: root,
    ...FAST,
    timeoutMs,
  }).catch((e: unknown) => e)) as ArgoBootstrapError;
}

describe("bootstrapArgoCd", () => {
  it("installs Argo CD, waits for the rollouts and gets the root app Synced and Healthy when the cluster is empty", async ({
    expect,
  }) => {
    const run = createHelmStandIn({ kube });
    const events: ProgressEvent[] = [];
    const result = await bootstrapArgoCd({
      helm: createHelm({ run }),
      kubeconfig: kube.kubeconfig,
      rootApplication: root,
      readAdminPassword: true,
      onProgress: (e) => events.push(e),
      ...FAST,
    });
    expect(result.helm.action).toBe("installed");
    expect(result.helm.release.chartVersion).toBe("10.4.0");
    expect(result.rollouts.map((r) => [r.name, r.done])).toEqual([
      ["argocd-server", true],
      ["argocd-repo-server", true],
      ["argocd-application-controller", true],
    ]);
    expect(result.rootApplication).toMatchObject({
      name: "root",
      created: true,
      status: { sync: "Synced", health: "Healthy", done: true },
    });
    expect(result.adminPassword?.found).toBe(true);
    if (result.adminPassword?.found === true) {
      expect(result.adminPassword.password.reveal()).toMatch(/^[A-Za-z0-9-]{16}$/);
      expect(JSON.stringify(result)).not.toContain(result.adminPassword.password.reveal());
    }
    const upgrade = run.calls.find((c) => c.args[0] === "upgrade")!;
    expect(upgrade.args).toEqual([
      "upgrade",
      "--install",
      "argocd",
      "argo/argo-cd",
      "--namespace",
      "argocd",
      "--create-namespace",
      "--version",
      "10.4.0",
      "--values",
      "-",
      "--wait",
      "--timeout",
      expect.stringMatching(/^\d+s$/),
    ]);
    const apply = kube.requestLog.find((r) => r.method === "PATCH" && r.path.includes("/applications/root"));
    expect(apply).toMatchObject({
      contentType: "application/apply-patch+yaml",
      fieldManager: "argo-bootstrap",
    });
    expect(events.filter((e) => e.type === "rollout-complete").map((e) => e.name)).toHaveLength(3);
    expect(events.at(-1)?.type).toBe("bootstrap-done");
  });

  it("changes nothing when run again on a bootstrapped cluster", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    const options = {
      helm: createHelm({ run }),
      kubeconfig: kube.kubeconfig,
      rootApplication: root,
      ...FAST,
    };
    await bootstrapArgoCd(options);
    const upgradesBefore = run.calls.filter((c) => c.args[0] === "upgrade").length;
    // not the generation: the Application CRD has no status subresource, so the controller's status writes
    // (the refresh bootstrap asks for included) move it
    const spec = kube.get({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      namespace: "argocd",
      name: "root",
    })?.spec;
    const again = await bootstrapArgoCd(options);
    expect(again.unchanged).toBe(true);
    expect(again.helm.action).toBe("unchanged");
    expect(again.rootApplication.changed).toBe(false);
    expect(run.calls.filter((c) => c.args[0] === "upgrade").length).toBe(upgradesBefore);
    expect(
      kube.get({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "root" })
        ?.spec,
    ).toEqual(spec);
  });

  it("throws HELM_FAILED with the helm output tail and a recovery command when the release fails", async ({
    expect,
  }) => {
    const run = createHelmStandIn({ kube });
    run.fail({
      subcommand: "upgrade",
      stderr: "Error: INSTALLATION FAILED: template: argo-cd/templates/x.yaml:3: bad value",
    });
    const error = await bootstrapError(run);
    expect(error.code).toBe("HELM_FAILED");
    expect(error.message).toContain("INSTALLATION FAILED: template");
    expect(error.message).toContain("helm upgrade --install argocd argo/argo-cd");
    expect(error.details?.recovery).toContain("helm status argocd -n argocd");
  });

  it("throws HELM_NOT_FOUND when helm is not installed", async ({ expect }) => {
    const run = createHelmStandIn({ kube, missing: true });
    await expect(
      bootstrapArgoCd({
        helm: createHelm({ run }),
        kubeconfig: kube.kubeconfig,
        rootApplication: root,
        ...FAST,
      }),
    ).rejects.toMatchObject({ code: "HELM_NOT_FOUND" });
  });

  it("throws ROLLOUT_TIMEOUT naming the stuck workload when a rollout never completes", async ({
    expect,
  }) => {
    kube.faults.stallRollout({ kind: "Deployment", name: "argocd-repo-server", mode: "old-replicas" });
    // Helm 3's legacy --wait passes with old replicas left; kubectl's rollout rule does not
    const error = await bootstrapError(createHelmStandIn({ kube, helmVersion: "v3.21.4+g6f2e5b4" }), 3_000);
    expect(error.code).toBe("ROLLOUT_TIMEOUT");
    expect(error.message).toContain(
      'Deployment argocd/argocd-repo-server: Waiting for deployment "argocd-repo-server" rollout to finish: 1 old replicas are pending termination',
    );
    expect(error.message).not.toContain("argocd-server:");
    expect(error.details?.notReady).toEqual([expect.objectContaining({ name: "argocd-repo-server" })]);
  });

  it("throws HELM_TIMEOUT when pods never become ready within helm's --wait", async ({ expect }) => {
    kube.faults.stallRollout({
      kind: "StatefulSet",
      name: "argocd-application-controller",
      mode: "unavailable",
    });
    const error = await bootstrapError(createHelmStandIn({ kube }), 1_000);
    expect(error.code).toBe("HELM_TIMEOUT");
    expect(error.message).toContain("context deadline exceeded");
    expect(error.details?.recovery).toContain("helm rollback argocd -n argocd");
  });

  it("throws APP_DEGRADED when the root app stays Degraded", async ({ expect }) => {
    kube.argo.setHealth("root", "Degraded", { message: "Deployment traefik has 0 available replicas" });
    const error = await bootstrapError(createHelmStandIn({ kube }));
    expect(error.code).toBe("APP_DEGRADED");
    expect(error.message).toContain(
      "Application argocd/root is Degraded: Deployment traefik has 0 available replicas",
    );
  });

  it("throws ABORTED when the signal is aborted during the rollout wait", async ({ expect }) => {
    kube.faults.stallRollout({ kind: "Deployment", name: "argocd-server", mode: "old-replicas" });
    const controller = new AbortController();
    const promise = bootstrapArgoCd({
      helm: createHelm({ run: createHelmStandIn({ kube, helmVersion: "v3.21.4+g6f2e5b4" }) }),
      kubeconfig: kube.kubeconfig,
      rootApplication: root,
      ...FAST,
      onProgress: (e) => {
        if (e.type === "rollout-progress") controller.abort();
      },
      signal: controller.signal,
    });
    await expect(promise).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("puts the Application health check into the values when sync waves are used", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    await bootstrapArgoCd({
      helm: createHelm({ run }),
      kubeconfig: kube.kubeconfig,
      rootApplication: root,
      syncWaves: true,
      ...FAST,
    });
    const cm = kube.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "argocd", name: "argocd-cm" });
    expect(
      (cm!.data as Record<string, string>)["resource.customizations.health.argoproj.io_Application"],
    ).toContain("obj.status.health");
  });

  it.for<[string, string]>([
    ["Helm 3", "v3.21.4+g6f2e5b4"],
    ["Helm 4", "v4.2.4+g1a2b3c4"],
  ])("bootstraps with %s", async ([, helmVersion], { expect }) => {
    const run = createHelmStandIn({ kube, helmVersion });
    const result = await bootstrapArgoCd({
      helm: createHelm({ run }),
      kubeconfig: kube.kubeconfig,
      rootApplication: root,
      ...FAST,
    });
    expect(result.helm.helmVersion).toBe(helmVersion);
    expect(result.rootApplication.status.done).toBe(true);
  });

  it("syncs the committed cluster/ tree: the project and every platform app become Healthy", async ({
    expect,
  }) => {
    // the stand-in renders the root's path from this checkout with kubectl kustomize, as repo-server would
    const rootApp = committedRoot(kube);
    const result = await bootstrapArgoCd({
      helm: createHelm({ run: createHelmStandIn({ kube }) }),
      kubeconfig: kube.kubeconfig,
      rootApplication: rootApp,
      syncWaves: true,
      clusterSecrets: [
        { namespace: "external-dns", name: "cloudflare-api-token", data: { "api-token": "cf-token-value" } },
      ],
      ...FAST,
    });
    expect(result.clusterSecrets).toEqual([
      { namespace: "external-dns", name: "cloudflare-api-token", changed: true },
    ]);
    expect(JSON.stringify(result)).not.toContain("cf-token-value");
    const names = ["cert-manager", "external-dns", "kube-prometheus-stack"];
    const statuses = await Promise.all(
      names.map((name) =>
        waitForApplication({ kubeconfig: kube.kubeconfig, name, pollIntervalMs: 10, timeoutMs: 5_000 }),
      ),
    );
    expect(statuses.map((s) => `${s.sync}/${s.health}`)).toEqual(names.map(() => "Synced/Healthy"));
  });

  it("keeps the root Progressing while external-dns waits for a Secret nobody created", async ({
    expect,
  }) => {
    const rootApp = committedRoot(kube);
    const controller = new AbortController();
    const running = bootstrapArgoCd({
      helm: createHelm({ run: createHelmStandIn({ kube }) }),
      kubeconfig: kube.kubeconfig,
      rootApplication: rootApp,
      syncWaves: true,
      ...FAST,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    const app = (name: string) =>
      kube.get({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name });
    await kube.waitFor(
      () =>
        JSON.stringify(app("external-dns")?.status ?? {}).includes(
          'secret \\"cloudflare-api-token\\" not found',
        ),
      30_000,
    );
    expect(app("external-dns")?.status).toMatchObject({ health: { status: "Progressing" } });
    expect(app("root")?.status).toMatchObject({ health: { status: "Progressing" } });
    controller.abort();
    expect(await running).toMatchObject({ code: "ABORTED" });
  });

  it("reports at once that the admin password is managed by values", async ({ expect }) => {
    const result = await bootstrapArgoCd({
      helm: createHelm({ run: createHelmStandIn({ kube }) }),
      kubeconfig: kube.kubeconfig,
      rootApplication: root,
      values: { configs: { secret: { argocdServerAdminPassword: "$2a$10$abcdefghijklmnopqrstuv" } } },
      readAdminPassword: true,
      ...FAST,
    });
    expect(result.adminPassword).toMatchObject({ found: false });
  });
});
