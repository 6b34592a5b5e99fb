import { describe, it } from "vitest";
import { version } from "../src/index.js";
import { run } from "./helpers.js";

describe("main", () => {
  it("prints the version when --version is given", async ({ expect }) => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it("prints one JSON document when --version --json is given", async ({ expect }) => {
    const r = await run(["--version", "--json"]);
    expect(r.json()).toEqual({ version });
  });

  it("lists every command when --help is given", async ({ expect }) => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const c of [
      "init",
      "render",
      "doctor",
      "plan",
      "up",
      "lab",
      "talos",
      "image",
      "tunnel",
      "argo",
      "infra",
      "completion",
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(r.stderr).toBe("");
  });

  it.for([
    "up",
    "talos version",
    "talos etcd snapshot",
    "tunnel rotate-token",
    "argo upgrade",
    "infra destroy",
    "image urls",
  ])("prints help for '%s' when --help is given", async (command, { expect }) => {
    const r = await run([...command.split(" "), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: homelab ${command}`);
  });

  it("exits 2 with usage on stderr when the command is unknown", async ({ expect }) => {
    const r = await run(["bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'bogus'");
    expect(r.stdout).toBe("");
  });

  it("exits 2 when an option is unknown", async ({ expect }) => {
    const r = await run(["doctor", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  it.for([
    ["up", "--simualte", "--simulate"],
    ["doctor", "--jsn", "--json"],
    ["plan", "--confg", "--config"],
  ])("suggests the nearest option for %s %s", async ([command, typo, meant], { expect }) => {
    const r = await run([command as string, typo as string]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Unknown option '${typo}' (did you mean '${meant}'?)`);
  });

  it("prints a JSON usage error when --json is given with a bad option", async ({ expect }) => {
    const r = await run(["up", "--engine", "ansible", "--json"]);
    expect(r.code).toBe(2);
    expect(r.json()).toEqual({
      error: {
        code: "USAGE",
        source: "homelab",
        message: "--engine must be one of tofu, direct (got 'ansible')",
      },
    });
  });

  it.for([
    ["infra", "bogus"],
    ["infra", "destroyy"],
    ["talos", "etcd", "defrag"],
    ["tunnel", "delete"],
  ])("exits 2 on the unknown verb in '%s %s' and runs nothing", async (argv, { expect }) => {
    const calls: string[][] = [];
    const r = await run([...argv, "--yes"], {
      exec: async (command, args) => {
        calls.push([command, ...args]);
        return { exitCode: 0, stdout: "", stderr: "" };
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown command '${argv[argv.length - 1]}'`);
    expect(calls).toEqual([]);
  });

  it("exits 2 when a noun is given without its verb", async ({ expect }) => {
    const r = await run(["talos"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing command after 'homelab talos'");
  });

  it("exits 2 when a required argument is missing", async ({ expect }) => {
    const r = await run(["completion"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing argument SHELL");
  });

  it("reports a missing config as one JSON error when --json is given", async ({ expect }) => {
    const r = await run(["doctor", "--config", "nope.yaml", "--json"]);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: "CONFIG_NOT_FOUND", source: "homelab" });
  });
});
