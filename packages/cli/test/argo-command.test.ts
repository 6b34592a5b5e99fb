import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createHelmStandIn,
  createKubeEmulator,
  type KubeEmulator,
} from "@talos-homelab/argo-bootstrap/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import type { Exec } from "../src/context.js";
import { REPO_ROOT, run, tempDir } from "./helpers.js";

// `homelab argo` against the Kubernetes emulator, with the Helm stand-in (Helm 4) as the helm binary.

const HOMELAB_YAML = `# my homelab
cluster:
  name: homelab
  talosVersion: v1.13.9
  kubernetesVersion: 1.35.0
  endpoint: https://192.168.50.200:6443
nodes:
  - { name: node1, role: controlplane, address: 192.168.50.200, installDisk: /dev/sda }
argocd:
  chartVersion: 10.1.1 # pinned; \`homelab argo upgrade\` moves it
  repoURL: https://github.com/me/homelab.git
  path: cluster/app-of-apps
  namespace: gitops
`;

describe("homelab argo against a cluster", () => {
  let kube: KubeEmulator;
  let dir: { dir: string; cleanup(): Promise<void> };
  let exec: Exec;
  let helmCalls: string[][];
  let kubeconfig: string;
  beforeAll(async () => {
    kube = await createKubeEmulator({ stepMs: 5 });
    dir = await tempDir();
    await writeFile(join(dir.dir, "homelab.yaml"), HOMELAB_YAML);
    kubeconfig = join(dir.dir, "kubeconfig");
    await writeFile(kubeconfig, kube.kubeconfig, { mode: 0o600 });
    const helm = createHelmStandIn({ kube, pollMs: 5 });
    helmCalls = [];
    exec = async (command, args, options) => {
      helmCalls.push([...args]);
      return helm(command, [...args], options?.input === undefined ? {} : { input: options.input });
    };
  });
  afterAll(async () => {
    await kube.close();
    await dir?.cleanup();
  });
  const argo = (args: string[], env: Record<string, string> = {}) =>
    run(["argo", ...args, "--json"], { cwd: dir.dir, exec, env: { KUBECONFIG: kubeconfig, ...env } });

  it("status changes nothing on an empty cluster and says what bootstrap would do", async ({ expect }) => {
    const r = await argo(["status"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({
      changed: true,
      release: { action: "install", namespace: "gitops" },
      rootApplication: { action: "create", namespace: "gitops" },
    });
    expect(helmCalls.filter((c) => ["upgrade", "repo", "rollback"].includes(c[0] ?? ""))).toEqual([]);
    expect(kube.get({ apiVersion: "v1", kind: "Namespace", name: "gitops" })).toBeUndefined();
  });

  it("bootstraps into argocd.namespace, then --force reinstalls the release although it is up to date", async ({
    expect,
  }) => {
    const first = await argo(["bootstrap"]);
    expect(first.code, first.stdout).toBe(0);
    expect(
      kube.get({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        namespace: "gitops",
        name: "root",
      }),
    ).toBeDefined();
    helmCalls.length = 0;
    const again = await argo(["bootstrap"]);
    expect(again.json().unchanged).toBe(true);
    expect(helmCalls.some((c) => c[0] === "upgrade")).toBe(false);
    const forced = await argo(["bootstrap", "--force"]);
    expect(forced.code, forced.stdout).toBe(0);
    expect(helmCalls.filter((c) => c[0] === "upgrade")).toHaveLength(1);
    expect(helmCalls.some((c) => c[0] === "uninstall")).toBe(false);
    // `homelab status` reads the root app in argocd.namespace too
    const status = await run(["status", "--json"], { cwd: dir.dir, exec, env: { KUBECONFIG: kubeconfig } });
    expect(status.json().argocd).toEqual({ apps: [{ name: "root", sync: "Synced", health: "Healthy" }] });
  });

  it("upgrade shows the versions in between and writes the version into homelab.yaml, comments kept", async ({
    expect,
  }) => {
    let stderr = "";
    const r = await run(["argo", "upgrade", "--version", "10.4.0", "--yes"], {
      cwd: dir.dir,
      exec,
      env: { KUBECONFIG: kubeconfig },
    }).then((result) => {
      stderr = result.stderr;
      return result;
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(stderr).toContain("argo/argo-cd\t10.4.0\tv3.5.1\t<- target");
    expect(stderr).not.toContain("\t10.1.1\t");
    const text = await readFile(join(dir.dir, "homelab.yaml"), "utf8");
    expect(text).toContain("chartVersion: 10.4.0 # pinned; `homelab argo upgrade` moves it");
    expect(text.startsWith("# my homelab\n")).toBe(true);
    // the next bootstrap keeps 10.4.0 instead of going back
    const status = await argo(["status"]);
    expect(status.json().release).toMatchObject({ action: "none", live: { chartVersion: "10.4.0" } });
  });

  it("rollback returns to the previous release and says homelab.yaml disagrees", async ({ expect }) => {
    const r = await argo(["rollback"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ chartVersion: "10.1.1", status: "deployed" });
  });

  it("merges a KUBECONFIG list like kubectl: missing files skipped, first current-context wins", async ({
    expect,
  }) => {
    const other = join(dir.dir, "other");
    await writeFile(
      other,
      "apiVersion: v1\nkind: Config\nclusters: [{name: emulator, cluster: {server: 'http://127.0.0.1:9'}}]\n",
    );
    const r = await argo(["status"], { KUBECONFIG: [join(dir.dir, "missing"), kubeconfig, other].join(":") });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().release.live).toBeDefined();
  });
});

describe("homelab argo in a checkout of this repository's cluster/ tree", () => {
  let kube: KubeEmulator;
  let dir: { dir: string; cleanup(): Promise<void> };
  let exec: Exec;
  let kubeconfig: string;
  beforeAll(async () => {
    kube = await createKubeEmulator({ stepMs: 5 });
    dir = await tempDir();
    // a checkout: .git at the top, homelab.yaml in a subdirectory (as examples/ is), argocd.path from the top
    await mkdir(join(dir.dir, ".git"));
    await cp(join(REPO_ROOT, "cluster"), join(dir.dir, "cluster"), { recursive: true });
    await mkdir(join(dir.dir, "lab"));
    await writeFile(
      join(dir.dir, "lab", "homelab.yaml"),
      `${HOMELAB_YAML.replace("  namespace: gitops\n", "")}  clusterSecrets:
    - { namespace: external-dns, name: cloudflare-api-token, data: { api-token: env:CF_DNS } }
`,
    );
    kube.argo.setGitRepo("https://github.com/me/homelab.git", dir.dir);
    kubeconfig = join(dir.dir, "kubeconfig");
    await writeFile(kubeconfig, kube.kubeconfig, { mode: 0o600 });
    const helm = createHelmStandIn({ kube, pollMs: 5 });
    exec = async (command, args, options) =>
      helm(command, [...args], options?.input === undefined ? {} : { input: options.input });
  });
  afterAll(async () => {
    await kube.close();
    await dir?.cleanup();
  });
  const argo = (args: string[]) =>
    run(["argo", ...args, "--json"], {
      cwd: join(dir.dir, "lab"),
      exec,
      env: { KUBECONFIG: kubeconfig, CF_DNS: "t0ken" },
    });

  it("bootstraps the committed bootstrap.yaml and status shows every app of cluster/ Synced and Healthy", async ({
    expect,
  }) => {
    const bootstrap = await argo(["bootstrap"]);
    expect(bootstrap.code, bootstrap.stdout + bootstrap.stderr).toBe(0);
    const status = await argo(["status"]);
    expect(status.code, status.stdout).toBe(0);
    expect(status.json().applications).toEqual([
      { name: "root", sync: "Synced", health: "Healthy" },
      { name: "cert-manager", sync: "Synced", health: "Healthy" },
      { name: "external-dns", sync: "Synced", health: "Healthy" },
      { name: "kube-prometheus-stack", sync: "Synced", health: "Healthy" },
    ]);
    kube.argo.setHealth("external-dns", "Degraded", { message: "Deployment external-dns: 0 of 1 available" });
    await kube.waitFor(
      () =>
        JSON.stringify(
          kube.get({
            apiVersion: "argoproj.io/v1alpha1",
            kind: "Application",
            namespace: "argocd",
            name: "external-dns",
          })?.status,
        ).includes("Degraded"),
      10_000,
    );
    const text = await run(["argo", "status"], {
      cwd: join(dir.dir, "lab"),
      exec,
      env: { KUBECONFIG: kubeconfig, NO_COLOR: "1" },
    });
    expect(text.stdout).toContain(
      "app argocd/external-dns: Synced/Degraded (Deployment external-dns: 0 of 1 available)",
    );
    kube.argo.setHealth("external-dns", undefined);
  });

  it("says precisely why the optional traefik app is not Healthy once enabled without a load balancer", async ({
    expect,
  }) => {
    const apps = join(dir.dir, "cluster", "apps", "kustomization.yaml");
    await writeFile(apps, `${await readFile(apps, "utf8")}  - ../optional/traefik\n`);
    // what the next bootstrap does: a refresh of the unchanged root, which renders the pushed tree
    kube.apply(
      {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: {
          name: "root",
          namespace: "argocd",
          annotations: { "argocd.argoproj.io/refresh": "normal" },
        },
      },
      { fieldManager: "argo-bootstrap" },
    );
    const app = () =>
      kube.get({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        namespace: "argocd",
        name: "traefik",
      });
    await kube.waitFor(() => JSON.stringify(app()?.status ?? {}).includes("load balancer"), 20_000);
    const status = await argo(["status"]);
    expect(status.json().applications, JSON.stringify(status.json().applications)).toContainEqual({
      name: "traefik",
      sync: "Synced",
      health: "Progressing",
      message: expect.stringMatching(
        /^Service traefik\/\S+: waiting for a load balancer address \(none is installed\)$/,
      ),
    });
    // and the root says which child holds it back
    expect(status.json().applications[0]).toMatchObject({
      name: "root",
      health: "Progressing",
      message: "Application argocd/traefik is Progressing",
    });
  });
});
