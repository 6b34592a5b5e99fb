import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { bootstrapArgoCd, buildRootApplication, createHelm } from "../src/index.js";
import { createHelmStandIn, createKubeEmulator } from "../src/testing/index.js";

const readme = readFileSync(join(fileURLToPath(new URL("..", import.meta.url)), "README.md"), "utf8");
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

describe("README", () => {
  it("runs the first ts example as written when the imports point at the sources", async ({ expect }) => {
    expect(example).toContain("bootstrapArgoCd(");
    const body = example
      .split("\n")
      .filter((line) => !line.startsWith("import "))
      .join("\n")
      .replace(/console\.(log|error)\(/g, "out.push(");
    const out: unknown[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    const run = new AsyncFunction(
      "bootstrapArgoCd",
      "buildRootApplication",
      "createHelm",
      "createHelmStandIn",
      "createKubeEmulator",
      "out",
      body,
    );
    await run(bootstrapArgoCd, buildRootApplication, createHelm, createHelmStandIn, createKubeEmulator, out);
    expect(out).toContainEqual("Synced");
    expect(out.join(" ")).toContain("admin password:");
    expect(out.some((line) => String(line).includes("successfully rolled out"))).toBe(true);
  });
});
