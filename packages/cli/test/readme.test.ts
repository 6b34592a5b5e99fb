import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, vi } from "vitest";
import type { TreeNode } from "../src/internal/cli/command.js";
import { ERROR_TABLE } from "../src/internal/cli/error-table.js";
import { ROOT } from "../src/internal/commands/index.js";
import { REPO_ROOT, run } from "./helpers.js";

const readme = await readFile(join(import.meta.dirname, "..", "README.md"), "utf8");
// table rows with their cells trimmed (the formatter pads columns)
const rows = readme
  .split("\n")
  .filter((l) => l.startsWith("|"))
  .map((l) =>
    l
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim()),
  );

describe("README", () => {
  it("runs its ts example when executed as written", async ({ expect }) => {
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const file = join(import.meta.dirname, `.readme-example-${process.pid}.ts`);
    await writeFile(file, code.replace('"@talos-homelab/cli"', '"../src/index.js"'));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const cwd = process.cwd();
    process.chdir(REPO_ROOT);
    try {
      await import(file);
      expect(log.mock.calls).toEqual([[["node1 controlplane 192.168.50.200"]], ["[redacted]"], [0, true, 9]]);
    } finally {
      process.chdir(cwd);
      log.mockRestore();
      await rm(file, { force: true });
    }
  });

  it("lists every command of the tree", async ({ expect }) => {
    const missing: string[] = [];
    const walk = async (node: TreeNode, path: string[]) => {
      if (node.kind === "command") {
        if (!rows.some((r) => r[0]?.startsWith(`\`homelab ${path.join(" ")}`))) missing.push(path.join(" "));
        return;
      }
      for (const [name, load] of Object.entries(node.commands)) await walk(await load(), [...path, name]);
    };
    await walk(ROOT, []);
    expect(missing).toEqual([]);
  });

  it("lists every row of the error table", ({ expect }) => {
    const missing = Object.entries(ERROR_TABLE)
      .filter(([key, v]) => {
        const [source, code] = key.split(":");
        return !rows.some(
          (r) =>
            r[0] === source &&
            r[1] === `\`${code}\`` &&
            r[2] === String(v.exit) &&
            r[3]?.startsWith(v.message),
        );
      })
      .map(([key]) => key);
    expect(missing).toEqual([]);
  });

  it("shows the same command summaries as --help", async ({ expect }) => {
    const help = (await run(["--help"])).stdout;
    for (const load of Object.values(ROOT.commands)) expect(help).toContain((await load()).summary);
  });
});
