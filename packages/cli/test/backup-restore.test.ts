import { copyFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decrypt, encrypt, generateAgeKey } from "@talos-homelab/sops";
import { afterEach, beforeEach, describe, it } from "vitest";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { publishLab } from "../src/internal/lab/running.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

/**
 * `homelab backup` and `homelab restore` against a lab published in the state directory (as
 * `homelab lab` does), brought up with `up --simulate` first.
 */

const env = { TS_AUTHKEY: "tskey-backup" };
let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;

async function startProject(example: string, extra = ""): Promise<void> {
  t = await tempDir();
  await writeFile(join(t.dir, "homelab.yaml"), `${await readFile(join(EXAMPLES, example), "utf8")}${extra}`);
  const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env });
  lab = await startLab({ config });
  await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
  const up = await run(["up", "--simulate", "--json"], { cwd: t.dir, env });
  if (up.code !== 0) throw new Error(`up failed: ${up.stdout}${up.stderr}`);
}

afterEach(async () => {
  await lab?.close();
  await t?.cleanup();
});

const calls = (method: string) => lab.emulators.talos.callLog.filter((c) => c.method.endsWith(`/${method}`));

describe("homelab backup", () => {
  beforeEach(() => startProject("homelab.yaml"), 60_000);

  it("writes the snapshot, the secrets (0600) and a manifest with checksums and versions", async ({
    expect,
  }) => {
    const out = join(t.dir, "backup1");
    const r = await run(["backup", "--out", "backup1", "--simulate", "--json"], { cwd: t.dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual(["snapshot", "secrets", "manifest"]);
    expect((await readdir(out)).sort()).toEqual([
      "etcd.snapshot",
      "manifest.json",
      "secrets.yaml",
      "talosconfig",
    ]);
    for (const name of ["etcd.snapshot", "secrets.yaml", "talosconfig", "manifest.json"])
      expect(((await stat(join(out, name))).mode & 0o777).toString(8)).toBe("600");
    expect(((await stat(out)).mode & 0o777).toString(8)).toBe("700");
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({
      version: 1,
      kind: "homelab-backup",
      cluster: "homelab",
      etcd: { node: "node1", address: "192.168.50.200" },
      versions: { talos: "v1.13.9", kubernetes: "1.35.0", argocdChart: "10.4.0" },
    });
    const { createHash } = await import("node:crypto");
    for (const file of manifest.files)
      expect(
        createHash("sha256")
          .update(await readFile(join(out, file.name)))
          .digest("hex"),
      ).toBe(file.sha256);
    expect(await readFile(join(out, "secrets.yaml"), "utf8")).toBe(
      await readFile(join(t.dir, ".homelab/homelab/lab/secrets.yaml"), "utf8"),
    );
    expect(r.stdout + r.stderr).not.toMatch(/BEGIN|bootstraptoken|secretboxEncryptionSecret/);
  }, 60_000);

  it("refuses to write into a directory that is not empty", async ({ expect }) => {
    await writeFile(join(t.dir, "notes.txt"), "x");
    const r = await run(["backup", "--out", ".", "--yes", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe("FILE_EXISTS");
    expect(calls("EtcdSnapshot")).toEqual([]);
  }, 60_000);

  it("refuses without a terminal or --yes, writing nothing", async ({ expect }) => {
    const r = await run(["backup", "--out", "b", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("NEEDS_CONFIRMATION");
    await expect(stat(join(t.dir, "b"))).rejects.toThrow();
  }, 60_000);
});

describe("homelab restore", () => {
  beforeEach(() => startProject("homelab.yaml"), 60_000);

  async function backup(name = "b"): Promise<string> {
    const r = await run(["backup", "--out", name, "--yes", "--json"], { cwd: t.dir, env });
    if (r.code !== 0) throw new Error(`backup failed: ${r.stdout}${r.stderr}`);
    return join(t.dir, name);
  }

  it("refuses a backup whose snapshot changed, naming the file, before touching the cluster", async ({
    expect,
  }) => {
    const dir = await backup();
    const snapshot = join(dir, "etcd.snapshot");
    const bytes = await readFile(snapshot);
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    await writeFile(snapshot, bytes);
    const before = lab.emulators.talos.callLog.length;
    const r = await run(["restore", "b", "--yes", "--wipe", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: "BACKUP_INVALID" });
    expect(r.json().error.message).toContain(`${snapshot}: checksum mismatch`);
    expect(lab.emulators.talos.callLog.length).toBe(before);
  }, 60_000);

  it("refuses a backup of other machine secrets", async ({ expect }) => {
    const dir = await backup();
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
    manifest.machineSecretsSha256 = "0".repeat(64);
    await writeFile(manifestPath, JSON.stringify(manifest));
    const r = await run(["restore", "b", "--yes", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(/other machine secrets/);
  }, 60_000);

  it("refuses while etcd runs unless --wipe, changing nothing", async ({ expect }) => {
    await backup();
    const r = await run(["restore", "b", "--yes", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(/etcd runs on node1: .*nothing was changed/);
    expect(r.json().error.hint).toMatch(/--wipe/);
    expect(calls("EtcdRecover")).toEqual([]);
    expect(calls("Reset")).toEqual([]);
  }, 60_000);
});

describe("homelab restore against a lab", () => {
  async function talosClient() {
    const { createTalosClient } = await import("@talos-homelab/talos-client");
    const talosconfig = await readFile(join(t.dir, `.homelab/${clusterName}/lab/talosconfig`), "utf8");
    return createTalosClient({ talosconfig });
  }
  let clusterName = "homelab";
  const waitFor = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  it("recovers etcd from the backup after its data was lost, and the cluster is healthy", async ({
    expect,
  }) => {
    clusterName = "homelab";
    await startProject("homelab.yaml");
    lab.emulators.talos.etcd.put("/registry/namespaces/shop", "{}");
    const b = await run(["backup", "--out", "b", "--yes", "--json"], { cwd: t.dir, env });
    expect(b.code, b.stderr).toBe(0);
    lab.emulators.talos.etcd.put("/registry/namespaces/after-the-backup", "{}");
    // the disaster: EPHEMERAL (etcd's data) wiped on the only control plane
    const talos = await talosClient();
    try {
      await talos.reset({
        node: "192.168.50.200",
        graceful: false,
        reboot: true,
        systemPartitionsToWipe: ["EPHEMERAL"],
      });
    } finally {
      talos.close();
    }
    await waitFor("etcd's data to be gone", () => !lab.emulators.talos.isBootstrapped());
    await waitFor("node1 to be back", () => lab.emulators.talos.node("node1").state() === "running");
    const r = await run(["restore", "b", "--yes", "--json"], { cwd: t.dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "recover:node1",
      "bootstrap:node1",
      "health",
    ]);
    expect(lab.emulators.talos.etcd.keys()).toEqual(["/registry/namespaces/shop"]);
    const health = await run(["talos", "health", "--json"], { cwd: t.dir, env });
    expect(health.code, health.stderr).toBe(0);
  }, 120_000);

  it("with --wipe, replaces a running etcd: the others leave, every control plane is wiped, then recovered", async ({
    expect,
  }) => {
    clusterName = "homelab-ha";
    await startProject("ha.yaml");
    lab.emulators.talos.etcd.put("/registry/a", "1");
    const b = await run(["backup", "--out", "b", "--yes", "--json"], { cwd: t.dir, env });
    expect(b.code, b.stderr).toBe(0);
    lab.emulators.talos.etcd.put("/registry/b", "2");
    const r = await run(["restore", "b", "--wipe", "--yes", "--json"], { cwd: t.dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual([
      "leave:cp2",
      "leave:cp3",
      "wipe:cp1",
      "wipe:cp2",
      "wipe:cp3",
      "recover:cp1",
      "bootstrap:cp1",
      "health",
    ]);
    expect(lab.emulators.talos.etcd.keys()).toEqual(["/registry/a"]);
    const members = await run(["talos", "etcd", "members", "--json", "--nodes", "192.168.50.11"], {
      cwd: t.dir,
      env,
    });
    expect(
      members
        .json()
        .members.map((m: { hostname: string }) => m.hostname)
        .sort(),
    ).toEqual(["cp1", "cp2", "cp3"]);
  }, 120_000);
});

describe("homelab backup --simulate", () => {
  it("needs the lab `homelab lab` keeps running", async ({ expect }) => {
    t = await tempDir();
    await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
    const r = await run(["backup", "--simulate", "--yes", "--json"], { cwd: t.dir, env });
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: "USAGE", hint: expect.stringContaining("homelab lab") });
  });
});

describe("homelab backup with secrets: in homelab.yaml", () => {
  it("encrypts the machine secrets and talosconfig for the recipients", async ({ expect }) => {
    const key = await generateAgeKey();
    const sopsEnv = { ...env, SOPS_AGE_KEY: key.identity };
    t = await tempDir();
    await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
    await writeFile(
      join(t.dir, "homelab.yaml"),
      `${await readFile(join(t.dir, "homelab.yaml"), "utf8")}secrets:\n  file: secrets.sops.yaml\n  recipients: [${key.recipient}]\n`,
    );
    await writeFile(
      join(t.dir, "secrets.sops.yaml"),
      await encrypt("placeholder: x\n", { format: "yaml", recipients: [key.recipient] }),
    );
    const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env: sopsEnv });
    lab = await startLab({ config });
    await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
    const up = await run(["up", "--simulate", "--json"], { cwd: t.dir, env: sopsEnv });
    expect(up.code, up.stderr).toBe(0);
    const r = await run(["backup", "--out", "b", "--yes", "--json"], { cwd: t.dir, env: sopsEnv });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await readdir(join(t.dir, "b"))).sort()).toEqual([
      "etcd.snapshot",
      "manifest.json",
      "secrets.sops.yaml",
    ]);
    const sealed = await readFile(join(t.dir, "b/secrets.sops.yaml"), "utf8");
    expect(sealed).not.toContain("bootstraptoken");
    const { data } = await decrypt(sealed, { format: "yaml", identities: [key.identity] });
    expect((data as { talos: { secrets: string } }).talos.secrets).toContain("bootstraptoken");
    const manifest = JSON.parse(await readFile(join(t.dir, "b/manifest.json"), "utf8"));
    expect(manifest.files.find((f: { name: string }) => f.name === "secrets.sops.yaml")?.encrypted).toBe(
      true,
    );
  }, 120_000);
});
