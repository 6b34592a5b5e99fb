import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as argo from "@talos-homelab/argo-bootstrap";
import { encrypt, generateAgeKey } from "@talos-homelab/sops";
import { afterAll, beforeAll, describe, it } from "vitest";
import type { LoadedConfig } from "../src/internal/config/load.js";
import { argoSettings, gitopsCheckout, readBootstrapFile } from "../src/internal/pipeline/argo-settings.js";
import { createSecretsStore } from "../src/internal/secrets/store.js";
import { EXAMPLES, REPO_ROOT, tempDir } from "./helpers.js";

function app(name: string, wave?: string): string {
  const annotations =
    wave === undefined ? "" : `\n  annotations: { argocd.argoproj.io/sync-wave: "${wave}" }`;
  return `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ${name}\n  namespace: argocd${annotations}\nspec: { project: default }\n`;
}

type Argocd = NonNullable<LoadedConfig["config"]["argocd"]>;
function loaded(dir: string, argocd: Partial<Argocd> = {}): LoadedConfig {
  return {
    path: join(dir, "homelab.yaml"),
    dir,
    text: "",
    warnings: [],
    config: {
      argocd: {
        chartVersion: "10.4.0",
        repoURL: "https://github.com/me/homelab.git",
        path: "cluster/app-of-apps",
        targetRevision: "HEAD",
        namespace: "argocd",
        ...argocd,
      },
    },
  } as unknown as LoadedConfig;
}

/** Writes the project's bootstrap.yaml as `homelab render` does. */
async function writeBootstrap(config: LoadedConfig): Promise<void> {
  const argocd = config.config.argocd as Argocd;
  await writeFile(join(config.dir, argocd.path, "bootstrap.yaml"), argo.bootstrapYamlText(argocd));
}

describe("argoSettings", () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
    // the layout of cluster/: the root's kustomization lists ../apps, where the waves are
    await mkdir(join(dir.dir, "waves/cluster/app-of-apps"), { recursive: true });
    await mkdir(join(dir.dir, "waves/cluster/apps"), { recursive: true });
    await writeFile(join(dir.dir, "waves/cluster/app-of-apps/kustomization.yaml"), "resources: [../apps]\n");
    await writeFile(
      join(dir.dir, "waves/cluster/apps/kustomization.yaml"),
      "resources: [cert-manager.yaml]\n",
    );
    await writeFile(
      join(dir.dir, "waves/cluster/apps/cert-manager.yaml"),
      `${app("cert-manager", "-1")}---\n${app("x")}`,
    );
    await mkdir(join(dir.dir, "flat/cluster/app-of-apps"), { recursive: true });
    await writeFile(join(dir.dir, "flat/cluster/app-of-apps/podinfo.yml"), app("podinfo"));
    await writeFile(
      join(dir.dir, "flat/cluster/app-of-apps/kustomization.yaml"),
      "resources: [podinfo.yml]\n",
    );
    // no kustomization: Argo CD renders every YAML file of the directory, bootstrap.yaml included
    await mkdir(join(dir.dir, "plain/cluster/app-of-apps"), { recursive: true });
    await writeFile(join(dir.dir, "plain/cluster/app-of-apps/podinfo.yml"), app("podinfo"));
    for (const project of ["waves", "flat", "plain"]) await writeBootstrap(loaded(join(dir.dir, project)));
  });
  afterAll(() => dir?.cleanup());

  it("finds sync waves in ../apps through the root's kustomization and adds the health check", async ({
    expect,
  }) => {
    const settings = await argoSettings({
      argo,
      loaded: loaded(join(dir.dir, "waves"), {
        values: { server: { replicas: 2 }, configs: { cm: { "timeout.reconciliation": "60s" } } },
      }),
      env: {},
    });
    expect(settings.syncWaves).toBe(true);
    expect(settings.values).toEqual({
      server: { replicas: 2 },
      configs: {
        cm: { "timeout.reconciliation": "60s", [argo.APPLICATION_HEALTH_KEY]: argo.APPLICATION_HEALTH_LUA },
      },
    });
  });

  it("keeps the values as they are when no manifest has a sync wave", async ({ expect }) => {
    const values = { server: { replicas: 2 } };
    const settings = await argoSettings({ argo, loaded: loaded(join(dir.dir, "flat"), { values }), env: {} });
    expect(settings.syncWaves).toBe(false);
    expect(settings.values).toEqual(values);
  });

  it("applies bootstrap.yaml when it matches homelab.yaml and refuses it when it drifted or is missing", async ({
    expect,
  }) => {
    const project = join(dir.dir, "flat");
    const config = loaded(project, { namespace: "gitops" });
    await writeBootstrap(config);
    const settings = await argoSettings({ argo, loaded: config, env: {} });
    expect(settings.rootApplication.metadata.namespace).toBe("gitops");
    const drifted = loaded(project, { targetRevision: "main", namespace: "gitops" });
    const error = await argoSettings({ argo, loaded: drifted, env: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID", hint: expect.stringContaining("homelab render") });
    expect(String(error)).toContain("cluster/app-of-apps/bootstrap.yaml does not match");
    expect(String(error)).toContain("spec.source.targetRevision");
    await rm(join(project, "cluster/app-of-apps/bootstrap.yaml"));
    await expect(argoSettings({ argo, loaded: config, env: {} })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("cluster/app-of-apps/bootstrap.yaml does not exist"),
    });
    await writeBootstrap(loaded(project));
  });

  it("refuses a tree that renders bootstrap.yaml itself: the root would manage itself", async ({
    expect,
  }) => {
    const error = await argoSettings({ argo, loaded: loaded(join(dir.dir, "plain")), env: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: "CONFIG_INVALID",
      hint: expect.stringContaining("kustomization.yaml"),
    });
    expect(String(error)).toContain("cluster/app-of-apps renders bootstrap.yaml itself");
  });

  it("applies the file of the checkout homelab.yaml is in: argocd.path is relative to the repository", async ({
    expect,
  }) => {
    const repo = join(dir.dir, "repo");
    await mkdir(join(repo, ".git"), { recursive: true });
    await mkdir(join(repo, "cluster/app-of-apps"), { recursive: true });
    await mkdir(join(repo, "examples"), { recursive: true });
    await writeFile(join(repo, "cluster/app-of-apps/kustomization.yaml"), "resources: []\n");
    const config = loaded(join(repo, "examples"), { targetRevision: "v1" });
    expect(gitopsCheckout(config)).toBe(repo);
    await writeBootstrap(loaded(repo, { targetRevision: "v1" }));
    expect((await readBootstrapFile(argo, config, config.config.argocd as Argocd)).state).toBe("in-sync");
    const settings = await argoSettings({ argo, loaded: config, env: {} });
    expect(settings.rootApplication.spec.source).toMatchObject({ targetRevision: "v1" });
    // outside a checkout the paths are relative to homelab.yaml's directory
    expect(gitopsCheckout(loaded(join(dir.dir, "flat")))).toBe(join(dir.dir, "flat"));
  });

  it("applies the Application homelab.yaml renders when the GitOps tree is not checked out here", async ({
    expect,
  }) => {
    const config = loaded(join(dir.dir, "elsewhere"), { targetRevision: "v2" });
    const bootstrap = await readBootstrapFile(argo, config, config.config.argocd as Argocd);
    expect(bootstrap.state).toBe("no-tree");
    expect(argo.parseManifests(bootstrap.text)).toEqual([bootstrap.application]);
    const settings = await argoSettings({ argo, loaded: config, env: {} });
    expect(settings.rootApplication).toEqual(bootstrap.application);
  });

  it("resolves argocd.clusterSecrets from env: references, and refuses an unset one", async ({ expect }) => {
    const config = loaded(join(dir.dir, "waves"), {
      clusterSecrets: [
        { namespace: "external-dns", name: "cloudflare-api-token", data: { "api-token": "env:CF_DNS" } },
      ],
    });
    const settings = await argoSettings({ argo, loaded: config, env: { CF_DNS: "t0ken" } });
    expect(settings.clusterSecrets).toEqual([
      { namespace: "external-dns", name: "cloudflare-api-token", data: { "api-token": "t0ken" } },
    ]);
    const error = await argoSettings({ argo, loaded: config, env: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SECRET_UNRESOLVED" });
    expect(String(error)).toContain("argocd.clusterSecrets[0].data.api-token");
    expect(String(error)).toContain("environment variable CF_DNS is not set");
  });

  it("resolves argocd.clusterSecrets from sops: references in the secrets: file", async ({ expect }) => {
    const key = await generateAgeKey();
    const file = join(dir.dir, "secrets.sops.yaml");
    await writeFile(
      file,
      await encrypt("cloudflare:\n  dnsApiToken: from-sops\n", {
        format: "yaml",
        recipients: [key.recipient],
      }),
    );
    const config = {
      ...loaded(join(dir.dir, "waves"), {
        clusterSecrets: [
          {
            namespace: "external-dns",
            name: "cloudflare-api-token",
            data: { "api-token": "sops:cloudflare.dnsApiToken" },
          },
        ],
      }),
      secrets: createSecretsStore({
        file,
        recipients: [key.recipient],
        env: { SOPS_AGE_KEY: key.identity },
        homedir: "/nonexistent-home",
      }),
    };
    const settings = await argoSettings({ argo, loaded: config, env: {} });
    expect(settings.clusterSecrets[0]?.data).toEqual({ "api-token": "from-sops" });
  });
});

describe("bootstrap.yaml", () => {
  it("is committed in cluster/app-of-apps as homelab render writes it for examples/homelab.yaml", async ({
    expect,
  }) => {
    const { loadConfig } = await import("../src/internal/config/load.js");
    const example = await loadConfig(join(EXAMPLES, "homelab.yaml"), {
      cwd: REPO_ROOT,
      env: { TS_AUTHKEY: "k" },
    });
    const bootstrap = await readBootstrapFile(argo, example, example.config.argocd as Argocd);
    expect(bootstrap.file).toBe(join(REPO_ROOT, "cluster/app-of-apps/bootstrap.yaml"));
    expect(bootstrap.state).toBe("in-sync");
    expect(await readFile(bootstrap.file, "utf8")).toBe(bootstrap.text);
  });
});
