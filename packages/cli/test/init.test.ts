import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "vitest";
import { listFiles, run, tempDir } from "./helpers.js";

describe("homelab init", () => {
  it("writes homelab.yaml, .gitignore and the skeletons when the directory is empty", async ({ expect }) => {
    const t = await tempDir();
    try {
      const r = await run(["init", "--json"], { cwd: t.dir });
      expect(r.code).toBe(0);
      expect(
        r
          .json()
          .written.map((p: string) => p.slice(t.dir.length + 1))
          .sort(),
      ).toEqual([
        ".gitignore",
        "cluster/app-of-apps/kustomization.yaml",
        "cluster/apps/.gitkeep",
        "cluster/projects/.gitkeep",
        "homelab.yaml",
        "infrastructure/files/.gitkeep",
      ]);
      expect(await readFile(join(t.dir, ".gitignore"), "utf8")).toContain(".homelab/\nsecrets.yaml\n");
      const doctor = await run(["doctor", "--json"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
      expect(doctor.json()).toMatchObject({ errors: 0 });
    } finally {
      await t.cleanup();
    }
  });

  it("refuses to overwrite homelab.yaml without --force and writes nothing", async ({ expect }) => {
    const t = await tempDir();
    try {
      await writeFile(join(t.dir, "homelab.yaml"), "mine\n");
      const r = await run(["init"], { cwd: t.dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("[FILE_EXISTS]");
      expect(await listFiles(t.dir)).toEqual(["homelab.yaml"]);
    } finally {
      await t.cleanup();
    }
  });

  it("appends only missing .gitignore lines and keeps existing directories", async ({ expect }) => {
    const t = await tempDir();
    try {
      await writeFile(join(t.dir, ".gitignore"), "node_modules/\n.homelab/");
      await writeFile(join(t.dir, "keep"), "");
      const { mkdir } = await import("node:fs/promises");
      await mkdir(join(t.dir, "cluster"));
      const r = await run(["init", "--json"], { cwd: t.dir });
      expect(r.json().skipped).toEqual(["cluster/"]);
      const gi = await readFile(join(t.dir, ".gitignore"), "utf8");
      expect(gi.match(/\.homelab\//g)?.length).toBe(1);
      expect(gi.startsWith("node_modules/\n.homelab/\n")).toBe(true);
      expect((await stat(join(t.dir, "homelab.yaml"))).isFile()).toBe(true);
    } finally {
      await t.cleanup();
    }
  });
});

describe("homelab completion", () => {
  it.for(["bash", "zsh", "fish"])("prints a %s script naming every command", async (shell, { expect }) => {
    const r = await run(["completion", shell]);
    expect(r.code).toBe(0);
    for (const c of ["init", "up", "talos", "tunnel", "rotate-token"]) expect(r.stdout).toContain(c);
  });

  it("exits 2 when the shell is unknown", async ({ expect }) => {
    const r = await run(["completion", "tcsh", "--json"]);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("USAGE");
  });
});
