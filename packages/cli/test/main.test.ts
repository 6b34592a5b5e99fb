import { describe, it } from "vitest";
import { main, version } from "../src/index.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
  };
}

describe("main", () => {
  it("prints the version with --version", async ({ expect }) => {
    const c = capture();
    expect(await main({ argv: ["--version"], ...c.io })).toBe(0);
    expect(c.out.join("")).toBe(`${version}\n`);
  });

  it("prints help to stdout with --help", async ({ expect }) => {
    const c = capture();
    expect(await main({ argv: ["--help"], ...c.io })).toBe(0);
    expect(c.out.join("")).toContain("Usage: homelab");
  });

  it("exits 2 with usage on stderr for an unknown option", async ({ expect }) => {
    const c = capture();
    expect(await main({ argv: ["--bogus"], ...c.io })).toBe(2);
    expect(c.err.join("")).toContain("unknown command or option '--bogus'");
    expect(c.out).toEqual([]);
  });
});
