import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

describe("README", () => {
  it("runs the first ts example when imports point at the sources", async ({ expect }) => {
    const readme = readFileSync(join(here, "..", "README.md"), "utf8");
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const source = code!
      .replace('"@talos-homelab/talos-client/testing"', '"../src/testing/index.js"')
      .replace('"@talos-homelab/talos-client"', '"../src/index.js"');
    const file = join(here, ".readme-example.ts");
    writeFileSync(file, source);
    const logs: unknown[][] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => logs.push(args);
    try {
      await import(file);
    } finally {
      console.log = original;
      rmSync(file, { force: true });
    }
    expect(logs).toEqual([["v1.13.9", 1, expect.any(Number), true]]);
  });
});
