import { join, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import type { ProcessRunner } from "../adapters/argo-bootstrap.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import type { LabInfo } from "../lab/lab.js";
import type { NodeTrust } from "../pipeline/node-trust.js";
import { parseDuration } from "../pipeline/node-wait.js";

/** Loads the project's homelab.yaml (--config, default ./homelab.yaml). */
export async function loadProject(
  inv: Invocation,
  options: { resolveSecrets?: boolean; placeholderSecrets?: boolean; checkReferences?: boolean } = {},
): Promise<LoadedConfig> {
  const path = inv.flags.config ?? "homelab.yaml";
  const { loadConfig } = await import("../config/load.js");
  const loaded = await loadConfig(path, {
    cwd: inv.ctx.cwd,
    env: inv.ctx.env,
    resolveSecrets: options.resolveSecrets ?? true,
    placeholderSecrets: options.placeholderSecrets === true,
    checkReferences: options.checkReferences === true,
    homedir: inv.ctx.homedir,
    readStdin: inv.ctx.readStdin,
    stdinIsTTY: inv.ctx.isTTY.stdin,
    signal: inv.ctx.signal,
  });
  inv.out.debug(`loaded ${loaded.path}`);
  for (const w of loaded.warnings) inv.out.warn(w);
  return loaded;
}

/** The state directory of a project: `.homelab/<cluster>` next to homelab.yaml, or --state-dir. */
export function stateDirOf(inv: Invocation, loaded: LoadedConfig): string {
  const explicit = inv.options["state-dir"];
  if (typeof explicit === "string") return resolve(inv.ctx.cwd, explicit);
  return join(loaded.dir, ".homelab", loaded.config.cluster.name);
}

/** Asks for confirmation: --yes skips, no TTY without --yes fails with NEEDS_CONFIRMATION. */
export async function confirm(inv: Invocation, question: string): Promise<boolean> {
  if (inv.flags.yes) return true;
  if (!inv.ctx.isTTY.stdin || !inv.ctx.prompt || inv.flags.json) {
    throw new HomelabError("NEEDS_CONFIRMATION", `${question} (not asked: stdin is not a terminal)`, {
      hint: "pass --yes to proceed without a prompt",
    });
  }
  const answer = (await inv.ctx.prompt(`${question} [y/N] `)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

/** A string option, or undefined. */
export function stringOption(inv: Invocation, name: string): string | undefined {
  const v = inv.options[name];
  return typeof v === "string" ? v : undefined;
}

/** A comma-separated list option. */
export function listOption(inv: Invocation, name: string): string[] | undefined {
  const v = stringOption(inv, name);
  if (v === undefined) return undefined;
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * A ProcessRunner for argo-bootstrap (helm) over the Context's exec: the Context's environment with
 * the call's variables over it, and the call's input, signal and timeout passed through.
 */
export function execRunner(inv: Invocation): ProcessRunner {
  return (command, args, options) =>
    inv.ctx.exec(command, args, {
      env: { ...inv.ctx.env, ...(options?.env ?? {}) },
      ...(options?.input !== undefined ? { input: options.input } : {}),
      ...(options?.signal ? { signal: options.signal } : {}),
      ...(options?.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
}

/** `--parallel N`: a whole number from 1; default 8. */
export function parallelOf(value: string | undefined): number {
  if (value === undefined) return 8;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new HomelabError("USAGE", `--parallel needs a whole number from 1, got '${value}'`);
  return Number(value);
}

/** `--node-timeout` in ms (undefined: the default wait). */
export function nodeTimeoutOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new HomelabError("USAGE", `--node-timeout expects a duration like 30s or 5m, got '${value}'`);
  return ms;
}

/**
 * The node trust for a fresh simulated lab: new hardware, so what the state recorded about the
 * last lab's nodes (applied configs, fingerprints) gives way to the fingerprints the lab vouches for.
 */
export function freshLabTrust(info: LabInfo, trust: NodeTrust): NodeTrust {
  const pinned: Record<string, string> = {};
  for (const n of info.nodes) if (n.fingerprint) pinned[n.name] = n.fingerprint;
  return {
    ...trust,
    reinstall: new Set(info.nodes.map((n) => n.name)),
    pinned: { ...trust.pinned, ...pinned },
  };
}
