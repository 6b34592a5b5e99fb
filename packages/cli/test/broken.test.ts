import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "vitest";
import { listFiles, run, tempDir } from "./helpers.js";

const DIR = join(import.meta.dirname, "fixtures", "broken");
const fixtures = (await readdir(DIR)).filter((f) => f.endsWith(".yaml")).sort();

describe("homelab.yaml errors", () => {
  it("has a corpus of broken files", ({ expect }) => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
  });

  it.for(fixtures)("reports the exact error and writes nothing for %s", async (name, { expect }) => {
    const text = await readFile(join(DIR, name), "utf8");
    const t = await tempDir();
    try {
      await copyFile(join(DIR, name), join(t.dir, "homelab.yaml"));
      const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) =>
        `homelab.yaml:${m[1]}`.replace("<dir>", t.dir),
      );
      expect(expected.length).toBeGreaterThan(0);
      const r = await run(["up", "--json"], { cwd: t.dir, env: { TS_AUTHKEY: "tskey-test" } });
      expect(r.code).toBe(1);
      const error = r.json().error;
      expect(error.code).toMatch(/^(CONFIG_INVALID|SECRET_UNRESOLVED)$/);
      const got = (
        error.issues as { file: string; line: number; col: number; path: string; message: string }[]
      ).map((i) => `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`);
      expect(got).toEqual(expected);
      expect(error.message).toContain(expected[0]);
      expect(await listFiles(t.dir)).toEqual(["homelab.yaml"]);
    } finally {
      await t.cleanup();
    }
  });
});
