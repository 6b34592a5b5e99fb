import { readFile, rm, stat, writeFile } from "node:fs/promises";
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
        "cluster/app-of-apps/bootstrap.yaml",
        "cluster/app-of-apps/kustomization.yaml",
        "cluster/apps/.gitkeep",
        "cluster/projects/.gitkeep",
        "homelab.schema.json",
        "homelab.yaml",
        "infrastructure/.gitignore",
        "infrastructure/files/.gitkeep",
      ]);
      expect(await readFile(join(t.dir, ".gitignore"), "utf8")).toContain(".homelab/\nsecrets.yaml\n");
      const doctor = await run(["doctor", "--json"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
      expect(doctor.json()).toMatchObject({ errors: 0 });
      // bootstrap.yaml is the root Application homelab.yaml renders, checked by doctor
      expect(doctor.json().checks).toContainEqual(
        expect.objectContaining({
          layer: "argo-bootstrap",
          check: "root application (cluster/app-of-apps/bootstrap.yaml)",
          result: "ok",
          findings: [],
        }),
      );
    } finally {
      await t.cleanup();
    }
  });

  it("has doctor report a bootstrap.yaml that drifted from homelab.yaml, and render write it again", async ({
    expect,
  }) => {
    const t = await tempDir();
    try {
      expect((await run(["init"], { cwd: t.dir })).code).toBe(0);
      const config = join(t.dir, "homelab.yaml");
      const text = await readFile(config, "utf8");
      await writeFile(
        config,
        text.replace(
          "  path: cluster/app-of-apps\n",
          "  path: cluster/app-of-apps\n  targetRevision: v1.0.0\n",
        ),
      );
      const env = { TS_AUTHKEY: "k", CLOUDFLARE_DNS_API_TOKEN: "t" };
      const drifted = await run(["doctor", "--json"], { cwd: t.dir, env });
      expect(drifted.code).toBe(1);
      // the one error is the drift (unset secret references are warnings: doctor needs no secret values)
      expect(drifted.json().findings.filter((f: { severity: string }) => f.severity === "error")).toEqual([
        {
          source: "argo-bootstrap",
          severity: "error",
          code: "BOOTSTRAP_DRIFT",
          path: "cluster/app-of-apps/bootstrap.yaml",
          message:
            "cluster/app-of-apps/bootstrap.yaml does not match homelab.yaml's argocd section (spec.source.targetRevision)",
          hint: "run `homelab render` to write it from homelab.yaml's argocd section, then commit it",
        },
      ]);
      const render = await run(["render", "--json"], { cwd: t.dir, env });
      expect(render.json().written.map((w: { path: string }) => w.path)).toContain(
        "cluster/app-of-apps/bootstrap.yaml",
      );
      expect(await readFile(join(t.dir, "cluster/app-of-apps/bootstrap.yaml"), "utf8")).toContain(
        "targetRevision: v1.0.0",
      );
      expect((await run(["doctor", "--json"], { cwd: t.dir, env })).json()).toMatchObject({ errors: 0 });
      await rm(join(t.dir, "cluster/app-of-apps/bootstrap.yaml"));
      const missing = await run(["doctor", "--json"], { cwd: t.dir, env });
      expect(missing.json().findings).toEqual([
        expect.objectContaining({
          code: "BOOTSTRAP_MISSING",
          hint: expect.stringContaining("homelab render"),
        }),
      ]);
      // without a kustomization Argo CD renders every file of the directory: bootstrap.yaml too
      await run(["render"], { cwd: t.dir, env });
      await rm(join(t.dir, "cluster/app-of-apps/kustomization.yaml"));
      const itself = await run(["doctor", "--json"], { cwd: t.dir, env });
      expect(itself.json().findings).toEqual([
        expect.objectContaining({
          code: "BOOTSTRAP_SELF_MANAGED",
          message:
            "cluster/app-of-apps renders bootstrap.yaml itself: the root Application would manage itself",
        }),
      ]);
    } finally {
      await t.cleanup();
    }
  });

  it("writes a project the default engine runs: engine chosen with its reason, $schema beside the file", async ({
    expect,
  }) => {
    const t = await tempDir();
    try {
      expect((await run(["init"], { cwd: t.dir })).code).toBe(0);
      const text = await readFile(join(t.dir, "homelab.yaml"), "utf8");
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1] ?? "";
      const schema = JSON.parse(await readFile(join(t.dir, modeline), "utf8"));
      expect(Object.keys(schema.properties)).toEqual(
        expect.arrayContaining(["cluster", "nodes", "tunnel", "engine"]),
      );
      // the engine is explicit, explained in a comment just above it
      expect(text).toMatch(/# How `homelab up` provisions\. direct:[\s\S]*\nengine: direct\n/);
      // every top-level key carries a comment (on its line or the lines just above)
      const lines = text.split("\n");
      const uncommented = lines
        .map((line, i) => ({ line, above: lines[i - 1] ?? "" }))
        .filter(({ line, above }) => /^[a-z]+:/.test(line) && !line.includes("#") && !above.startsWith("#"))
        .map(({ line }) => line);
      expect(uncommented).toEqual(["cluster:"]);
      const up = await run(["up", "--simulate", "--json"], { cwd: t.dir });
      expect(up.code).toBe(0);
      expect(up.json()).toMatchObject({ engine: "direct", simulated: true });
      // each run without `homelab lab` starts new machines: the state of the last lab must not block them
      const again = await run(["up", "--simulate", "--json"], { cwd: t.dir });
      expect(again.code).toBe(0);
    } finally {
      await t.cleanup();
    }
  }, 300_000);

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
