import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decrypt, generateAgeKey } from "@talos-homelab/sops";
import { decryptSops } from "sops-age";
import { afterEach, beforeEach, describe, it } from "vitest";
import { createStateSecrets } from "../src/internal/secrets/state-secrets.js";
import { createSecretsStore } from "../src/internal/secrets/store.js";
import { tempDir } from "./helpers.js";

let t: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  t = await tempDir();
});
afterEach(() => t.cleanup());

async function setup() {
  const key = await generateAgeKey();
  const stateDir = join(t.dir, "state");
  const tmpRoot = join(t.dir, "tmp");
  await mkdir(stateDir, { recursive: true });
  await mkdir(tmpRoot);
  const file = join(t.dir, "secrets.sops.yaml");
  const store = createSecretsStore({
    file,
    recipients: [key.recipient],
    env: { SOPS_AGE_KEY: key.identity },
    homedir: t.dir,
  });
  return { key, stateDir, tmpRoot, file, store };
}

describe("createStateSecrets", () => {
  it("keeps 0600 files in the state dir without a SOPS file", async ({ expect }) => {
    const { stateDir } = await setup();
    const state = createStateSecrets({ stateDir });
    await state.write("talosconfig", "context: x\n");
    expect(await state.read("talosconfig")).toBe("context: x\n");
    expect((await stat(join(stateDir, "talosconfig"))).mode & 0o777).toBe(0o600);
    expect((await state.materialize("talosconfig"))?.path).toBe(join(stateDir, "talosconfig"));
  });

  it("writes into the SOPS file only: nothing in clear text on disk, and sops-age reads it", async ({
    expect,
  }) => {
    const { stateDir, file, store, key, tmpRoot } = await setup();
    const state = createStateSecrets({ stateDir, store, tmpRoot });
    await state.write("secrets.yaml", "cluster:\n  id: abc\n");
    await state.write("kubeconfig", "apiVersion: v1\nkind: Config\n");
    expect(await readdir(stateDir)).toEqual([]);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain("abc");
    expect(await decryptSops(text, { secretKey: key.identity, fileType: "yaml" })).toMatchObject({
      talos: { secrets: "cluster:\n  id: abc\n" },
      kubernetes: { kubeconfig: "apiVersion: v1\nkind: Config\n" },
    });
    expect(state.describe("kubeconfig")).toBe(`${file}#kubernetes.kubeconfig`);
  });

  it("materializes a 0600 temp copy in a 0700 dir and removes it on dispose", async ({ expect }) => {
    const { stateDir, store, tmpRoot } = await setup();
    const state = createStateSecrets({ stateDir, store, tmpRoot });
    await state.write("kubeconfig", "apiVersion: v1\n");
    const copy = await state.materialize("kubeconfig");
    expect(copy).toBeDefined();
    expect(await readFile(copy?.path as string, "utf8")).toBe("apiVersion: v1\n");
    expect((await stat(copy?.path as string)).mode & 0o777).toBe(0o600);
    expect((await stat(join(copy?.path as string, ".."))).mode & 0o777).toBe(0o700);
    await copy?.dispose();
    expect(await readdir(tmpRoot)).toEqual([]);
  });

  it("moves a clear state file from before secrets: into the SOPS file and removes it", async ({
    expect,
  }) => {
    const { stateDir, store, file, key } = await setup();
    await writeFile(join(stateDir, "secrets.yaml"), "old: bundle\n", { mode: 0o600 });
    const state = createStateSecrets({ stateDir, store });
    expect(await state.read("secrets.yaml")).toBe("old: bundle\n");
    expect(await readdir(stateDir)).toEqual([]);
    const { data } = await decrypt(await readFile(file, "utf8"), {
      format: "yaml",
      identities: [key.identity],
    });
    expect(data).toEqual({ talos: { secrets: "old: bundle\n" } });
  });

  it("keeps the simulated lab's secrets under lab., apart from the real cluster's", async ({ expect }) => {
    const { stateDir, store } = await setup();
    const real = createStateSecrets({ stateDir, store });
    const lab = createStateSecrets({ stateDir, store, prefix: "lab" });
    await real.write("talosconfig", "real\n");
    await lab.write("talosconfig", "lab\n");
    expect(await real.read("talosconfig")).toBe("real\n");
    expect(await lab.read("talosconfig")).toBe("lab\n");
    expect(await store.read()).toEqual({
      talos: { talosconfig: "real\n" },
      lab: { talos: { talosconfig: "lab\n" } },
    });
  });
});
