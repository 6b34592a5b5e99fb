import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import {
  buildAppProject,
  buildHelmApplication,
  buildRootApplication,
  createHelm,
  installArgoCd,
} from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";

let kube: KubeEmulator;
beforeEach(async () => {
  kube = await createKubeEmulator({ stepMs: 5 });
  await installArgoCd({ helm: createHelm({ run: createHelmStandIn({ kube }) }), timeoutMs: 10_000 });
});
afterEach(async () => {
  await kube.close();
});

const appRef = (name: string) => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Application",
  namespace: "argocd",
  name,
});
interface AppStatus {
  operationState?: { phase?: string; message?: string };
  conditions?: { type: string; message: string }[];
  health?: { status?: string; message?: string };
}
const status = (name: string) => (kube.get(appRef(name))?.status ?? {}) as AppStatus;

describe("the emulator's Argo CD stand-in", () => {
  it("fails the sync of a chart whose objects the AppProject does not permit, as Argo CD does", async ({
    expect,
  }) => {
    kube.apply(
      buildAppProject({
        name: "platform",
        sourceRepos: ["https://charts.jetstack.io"],
        destinationNamespaces: ["cert-manager"],
        clusterResources: [{ group: "*", kind: "*" }],
      }) as never,
    );
    // cert-manager's leader election Role goes to kube-system by default (values.yaml global.leaderElection)
    kube.apply(
      buildHelmApplication({
        name: "cert-manager",
        project: "platform",
        destinationNamespace: "cert-manager",
        repoURL: "https://charts.jetstack.io",
        chart: "cert-manager",
        version: "v1.18.2",
      }) as never,
    );
    await kube.waitFor(() => status("cert-manager").operationState?.phase === "Failed");
    expect(status("cert-manager").operationState?.message).toContain(
      "namespace kube-system is not permitted in project 'platform'",
    );
  });

  it("reports InvalidSpecError for a source repository the project does not list", async ({ expect }) => {
    kube.apply(
      buildAppProject({
        name: "p",
        sourceRepos: ["https://a.example/x.git"],
        destinationNamespaces: ["*"],
      }) as never,
    );
    kube.apply(
      buildHelmApplication({
        name: "t",
        project: "p",
        destinationNamespace: "t",
        repoURL: "https://b.example/charts",
        chart: "c",
        version: "1.0.0",
      }) as never,
    );
    await kube.waitFor(() => (status("t").conditions ?? []).length > 0);
    expect(status("t").conditions?.[0]).toMatchObject({
      type: "InvalidSpecError",
      message: "application repo https://b.example/charts is not permitted in project 'p'",
    });
  });

  it("builds a Git path with kustomize and reports kustomize's refusal as a ComparisonError", async ({
    expect,
  }) => {
    const repo = mkdtempSync(join(tmpdir(), "gitops-"));
    mkdirSync(join(repo, "root"));
    mkdirSync(join(repo, "apps"));
    writeFileSync(join(repo, "apps", "x.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    // a file outside the kustomization root: kustomize's load restriction refuses it
    writeFileSync(join(repo, "root", "kustomization.yaml"), "resources:\n  - ../apps/x.yaml\n");
    kube.argo.setGitRepo("https://git.example/repo.git", repo);
    kube.apply(buildRootApplication({ repoURL: "https://git.example/repo.git", path: "root" }) as never);
    await kube.waitFor(() => (status("root").conditions ?? []).length > 0);
    expect(status("root").conditions?.[0]?.type).toBe("ComparisonError");
    expect(status("root").conditions?.[0]?.message).toMatch(/not in or below/);
  });

  it("aggregates a child Application's health into the parent only with the health check in argocd-cm", async ({
    expect,
  }) => {
    const repo = mkdtempSync(join(tmpdir(), "gitops-"));
    mkdirSync(join(repo, "root"));
    const child = buildHelmApplication({
      name: "edge",
      destinationNamespace: "edge",
      repoURL: "https://traefik.github.io/charts",
      chart: "traefik",
      version: "39.0.5",
    });
    writeFileSync(join(repo, "root", "app.yaml"), JSON.stringify(child));
    kube.argo.setGitRepo("https://git.example/repo.git", repo);
    kube.apply(buildRootApplication({ repoURL: "https://git.example/repo.git", path: "root" }) as never);
    await kube.waitFor(
      () =>
        String(status("edge").health?.message ?? "").includes("load balancer") &&
        status("root").health?.status === "Healthy",
    );
    // without the Lua check Argo CD 3.x gives an Application no health: the root is Healthy anyway
    expect(status("edge").health?.message ?? "").toContain("load balancer");
    await installArgoCd({
      helm: createHelm({ run: createHelmStandIn({ kube }) }),
      syncWaves: true,
      timeoutMs: 10_000,
    });
    await kube.waitFor(() => status("root").health?.status === "Progressing");
    expect(status("root").health?.status).toBe("Progressing");
  });
});
