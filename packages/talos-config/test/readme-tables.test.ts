import { readFileSync } from "node:fs";
import { describe, it } from "vitest";
import { LintCode, TalosConfigErrorCode } from "../src/index.js";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README tables", () => {
  it("list every lint code and every error code", ({ expect }) => {
    const missing = [...Object.keys(LintCode), ...Object.keys(TalosConfigErrorCode)].filter(
      (code) => !README.includes(`| \`${code}\``),
    );
    expect(missing).toEqual([]);
  });
});
