import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "vitest";
import pkg from "../package.json" with { type: "json" };
import { REPO_ROOT } from "./helpers.js";

describe("first run from a checkout", () => {
  // when a source file is newer than the build, bin/homelab builds first (minutes on a busy machine)
  it("bin/homelab runs the built CLI from any directory", { timeout: 600_000 }, ({ expect }) => {
    const stdout = execFileSync(join(REPO_ROOT, "bin", "homelab"), ["--version"], {
      cwd: "/",
      encoding: "utf8",
    });
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  it("pnpm checks engines against the Node that runs the scripts (the node devDependency)", async ({
    expect,
  }) => {
    const workspace = await readFile(join(REPO_ROOT, "pnpm-workspace.yaml"), "utf8");
    const root = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    expect(/^nodeVersion: (\S+)$/m.exec(workspace)?.[1]).toBe(root.devDependencies.node);
  });
});
