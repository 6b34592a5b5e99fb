import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  bootstrapArgoCd,
  buildGitApplication,
  buildRootApplication,
  createHelm,
  toYaml,
} from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";
import { argoCrdsText, run } from "./helpers.js";

let kube: KubeEmulator;
let dir: string;
let kubectl: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

beforeAll(async () => {
  kube = await createKubeEmulator({ stepMs: 10 });
  const crds = parseAllDocuments(argoCrdsText(["application", "appproject"])).map(
    (d) => d.toJS() as Record<string, unknown>,
  );
  await bootstrapArgoCd({
    helm: createHelm({ run: createHelmStandIn({ kube, crds }) }),
    kubeconfig: kube.kubeconfig,
    rootApplication: buildRootApplication({
      repoURL: "https://github.com/example/homelab.git",
      path: "cluster/app-of-apps",
    }),
    pollIntervalMs: 10,
  });
  dir = mkdtempSync(join(tmpdir(), "argo-emulator-"));
  writeFileSync(join(dir, "kubeconfig"), kube.kubeconfig, { mode: 0o600 });
  kubectl = (...args) =>
    run("kubectl", ["--kubeconfig", join(dir, "kubeconfig"), "--cache-dir", join(dir, "cache"), ...args]);
});

afterAll(async () => {
  await kube?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("createKubeEmulator", () => {
  it("answers kubectl get deploy with the Argo CD Deployments rolled out", async ({ expect }) => {
    const result = await kubectl("get", "deploy", "-n", "argocd");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    expect(result.stdout).toMatch(/^argocd-server\s+1\/1\s+1\s+1\s+\d+s$/m);
    expect(result.stdout).toMatch(/^argocd-repo-server\s+1\/1/m);
  });

  it("lists the workloads for kubectl get all through the discovery categories", async ({ expect }) => {
    const result = await kubectl("get", "all", "-n", "argocd");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("deployment.apps/argocd-server");
    expect(result.stdout).toContain("statefulset.apps/argocd-application-controller");
    expect(result.stdout).toContain("service/argocd-server");
  });

  it("prints the Application CRD's printer columns for kubectl get applications", async ({ expect }) => {
    const result = await kubectl("get", "applications", "-n", "argocd");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+SYNC STATUS\s+HEALTH STATUS\s+AGE$/m);
    expect(result.stdout).toMatch(/^root\s+Synced\s+Healthy/m);
  });

  it("satisfies kubectl rollout status for the Deployment and the StatefulSet", async ({ expect }) => {
    const deployment = await kubectl(
      "rollout",
      "status",
      "deploy/argocd-server",
      "-n",
      "argocd",
      "--timeout=10s",
    );
    const statefulSet = await kubectl(
      "rollout",
      "status",
      "statefulset/argocd-application-controller",
      "-n",
      "argocd",
      "--timeout=10s",
    );
    expect(deployment.stdout.trim(), deployment.stderr).toBe(
      'deployment "argocd-server" successfully rolled out',
    );
    expect(statefulSet.stdout.trim(), statefulSet.stderr).toBe(
      "partitioned roll out complete: 1 new pods have been updated...",
    );
  });

  it("lets kubectl watch a rollout through to the end after a spec change", async ({ expect }) => {
    const repo = kube.get({
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: "argocd",
      name: "argocd-repo-server",
    })!;
    const target = { kind: "Deployment" as const, name: "argocd-repo-server" };
    kube.faults.stallRollout(target);
    kube.apply({ ...repo, spec: { ...(repo.spec as object), replicas: 3 } }, { fieldManager: "test" });
    const pending = kubectl(
      "rollout",
      "status",
      "deploy/argocd-repo-server",
      "-n",
      "argocd",
      "--timeout=20s",
    );
    // Hold the rollout until kubectl has had time to start watching, then let it finish.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    kube.faults.resumeRollout(target);
    const result = await pending;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Waiting for deployment "argocd-repo-server" rollout to finish');
    expect(result.stdout.trim().split("\n").at(-1)).toBe(
      'deployment "argocd-repo-server" successfully rolled out',
    );
  });

  it("accepts kubectl apply --server-side and reconciles the new Application", async ({ expect }) => {
    const file = join(dir, "demo.yaml");
    writeFileSync(
      file,
      toYaml([
        buildGitApplication({
          name: "demo",
          repoURL: "https://github.com/example/homelab.git",
          path: "demo",
          destinationNamespace: "demo",
        }),
      ]),
    );
    const applied = await kubectl("apply", "--server-side", "-f", file);
    expect(applied.stdout.trim(), applied.stderr).toBe("application.argoproj.io/demo serverside-applied");
    await kube.waitFor(() => {
      const app = kube.get({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        namespace: "argocd",
        name: "demo",
      });
      return (app?.status as { health?: { status?: string } } | undefined)?.health?.status === "Healthy";
    });
    const managers = (
      kube.get({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        namespace: "argocd",
        name: "demo",
      })!.metadata.managedFields as { manager: string }[]
    ).map((m) => m.manager);
    expect(managers).toContain("kubectl");
  });

  it("reads the initial admin secret the way the Argo CD docs show it", async ({ expect }) => {
    const result = await kubectl(
      "-n",
      "argocd",
      "get",
      "secret",
      "argocd-initial-admin-secret",
      "-o",
      "jsonpath={.data.password}",
    );
    expect(Buffer.from(result.stdout, "base64").toString("utf8")).toMatch(/^[A-Za-z0-9-]{16}$/);
  });

  it("bumps an Application's generation on a status write (its CRD has no status subresource), a Deployment's only on spec changes", ({
    expect,
  }) => {
    // kubernetes apiextensions-apiserver pkg/registry/customresource/strategy.go PrepareForUpdate: without
    // the status subresource every change outside metadata increments the generation
    const ref = { apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "gen" };
    kube.apply(
      buildGitApplication({
        name: "gen",
        repoURL: "https://g.example/r.git",
        path: "x",
        destinationNamespace: "x",
        automated: false,
      }) as never,
      { fieldManager: "test" },
    );
    const first = Number(kube.get(ref)?.metadata.generation);
    kube.apply(
      {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: "gen", namespace: "argocd" },
        status: { reconciledAt: "2026-12-05T10:00:00Z" },
      },
      { fieldManager: "test-controller" },
    );
    expect(Number(kube.get(ref)?.metadata.generation)).toBe(first + 1);
    kube.delete(ref);
    const deployment = { apiVersion: "apps/v1", kind: "Deployment", namespace: "argocd", name: "gen" };
    const metadata = { name: "gen", namespace: "argocd" };
    const template = {
      metadata: { labels: { app: "gen" } },
      spec: { containers: [{ name: "c", image: "i" }] },
    };
    kube.apply(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata,
        spec: { selector: { matchLabels: { app: "gen" } }, template },
      },
      { fieldManager: "test" },
    );
    const generation = kube.get(deployment)?.metadata.generation;
    kube.apply(
      { apiVersion: "apps/v1", kind: "Deployment", metadata, status: { observedGeneration: 99 } },
      { fieldManager: "test-controller" },
    );
    expect(kube.get(deployment)?.metadata.generation).toBe(generation);
    kube.delete(deployment);
  });

  it("answers 404 for an object that does not exist and injected 500s while a fault is set", async ({
    expect,
  }) => {
    const missing = await kubectl("get", "deploy", "nope", "-n", "argocd");
    expect(missing.stderr).toContain('deployments.apps "nope" not found');
    kube.faults.apiError({ status: 500, path: "/namespaces/argocd/secrets", times: 1 });
    const response = await fetch(`${kube.url}/api/v1/namespaces/argocd/secrets`);
    expect(response.status).toBe(500);
    expect((await fetch(`${kube.url}/api/v1/namespaces/argocd/secrets`)).status).toBe(200);
  });

  it("streams watch events to @kubernetes/client-node", async ({ expect }) => {
    const { KubeConfig, Watch } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig);
    const seen: string[] = [];
    const controller = await new Watch(kc).watch(
      "/api/v1/namespaces/argocd/configmaps",
      {},
      (phase, object: { metadata: { name: string } }) => seen.push(`${phase} ${object.metadata.name}`),
      () => {},
    );
    kube.apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "watched", namespace: "argocd" },
      data: { a: "1" },
    });
    await kube.waitFor(() => seen.includes("ADDED watched"));
    kube.apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "watched", namespace: "argocd" },
      data: { a: "2" },
    });
    await kube.waitFor(() => seen.includes("MODIFIED watched"));
    controller.abort();
    expect(seen).toContain("ADDED argocd-cm");
  });

  it("refuses objects in a namespace that does not exist", async ({ expect }) => {
    expect(() =>
      kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "nowhere" } }),
    ).toThrow('namespaces "nowhere" not found');
  });

  it("refuses unknown fields from kubectl (fieldValidation=Strict) and type errors, using the CRD schema", async ({
    expect,
  }) => {
    const file = join(dir, "typo.yaml");
    const app = buildGitApplication({
      name: "typo",
      repoURL: "https://github.com/example/homelab.git",
      path: "typo",
      destinationNamespace: "typo",
    });
    writeFileSync(
      file,
      toYaml([{ ...app, spec: { ...app.spec, source: { ...app.spec.source, targetRevison: "v1" } } }]),
    );
    const unknown = await kubectl("apply", "--server-side", "-f", file);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.source.targetRevison"');
    writeFileSync(
      file,
      toYaml([{ ...app, spec: { ...app.spec, syncPolicy: { automated: { prune: "yes" } } } }]),
    );
    const wrongType = await kubectl("apply", "--server-side", "-f", file);
    expect(wrongType.stderr).toContain(
      'Application.argoproj.io "typo" is invalid: spec.syncPolicy.automated.prune: must be boolean (got string)',
    );
    expect(
      kube.get({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        namespace: "argocd",
        name: "typo",
      }),
    ).toBeUndefined();
  });

  it("prunes unknown fields with a warning when the client does not ask for strict validation", async ({
    expect,
  }) => {
    const response = await fetch(
      `${kube.url}/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/pruned?fieldManager=test`,
      {
        method: "PATCH",
        headers: { "content-type": "application/apply-patch+yaml" },
        body: JSON.stringify({
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Application",
          metadata: { name: "pruned", namespace: "argocd" },
          spec: {
            project: "default",
            source: { repoURL: "https://g.example/r.git", path: "x", colour: "blue" },
            destination: { server: "https://kubernetes.default.svc", namespace: "x" },
          },
        }),
      },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("warning")).toBe('299 - "unknown field \\"spec.source.colour\\""');
    const body = (await response.json()) as { spec: { source: Record<string, unknown> } };
    expect(body.spec.source).toEqual({ repoURL: "https://g.example/r.git", path: "x" });
  });
});
