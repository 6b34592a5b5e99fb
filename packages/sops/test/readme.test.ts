import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { decrypt, encrypt, generateAgeKey, rotate } from "../src/index.js";

const readme = readFileSync(join(fileURLToPath(new URL("..", import.meta.url)), "README.md"), "utf8");
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

describe("README", () => {
  it("runs the ts example as written when the imports point at the sources", async ({ expect }) => {
    expect(example).toContain("encrypt(");
    const body = example
      .split("\n")
      .filter((line) => !line.startsWith("import "))
      .join("\n")
      .replace(/console\.log\(/g, "out.push(");
    const out: unknown[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction("decrypt", "encrypt", "generateAgeKey", "rotate", "out", body)(
      decrypt,
      encrypt,
      generateAgeKey,
      rotate,
      out,
    );
    expect(out).toEqual([false, "s3cr3t", "example.com"]);
  });
});
