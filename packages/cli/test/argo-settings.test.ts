import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as argo from "@talos-homelab/argo-bootstrap";
import { afterAll, beforeAll, describe, it } from "vitest";
import { argoSettings } from "../src/internal/pipeline/argo-settings.js";
import { tempDir } from "./helpers.js";

const rootApplication = argo.buildRootApplication({
  repoURL: "https://github.com/me/homelab.git",
  path: "cluster/app-of-apps",
});

function app(name: string, wave?: string): string {
  const annotations =
    wave === undefined ? "" : `\n  annotations: { argocd.argoproj.io/sync-wave: "${wave}" }`;
  return `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ${name}\n  namespace: argocd${annotations}\nspec: { project: default }\n`;
}

describe("argoSettings", () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
    await mkdir(join(dir.dir, "waves/apps"), { recursive: true });
    await writeFile(join(dir.dir, "waves/kustomization.yaml"), "resources: [apps/cert-manager.yaml]\n");
    await writeFile(
      join(dir.dir, "waves/apps/cert-manager.yaml"),
      `${app("cert-manager", "-1")}---\n${app("x")}`,
    );
    await writeFile(join(dir.dir, "waves/apps/broken.yaml"), "a: [unclosed\n");
    await mkdir(join(dir.dir, "flat"), { recursive: true });
    await writeFile(join(dir.dir, "flat/podinfo.yml"), app("podinfo"));
  });
  afterAll(() => dir?.cleanup());

  it("adds the Application health check to the values when a committed manifest has a sync wave", async ({
    expect,
  }) => {
    const settings = await argoSettings({
      argo,
      treeDir: join(dir.dir, "waves"),
      rootApplication,
      values: { server: { replicas: 2 }, configs: { cm: { "timeout.reconciliation": "60s" } } },
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
    const settings = await argoSettings({ argo, treeDir: join(dir.dir, "flat"), rootApplication, values });
    expect(settings).toEqual({ syncWaves: false, values });
  });

  it("turns waves on when only the root application has a sync wave", async ({ expect }) => {
    const root = {
      ...rootApplication,
      metadata: { ...rootApplication.metadata, annotations: { [argo.SYNC_WAVE_ANNOTATION]: "0" } },
    };
    const settings = await argoSettings({ argo, treeDir: join(dir.dir, "missing"), rootApplication: root });
    expect(settings.syncWaves).toBe(true);
    expect(settings.values).toEqual(argo.withApplicationHealthCheck({}));
  });

  it("reports no waves when the tree does not exist", async ({ expect }) => {
    const settings = await argoSettings({ argo, treeDir: join(dir.dir, "missing"), rootApplication });
    expect(settings).toEqual({ syncWaves: false, values: {} });
  });
});
