import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { Secret } from "../secret.js";
import { TofuError } from "./errors.js";
import {
  formatDiagnostic,
  parseTofuLine,
  type TofuAction,
  type TofuChangeSummary,
  type TofuDiagnostic,
  type TofuEvent,
  toDiagnostic,
} from "./events.js";
import { spawnTofu, type TofuExec } from "./exec.js";

/** `tofu providers schema -json`: provider address to its schemas. */
export interface ProvidersSchema {
  provider_schemas: Record<string, unknown>;
  [key: string]: unknown;
}

/** Options of {@link createTofuRunner}. */
export interface TofuRunnerOptions {
  /** The root module directory (e.g. the project's `infrastructure/`). */
  cwd: string;
  /** Process executor; defaults to {@link spawnTofu}. */
  exec?: TofuExec;
  /** Binary to run (name on PATH or path). Default: `env.HOMELAB_TOFU_BIN`, else `tofu`, else `terraform` on `env.PATH`. */
  bin?: string;
  /**
   * The environment tofu runs with, passed in by the caller (the module never reads
   * `process.env`). Provider credentials such as CLOUDFLARE_API_TOKEN travel here.
   */
  env?: Record<string, string | undefined>;
  /** Let tofu colour its output. Default false, which passes `-no-color`. */
  color?: boolean;
}

/** Options every command accepts. */
export interface TofuCommandOptions {
  signal?: AbortSignal;
  onProgress?: (event: TofuEvent) => void;
  /** Extra environment for this call only. */
  env?: Record<string, string>;
}

/** Options of the commands that read or write state. */
export interface TofuStateOptions extends TofuCommandOptions {
  /** Input variables, passed as TF_VAR_<name> environment variables (never on the command line, which `ps` shows). */
  vars?: Record<string, string>;
  /** `-var-file` arguments, relative to `cwd` or absolute. */
  varFiles?: string[];
  /** Take the state lock (default true). `false` passes `-lock=false`: only for read-only previews against state nobody else writes. */
  lock?: boolean;
  /** `-lock-timeout`, e.g. "60s". */
  lockTimeout?: string;
  /** `-target` addresses. */
  targets?: string[];
}

/** Options of {@link TofuRunner.init}. */
export interface TofuInitOptions extends TofuCommandOptions {
  upgrade?: boolean;
  /** false passes `-backend=false`. */
  backend?: boolean;
  /** "readonly" passes `-lockfile=readonly`. */
  lockfile?: "readonly";
}

/** Options of {@link TofuRunner.plan}. */
export interface TofuPlanOptions extends TofuStateOptions {
  /** Write the plan to this file (`-out`), to apply it later. */
  out?: string;
  destroy?: boolean;
  refresh?: boolean;
}

/** Options of {@link TofuRunner.apply}. */
export interface TofuApplyOptions extends TofuStateOptions {
  /** Apply this saved plan file instead of planning again. */
  planFile?: string;
}

/** What every command returns. */
export interface TofuRunResult {
  /** The executable that ran. */
  bin: string;
  /** The arguments it ran with (never secrets: variables travel in the environment). */
  args: string[];
  exitCode: number;
  events: TofuEvent[];
  diagnostics: TofuDiagnostic[];
}

/** A planned resource change. */
export interface TofuPlannedChange {
  address: string;
  action: TofuAction;
}

/** Result of {@link TofuRunner.plan}. */
export interface TofuPlanResult extends TofuRunResult {
  /** `-detailed-exitcode` 2: changes present (not a failure). */
  hasChanges: boolean;
  summary?: TofuChangeSummary;
  changes: TofuPlannedChange[];
}

/** Result of {@link TofuRunner.apply} and {@link TofuRunner.destroy}. */
export interface TofuApplyResult extends TofuRunResult {
  summary?: TofuChangeSummary;
}

/** One root-module output; sensitive values are wrapped so they cannot be logged by accident. */
export type TofuOutput =
  | { sensitive: false; type: unknown; value: unknown }
  | { sensitive: true; type: unknown; value: Secret<unknown> };

/** Options of {@link TofuRunner.fmt}. */
export interface TofuFmtOptions extends TofuCommandOptions {
  /** Only report (`-check`, default true); false rewrites the files. */
  check?: boolean;
  /** Descend into subdirectories (default true). */
  recursive?: boolean;
}

/** Result of {@link TofuRunner.fmt}. */
export interface TofuFmtResult extends TofuRunResult {
  /** True when every file is formatted canonically. */
  formatted: boolean;
  /** Files that are (check) or were (rewrite) not canonically formatted, relative to `cwd`. */
  files: string[];
}

/** Result of {@link TofuRunner.validate}. */
export interface TofuValidateResult extends TofuRunResult {
  valid: boolean;
}

/** The version report of the binary. */
export interface TofuVersion {
  bin: string;
  /** "tofu" or "terraform", judged by the binary name. */
  flavour: "tofu" | "terraform";
  version: string;
}

/** Drives `tofu` for one root module. Every long call takes `signal` and `onProgress`. */
export interface TofuRunner {
  /** The binary the runner uses. @throws TofuError TOFU_NOT_FOUND */
  resolveBin(): Promise<string>;
  version(options?: TofuCommandOptions): Promise<TofuVersion>;
  init(options?: TofuInitOptions): Promise<TofuRunResult>;
  validate(options?: TofuCommandOptions): Promise<TofuValidateResult>;
  plan(options?: TofuPlanOptions): Promise<TofuPlanResult>;
  apply(options?: TofuApplyOptions): Promise<TofuApplyResult>;
  /** `output -json`; sensitive outputs come back as {@link Secret}. */
  output(options?: TofuCommandOptions): Promise<Record<string, TofuOutput>>;
  destroy(options?: TofuStateOptions): Promise<TofuApplyResult>;
  /**
   * `providers schema -json` after `init`: the schemas of the installed providers (the input the
   * offline check in tools/infra-check reads when no snapshot is at hand).
   */
  providersSchema(options?: TofuCommandOptions): Promise<ProvidersSchema>;
  /** `fmt -check -recursive` (or a rewrite with `check: false`). */
  fmt(options?: TofuFmtOptions): Promise<TofuFmtResult>;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string, pathValue: string | undefined): Promise<string | undefined> {
  for (const dir of (pathValue ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function cleanEnv(env: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Creates a runner for the root module in `cwd`. Every command runs with `-input=false` (where
 * tofu accepts it), `TF_IN_AUTOMATION=1`, `-json` and, unless `color`, `-no-color`.
 *
 * @example
 * ```ts
 * const tofu = createTofuRunner({ cwd: "infrastructure", env: process.env });
 * await tofu.init();
 * const plan = await tofu.plan({ onProgress: (e) => console.error(e.message) });
 * if (plan.hasChanges) await tofu.apply();
 * const outputs = await tofu.output();
 * ```
 * @throws TofuError TOFU_NOT_FOUND, TOFU_FAILED, TOFU_INTERRUPTED, TOFU_BAD_OUTPUT (from the commands)
 */
export function createTofuRunner(options: TofuRunnerOptions): TofuRunner {
  const exec = options.exec ?? spawnTofu;
  const baseEnv = cleanEnv(options.env);
  const cwd = options.cwd;
  let binPromise: Promise<string> | undefined;

  function resolveBin(): Promise<string> {
    binPromise ??= (async () => {
      const explicit = options.bin ?? baseEnv.HOMELAB_TOFU_BIN;
      if (explicit !== undefined && explicit !== "") {
        if (explicit.includes("/")) return isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
        return (await findOnPath(explicit, baseEnv.PATH)) ?? explicit;
      }
      for (const name of ["tofu", "terraform"]) {
        const found = await findOnPath(name, baseEnv.PATH);
        if (found !== undefined) return found;
      }
      throw new TofuError(
        "TOFU_NOT_FOUND",
        "neither tofu nor terraform is on PATH; install OpenTofu or set HOMELAB_TOFU_BIN",
      );
    })();
    binPromise.catch(() => {
      binPromise = undefined;
    });
    return binPromise;
  }

  const colorArgs = (): string[] => (options.color === true ? [] : ["-no-color"]);

  function stateArgs(o: TofuStateOptions): string[] {
    const args: string[] = [];
    if (o.lock === false) args.push("-lock=false");
    if (o.lockTimeout !== undefined) args.push(`-lock-timeout=${o.lockTimeout}`);
    for (const file of o.varFiles ?? []) args.push(`-var-file=${file}`);
    for (const target of o.targets ?? []) args.push(`-target=${target}`);
    return args;
  }

  function varEnv(vars: Record<string, string> | undefined): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(vars ?? {})) env[`TF_VAR_${name}`] = value;
    return env;
  }

  interface Run {
    bin: string;
    args: string[];
    exitCode: number;
    stdout: string;
    events: TofuEvent[];
    diagnostics: TofuDiagnostic[];
  }

  async function run(
    subcommand: string,
    args: string[],
    o: TofuCommandOptions & { vars?: Record<string, string> },
    behaviour: { stream: boolean; okCodes: number[]; quietFailure?: boolean },
  ): Promise<Run> {
    const bin = await resolveBin();
    const fullArgs = [subcommand, ...args];
    const events: TofuEvent[] = [];
    const diagnostics: TofuDiagnostic[] = [];
    const stderrLines: string[] = [];
    const emit = (event: TofuEvent): void => {
      events.push(event);
      if (event.type === "diagnostic") diagnostics.push(event.diagnostic);
      o.onProgress?.(event);
    };
    const onAbort = (): void =>
      emit({ type: "interrupt", message: `interrupting ${subcommand}: SIGINT sent` });
    o.signal?.addEventListener("abort", onAbort, { once: true });
    let result: Awaited<ReturnType<TofuExec>>;
    try {
      result = await exec(bin, fullArgs, {
        cwd,
        env: { ...baseEnv, ...o.env, ...varEnv(o.vars), TF_IN_AUTOMATION: "1", TF_INPUT: "0" },
        ...(o.signal === undefined ? {} : { signal: o.signal }),
        ...(behaviour.stream
          ? {
              onStdoutLine: (line: string) => {
                const event = parseTofuLine(line);
                if (event !== undefined) emit(event);
              },
            }
          : {}),
        onStderrLine: (line: string) => {
          if (line.trim() !== "") stderrLines.push(line);
        },
      });
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
    }
    if (result.aborted) {
      throw new TofuError("TOFU_INTERRUPTED", `${subcommand} interrupted; tofu exited after SIGINT`, {
        details: { command: subcommand, exitCode: result.exitCode, diagnostics },
      });
    }
    const exitCode = result.exitCode ?? 1;
    if (!behaviour.okCodes.includes(exitCode)) {
      const errors = diagnostics.filter((d) => d.severity === "error");
      let reason: string;
      if (errors.length > 0) {
        reason = errors.map(formatDiagnostic).join("; ");
      } else if (behaviour.quietFailure !== true && stderrLines.length > 0) {
        reason = stderrLines.slice(-5).join(" ").trim();
      } else {
        reason = result.signal === null ? `exit code ${exitCode}` : `killed by ${result.signal}`;
      }
      throw new TofuError("TOFU_FAILED", `${subcommand} failed: ${reason}`, {
        details: { command: subcommand, exitCode, diagnostics },
      });
    }
    return { bin, args: fullArgs, exitCode, stdout: result.stdout, events, diagnostics };
  }

  const base = (r: Run): TofuRunResult => ({
    bin: r.bin,
    args: r.args,
    exitCode: r.exitCode,
    events: r.events,
    diagnostics: r.diagnostics,
  });

  const lastSummary = (events: TofuEvent[]): TofuChangeSummary | undefined => {
    let summary: TofuChangeSummary | undefined;
    for (const e of events) if (e.type === "change-summary") summary = e.changes;
    return summary;
  };

  return {
    resolveBin,

    async version(o = {}) {
      const r = await run("version", ["-json"], o, { stream: false, okCodes: [0] });
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch (cause) {
        throw new TofuError("TOFU_BAD_OUTPUT", "version -json did not print JSON", { cause });
      }
      const version =
        isObject(parsed) && typeof parsed.terraform_version === "string" ? parsed.terraform_version : "";
      const name = r.bin.split(/[\\/]/).pop() ?? r.bin;
      return { bin: r.bin, flavour: name.startsWith("terraform") ? "terraform" : "tofu", version };
    },

    async init(o = {}) {
      const args = ["-input=false", "-json", ...colorArgs()];
      if (o.upgrade === true) args.push("-upgrade");
      if (o.backend === false) args.push("-backend=false");
      if (o.lockfile === "readonly") args.push("-lockfile=readonly");
      return base(await run("init", args, o, { stream: true, okCodes: [0] }));
    },

    async validate(o = {}) {
      const r = await run("validate", ["-json", ...colorArgs()], o, { stream: false, okCodes: [0, 1] });
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch (cause) {
        throw new TofuError("TOFU_BAD_OUTPUT", "validate -json did not print JSON", { cause });
      }
      const raw = isObject(parsed) && Array.isArray(parsed.diagnostics) ? parsed.diagnostics : [];
      const diagnostics = raw.map(toDiagnostic);
      const events: TofuEvent[] = diagnostics.map((diagnostic) => ({
        type: "diagnostic",
        message: formatDiagnostic(diagnostic),
        diagnostic,
      }));
      for (const e of events) o.onProgress?.(e);
      return { ...base(r), events, diagnostics, valid: isObject(parsed) && parsed.valid === true };
    },

    async plan(o = {}) {
      const args = ["-input=false", "-json", "-detailed-exitcode", ...colorArgs(), ...stateArgs(o)];
      if (o.out !== undefined) args.push(`-out=${o.out}`);
      if (o.destroy === true) args.push("-destroy");
      if (o.refresh === false) args.push("-refresh=false");
      const r = await run("plan", args, o, { stream: true, okCodes: [0, 2] });
      const changes: TofuPlannedChange[] = [];
      for (const e of r.events) {
        if (e.type === "planned-change") changes.push({ address: e.address, action: e.action });
      }
      const summary = lastSummary(r.events);
      return {
        ...base(r),
        hasChanges: r.exitCode === 2,
        changes,
        ...(summary === undefined ? {} : { summary }),
      };
    },

    async apply(o = {}) {
      const args = ["-input=false", "-json", "-auto-approve", ...colorArgs(), ...stateArgs(o)];
      if (o.planFile !== undefined) args.push(o.planFile);
      const r = await run("apply", args, o, { stream: true, okCodes: [0] });
      const summary = lastSummary(r.events);
      return { ...base(r), ...(summary === undefined ? {} : { summary }) };
    },

    async destroy(o = {}) {
      const args = ["-input=false", "-json", "-auto-approve", ...colorArgs(), ...stateArgs(o)];
      const r = await run("destroy", args, o, { stream: true, okCodes: [0] });
      const summary = lastSummary(r.events);
      return { ...base(r), ...(summary === undefined ? {} : { summary }) };
    },

    async fmt(o = {}) {
      const args = ["-list=true", ...colorArgs()];
      if (o.check !== false) args.push("-check");
      if (o.recursive !== false) args.push("-recursive");
      const r = await run("fmt", args, o, { stream: false, okCodes: [0, 3] });
      const files = r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "");
      return { ...base(r), formatted: r.exitCode === 0 && (o.check === false || files.length === 0), files };
    },

    async providersSchema(o = {}) {
      const r = await run("providers", ["schema", "-json"], o, { stream: false, okCodes: [0] });
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch (cause) {
        throw new TofuError("TOFU_BAD_OUTPUT", "providers schema -json did not print JSON", { cause });
      }
      if (!isObject(parsed) || !isObject(parsed.provider_schemas)) {
        throw new TofuError("TOFU_BAD_OUTPUT", "providers schema -json printed no provider_schemas");
      }
      return parsed as ProvidersSchema;
    },

    async output(o = {}) {
      // stdout holds secret values: it is parsed here and never put into events or errors.
      const r = await run("output", ["-json", ...colorArgs()], o, {
        stream: false,
        okCodes: [0],
        quietFailure: true,
      });
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout === "" ? "{}" : r.stdout);
      } catch {
        throw new TofuError("TOFU_BAD_OUTPUT", "output -json did not print a JSON object");
      }
      if (!isObject(parsed))
        throw new TofuError("TOFU_BAD_OUTPUT", "output -json did not print a JSON object");
      const outputs: Record<string, TofuOutput> = {};
      const names: { name: string; sensitive: boolean }[] = [];
      for (const [name, raw] of Object.entries(parsed)) {
        const entry = isObject(raw) ? raw : {};
        const sensitive = entry.sensitive === true;
        outputs[name] = sensitive
          ? { sensitive: true, type: entry.type, value: new Secret(entry.value, `tofu output ${name}`) }
          : { sensitive: false, type: entry.type, value: entry.value };
        names.push({ name, sensitive });
      }
      o.onProgress?.({ type: "outputs", message: `Outputs: ${names.length}`, outputs: names });
      return outputs;
    },
  };
}
