import { existsSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { validateInfrastructure } from "@talos-homelab/infra-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  createTofuRunner,
  isSecret,
  isTofuError,
  type TofuEvent,
  type TofuExec,
  type TofuRunner,
} from "../src/tofu/index.js";
import { fixturesDir } from "./tofu-examples.js";

const SECRET = "s3cr3t-value-for-the-runner-test";

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "homelab-tofu-runner-"));
  await writeFile(join(scratch, "cli.tfrc"), "");
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh copy of a fixture plus an environment that keeps terraform's data in temp dirs. */
async function workspace(fixture: string): Promise<{ cwd: string; env: Record<string, string> }> {
  const cwd = await mkdtemp(join(scratch, `${fixture}-`));
  await cp(join(fixturesDir, fixture), cwd, { recursive: true });
  await mkdir(join(cwd, ".plugin-cache"));
  return {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: scratch,
      TF_DATA_DIR: join(cwd, ".tf-data"),
      TF_PLUGIN_CACHE_DIR: join(cwd, ".plugin-cache"),
      TF_CLI_CONFIG_FILE: join(scratch, "cli.tfrc"),
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("createTofuRunner against the real binary", () => {
  let tofu: TofuRunner;
  let cwd: string;
  const events: TofuEvent[] = [];
  const onProgress = (e: TofuEvent): void => {
    events.push(e);
  };

  beforeAll(async () => {
    const ws = await workspace("basic");
    cwd = ws.cwd;
    tofu = createTofuRunner({ cwd, env: { ...ws.env, TF_VAR_api_token: SECRET } });
  });

  it("initialises the working directory when init runs on a builtin-only module", async ({ expect }) => {
    const result = await tofu.init({ onProgress });
    expect(result.exitCode).toBe(0);
    expect(result.args).toEqual(expect.arrayContaining(["init", "-input=false", "-json", "-no-color"]));
    expect(result.events.some((e) => e.type === "version")).toBe(true);
    expect(result.events.some((e) => e.type === "init-output")).toBe(true);
    expect(existsSync(join(cwd, ".terraform"))).toBe(false);
  });

  it("reports the binary flavour and version", async ({ expect }) => {
    const version = await tofu.version();
    expect(["tofu", "terraform"]).toContain(version.flavour);
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("finds the configuration valid when validate runs after init", async ({ expect }) => {
    const result = await tofu.validate();
    expect(result.valid).toBe(true);
    expect(result.diagnostics).toEqual([]);
  });

  it("reads the installed providers' schemas, which validate the module offline", async ({ expect }) => {
    const providersSchema = await tofu.providersSchema();
    expect(Object.keys(providersSchema.provider_schemas)).toContain("terraform.io/builtin/terraform");
    // The runner's schema type is the generic JSON; the checker reads the provider_schemas it names.
    const findings = await validateInfrastructure({
      dir: cwd,
      providersSchema: providersSchema as Parameters<typeof validateInfrastructure>[0]["providersSchema"] &
        object,
    });
    // The fixture deliberately has no terraform block: the one finding is that warning.
    expect(findings.map((f) => [f.severity, f.code])).toEqual([["warning", "MISSING_REQUIRED_VERSION"]]);
  });

  it("reads exit code 2 as changes present when the plan has work to do", async ({ expect }) => {
    const result = await tofu.plan({ onProgress });
    expect(result.exitCode).toBe(2);
    expect(result.hasChanges).toBe(true);
    expect(result.changes).toEqual([{ address: "terraform_data.greeting", action: "create" }]);
    expect(result.summary).toEqual({ add: 1, change: 0, import: 0, remove: 0, operation: "plan" });
    expect(result.args).toContain("-detailed-exitcode");
  });

  it("reports resource start and completion events when apply creates the resource", async ({ expect }) => {
    const seen: TofuEvent[] = [];
    const result = await tofu.apply({ onProgress: (e) => seen.push(e) });
    events.push(...seen);
    expect(seen.find((e) => e.type === "resource-start")).toMatchObject({
      address: "terraform_data.greeting",
      action: "create",
    });
    expect(seen.find((e) => e.type === "resource-complete")).toMatchObject({
      address: "terraform_data.greeting",
      action: "create",
      idKey: "id",
    });
    expect(result.summary).toEqual({ add: 1, change: 0, import: 0, remove: 0, operation: "apply" });
  });

  it("reports no changes when planning again after apply", async ({ expect }) => {
    const result = await tofu.plan({ onProgress });
    expect(result.exitCode).toBe(0);
    expect(result.hasChanges).toBe(false);
    expect(result.changes).toEqual([]);
  });

  it("wraps sensitive outputs in a Secret when reading outputs", async ({ expect }) => {
    const outputs = await tofu.output({ onProgress });
    expect(outputs.greeting).toEqual({ sensitive: false, type: "string", value: "hello" });
    const token = outputs.token;
    expect(token?.sensitive).toBe(true);
    expect(isSecret(token?.value)).toBe(true);
    expect(token?.sensitive === true ? token.value.reveal() : undefined).toBe(SECRET);
    expect(JSON.stringify(outputs)).not.toContain(SECRET);
    expect(inspect(outputs, { depth: 10 })).not.toContain(SECRET);
    expect(`${String(token?.value)}`).toBe("[redacted]");
  });

  it("keeps the secret out of every progress event when the run used it", ({ expect }) => {
    expect(events.length).toBeGreaterThan(5);
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(events.find((e) => e.type === "outputs")).toMatchObject({
      outputs: expect.arrayContaining([expect.objectContaining({ name: "token", sensitive: true })]),
    });
  });

  it("removes the resource when destroy runs", async ({ expect }) => {
    const result = await tofu.destroy({ onProgress });
    expect(result.summary).toEqual({ add: 0, change: 0, import: 0, remove: 1, operation: "destroy" });
    expect(Object.keys(await tofu.output())).toEqual([]);
  });
});

describe("createTofuRunner plan files", () => {
  it("applies a saved plan file when plan wrote one with out", async ({ expect }) => {
    const ws = await workspace("basic");
    const tofu = createTofuRunner({ cwd: ws.cwd, env: ws.env });
    await tofu.init();
    const plan = await tofu.plan({ out: "saved.tfplan" });
    expect(plan.hasChanges).toBe(true);
    expect(existsSync(join(ws.cwd, "saved.tfplan"))).toBe(true);
    const applied = await tofu.apply({ planFile: "saved.tfplan" });
    expect(applied.args.at(-1)).toBe("saved.tfplan");
    expect(applied.summary?.add).toBe(1);
    expect((await tofu.plan()).hasChanges).toBe(false);
  });
});

describe("createTofuRunner errors", () => {
  it("surfaces the file and line when the configuration has a syntax error", async ({ expect }) => {
    const ws = await workspace("syntax-error");
    const tofu = createTofuRunner({ cwd: ws.cwd, env: ws.env });
    const error = await rejection(tofu.init());
    expect(isTofuError(error) && error.code).toBe("TOFU_FAILED");
    const diagnostics = (error as { details: { diagnostics: unknown[] } }).details.diagnostics;
    expect(diagnostics[0]).toMatchObject({
      severity: "error",
      summary: "Invalid expression",
      file: "main.tf",
      line: 2,
    });
    expect((error as Error).message).toContain("main.tf:2:");
  });

  it("surfaces the file, line and message when a precondition fails during plan", async ({ expect }) => {
    const ws = await workspace("precondition");
    const tofu = createTofuRunner({ cwd: ws.cwd, env: ws.env });
    await tofu.init();
    const seen: TofuEvent[] = [];
    const error = await rejection(tofu.plan({ onProgress: (e) => seen.push(e) }));
    expect(isTofuError(error) && error.code).toBe("TOFU_FAILED");
    const diagnostic = seen.find((e) => e.type === "diagnostic");
    expect(diagnostic).toMatchObject({
      diagnostic: {
        summary: "Resource precondition failed",
        detail: "replicas must be greater than 2.",
        file: "main.tf",
        line: 11,
      },
    });
    expect((error as Error).message).toContain("main.tf:11:");
  });

  it("forwards SIGINT and waits for tofu to release its state lock when the signal aborts", async ({
    expect,
  }) => {
    const ws = await workspace("interrupt");
    const tofu = createTofuRunner({ cwd: ws.cwd, env: ws.env });
    await tofu.init();
    const controller = new AbortController();
    let lockHeld = false;
    const seen: TofuEvent[] = [];
    const error = await rejection(
      tofu.apply({
        signal: controller.signal,
        onProgress: (e) => {
          seen.push(e);
          if (e.type === "resource-start") {
            lockHeld = existsSync(join(ws.cwd, ".terraform.tfstate.lock.info"));
            controller.abort();
          }
        },
      }),
    );
    expect(lockHeld).toBe(true);
    expect(isTofuError(error) && error.code).toBe("TOFU_INTERRUPTED");
    expect(seen.some((e) => e.type === "interrupt")).toBe(true);
    expect(seen.some((e) => e.type === "log" && e.message.includes("Interrupt received"))).toBe(true);
    expect(existsSync(join(ws.cwd, ".terraform.tfstate.lock.info"))).toBe(false);
    // The lock is free: a locking plan succeeds right away.
    const plan = await tofu.plan({ lockTimeout: "0s" });
    expect(plan.hasChanges).toBe(true);
  });

  it("rejects with TOFU_NOT_FOUND when neither tofu nor terraform is on PATH", async ({ expect }) => {
    const tofu = createTofuRunner({ cwd: scratch, env: { PATH: join(scratch, "empty") } });
    const error = await rejection(tofu.plan());
    expect(isTofuError(error) && error.code).toBe("TOFU_NOT_FOUND");
  });
});

describe("createTofuRunner with an injected exec", () => {
  function recorder(stdout = ""): {
    exec: TofuExec;
    calls: { command: string; args: readonly string[]; env: Record<string, string> }[];
  } {
    const calls: { command: string; args: readonly string[]; env: Record<string, string> }[] = [];
    return {
      calls,
      exec: async (command, args, options) => {
        calls.push({ command, args, env: options.env });
        for (const line of stdout.split("\n")) options.onStdoutLine?.(line);
        return { exitCode: 0, signal: null, stdout, stderr: "", aborted: false };
      },
    };
  }

  it("passes TF_IN_AUTOMATION, -input=false and -no-color when not colouring", async ({ expect }) => {
    const r = recorder();
    const tofu = createTofuRunner({ cwd: scratch, bin: "/opt/tofu", exec: r.exec, env: { HOME: "/h" } });
    await tofu.apply({ lock: false, varFiles: ["a.tfvars"] });
    expect(r.calls[0]?.command).toBe("/opt/tofu");
    expect(r.calls[0]?.args).toEqual([
      "apply",
      "-input=false",
      "-json",
      "-auto-approve",
      "-no-color",
      "-lock=false",
      "-var-file=a.tfvars",
    ]);
    expect(r.calls[0]?.env).toMatchObject({ HOME: "/h", TF_IN_AUTOMATION: "1" });
  });

  it("omits -no-color when colouring and sends variables through TF_VAR_ environment variables", async ({
    expect,
  }) => {
    const r = recorder();
    const tofu = createTofuRunner({ cwd: scratch, bin: "/opt/tofu", exec: r.exec, color: true });
    await tofu.plan({ vars: { tailscale_auth_key: SECRET } });
    expect(r.calls[0]?.args).not.toContain("-no-color");
    expect(r.calls[0]?.args.join(" ")).not.toContain(SECRET);
    expect(r.calls[0]?.env.TF_VAR_tailscale_auth_key).toBe(SECRET);
  });

  it("prefers HOMELAB_TOFU_BIN, then tofu, then terraform when resolving the binary", async ({ expect }) => {
    const bin = join(scratch, "bin");
    await mkdir(bin, { recursive: true });
    for (const name of ["tofu", "terraform"]) {
      await writeFile(join(bin, name), "#!/bin/sh\n");
      await chmod(join(bin, name), 0o755);
    }
    expect(await createTofuRunner({ cwd: scratch, env: { PATH: bin } }).resolveBin()).toBe(join(bin, "tofu"));
    expect(
      await createTofuRunner({
        cwd: scratch,
        env: { PATH: bin, HOMELAB_TOFU_BIN: "/usr/bin/my-tofu" },
      }).resolveBin(),
    ).toBe("/usr/bin/my-tofu");
    await rm(join(bin, "tofu"));
    expect(await createTofuRunner({ cwd: scratch, env: { PATH: bin } }).resolveBin()).toBe(
      join(bin, "terraform"),
    );
  });

  it("rejects with TOFU_BAD_OUTPUT when output -json prints something else", async ({ expect }) => {
    const r = recorder("not json");
    const tofu = createTofuRunner({ cwd: scratch, bin: "/opt/tofu", exec: r.exec });
    const error = await rejection(tofu.output());
    expect(isTofuError(error) && error.code).toBe("TOFU_BAD_OUTPUT");
  });
});
