import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocuments, validateConfig } from "@talos-homelab/talos-config";
import { describe, it } from "vitest";
import { EXAMPLES, run, tempDir } from "./helpers.js";

const LINES = ["v1.11.6", "v1.12.11", "v1.13.9", "v1.14.0", "v1.15.0"];
const examples = (await readdir(EXAMPLES)).filter((f) => f.endsWith(".yaml")).sort();
const cases = examples.flatMap((example) => LINES.map((line) => [example, line] as const));

describe("homelab render --full of the examples", () => {
  it.for(cases)(
    "writes configs for %s on %s that Talos' strict validation accepts",
    async ([example, line], { expect }) => {
      const t = await tempDir();
      try {
        const text = await readFile(join(EXAMPLES, example), "utf8");
        await writeFile(
          join(t.dir, "homelab.yaml"),
          text.replace(/talosVersion: v[0-9.]+/, `talosVersion: ${line}`),
        );
        const r = await run(["render", "--full", "--out", "out", "--json"], { cwd: t.dir });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const configs = (r.json().written as { path: string }[])
          .map((w) => w.path)
          .filter((p) => /^out\/talos\/[^/]+\.yaml$/.test(p) && !p.endsWith(".patch.yaml"));
        expect(configs.length).toBeGreaterThan(0);
        for (const path of configs) {
          const docs = parseDocuments(await readFile(join(t.dir, path), "utf8"));
          expect(() => validateConfig(docs, { target: line })).not.toThrow();
        }
      } finally {
        await t.cleanup();
      }
    },
  );
});
