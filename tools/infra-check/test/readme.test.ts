import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, vi } from "vitest";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

describe("README", () => {
  it("runs the ts example as written when the import points at the sources", async ({ expect }) => {
    const file = join(import.meta.dirname, `.readme-example-${process.pid}.ts`);
    await writeFile(file, example.replace('"@talos-homelab/infra-check"', '"../src/index.js"'));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await import(file);
      expect(log.mock.calls).toEqual([[["main.tf:8 MISSING_REQUIRED"]]]);
    } finally {
      log.mockRestore();
      await rm(file, { force: true });
    }
  });
});
