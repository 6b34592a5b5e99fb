import { createTalosEmulator, type TalosEmulator } from "@talos-homelab/talos-client/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createContext, main } from "../src/index.js";

let emulator: TalosEmulator;
let connection: string[];

beforeAll(async () => {
  emulator = await createTalosEmulator({
    nodes: [{ name: "node1", address: "10.5.0.2" }],
    followIntervalMs: 5,
  });
  const node = emulator.node("node1");
  // a node in maintenance mode: server-only TLS, and no node routing there, so the client dials the
  // node itself (here its emulated endpoint), as talosctl --insecure does
  connection = ["--insecure", "--nodes", node.endpoint];
});

afterAll(() => emulator?.close());

/** Runs the CLI, aborting its Context once stdout has `abortAfter` lines. */
async function follow(argv: string[], abortAfter: number) {
  const controller = new AbortController();
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    context: createContext({
      stdout: {
        write: (s: string) => {
          stdout += s;
          if (stdout.split("\n").length > abortAfter) controller.abort();
          return true;
        },
      },
      stderr: {
        write: (s: string) => {
          stderr += s;
          return true;
        },
      },
      env: { HOME: "/nonexistent-home" },
      cwd: "/nonexistent-cwd",
      isTTY: { stdin: false, stdout: false, stderr: false },
      signal: controller.signal,
      homedir: "/nonexistent-home",
    }),
  });
  return { code, lines: stdout.split("\n").filter(Boolean), stderr };
}

describe("homelab talos logs --follow", () => {
  it("prints the last N lines, then new ones, until Ctrl-C aborts the signal", async ({ expect }) => {
    const r = await follow(["talos", "logs", "machined", "--follow", "--tail", "3", ...connection], 5);
    expect(r.code).toBe(130);
    expect(r.stderr).toBe("");
    expect(r.lines.length).toBeGreaterThanOrEqual(5);
    expect(r.lines.slice(0, 5).map((l) => l.replace(/^.* message /, "message "))).toEqual([
      "message 17",
      "message 18",
      "message 19",
      "message 20",
      "message 21",
    ]);
  });

  it("prints one JSON object per line when --json is set", async ({ expect }) => {
    const r = await follow(["talos", "logs", "machined", "-f", "--tail", "0", "--json", ...connection], 2);
    expect(r.code).toBe(130);
    const docs = r.lines.map((l) => JSON.parse(l));
    expect(docs[0]).toEqual({ service: "machined", line: expect.stringMatching(/ machined .*message 20$/) });
    expect(docs[1]?.line).toMatch(/message 21$/);
  });

  it("rejects a --tail that is not a whole number", async ({ expect }) => {
    const r = await follow(["talos", "logs", "machined", "--tail", "ten", ...connection], 100);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--tail needs a whole number of lines, got 'ten'");
  });
});

describe("homelab talos dmesg --follow", () => {
  it("streams kernel messages until Ctrl-C aborts the signal", async ({ expect }) => {
    const r = await follow(["talos", "dmesg", "--follow", ...connection], 22);
    expect(r.code).toBe(130);
    expect(r.lines.length).toBeGreaterThanOrEqual(22);
    expect(r.lines[0]).toMatch(/emulated kernel message 0 on node1$/);
    expect(r.lines[21]).toMatch(/emulated kernel message 21 on node1$/);
  });

  it("ends with the buffer when --follow is not set", async ({ expect }) => {
    const r = await follow(["talos", "dmesg", ...connection], 1000);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(20);
  });
});
