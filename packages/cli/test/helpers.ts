import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Clock, Exec } from "../src/index.js";
import { createContext, main } from "../src/index.js";

/** Repo root (the worktree). */
export const REPO_ROOT: string = resolve(import.meta.dirname, "../../..");
export const EXAMPLES: string = join(REPO_ROOT, "examples");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary CLI JSON output
  json(): any;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdinTTY?: boolean;
  stderrTTY?: boolean;
  prompt?: (q: string) => Promise<string>;
  signal?: AbortSignal;
  exec?: Exec;
  clock?: Clock;
  /** What stdin holds (for `--config -`). */
  readStdin?: () => Promise<Uint8Array>;
}

/** Runs the CLI through its public entry with injected argv/env/stdio. */
export async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const ctxOptions: Parameters<typeof createContext>[0] = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { HOME: "/nonexistent-home", ...(options.env ?? {}) },
    cwd: options.cwd ?? REPO_ROOT,
    isTTY: { stdin: options.stdinTTY ?? false, stdout: false, stderr: options.stderrTTY ?? false },
    homedir: "/nonexistent-home",
  };
  if (options.prompt) ctxOptions.prompt = options.prompt;
  if (options.signal) ctxOptions.signal = options.signal;
  if (options.exec) ctxOptions.exec = options.exec;
  if (options.clock) ctxOptions.clock = options.clock;
  if (options.readStdin) ctxOptions.readStdin = options.readStdin;
  const code = await main({ argv, context: createContext(ctxOptions) });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

/** A temp directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "homelab-cli-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file under dir (relative paths), sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/**
 * Starts `homelab lab` (`--bare` unless `up` is true) through the public entry in `cwd` and waits
 * for its JSON document; `stop()` ends it as Ctrl-C would.
 */
export async function startLab(cwd: string, env: Record<string, string>, options: { up?: boolean } = {}) {
  const controller = new AbortController();
  let stdout = "";
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("lab did not start")), 60_000);
    const check = () => {
      try {
        const doc = JSON.parse(stdout);
        clearTimeout(timer);
        resolve(doc);
      } catch {
        // not complete yet
      }
    };
    const done = Promise.resolve().then(() =>
      main({
        argv: ["lab", ...(options.up ? [] : ["--bare"]), "--json"],
        context: createContext({
          stdout: {
            write: (s: string) => {
              stdout += s;
              check();
            },
          },
          stderr: { write: () => true },
          env: { HOME: "/nonexistent-home", ...env },
          cwd,
          isTTY: { stdin: false, stdout: false, stderr: false },
          signal: controller.signal,
          homedir: "/nonexistent-home",
        }),
      }),
    );
    done.catch(reject);
  });
  return { ready, stop: () => controller.abort() };
}

/** Real time with sleeps of at most 50 ms: the polls of a roll-out (1-5 s) do not slow a test down. */
export const fastClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(resolve, Math.min(ms, 50));
      signal?.addEventListener("abort", () => {
        clearTimeout(t);
        reject(signal.reason);
      });
    }),
};

/**
 * A lab in this process for the example config copied into `dir`, published in its state directory
 * (as `homelab lab` does, so the CLI uses it) and brought up with `up --simulate`.
 */
export async function upPublishedLab(dir: string, example: string, env: Record<string, string>) {
  const [{ copyFile }, { loadConfig }, { startLab: start }, { publishLab }] = await Promise.all([
    import("node:fs/promises"),
    import("../src/internal/config/load.js"),
    import("../src/internal/lab/lab.js"),
    import("../src/internal/lab/running.js"),
  ]);
  await copyFile(join(EXAMPLES, example), join(dir, "homelab.yaml"));
  const { config } = await loadConfig("homelab.yaml", { cwd: dir, env });
  const lab = await start({ config });
  await publishLab(join(dir, ".homelab", config.cluster.name, "lab"), lab.info);
  const up = await run(["up", "--simulate", "--json"], { cwd: dir, env });
  if (up.code !== 0) {
    await lab.close();
    throw new Error(`up failed: ${up.stdout}${up.stderr}`);
  }
  return lab;
}

/** A Deployment of `replicas` pods labelled app=`name` (what a drain moves). */
export function deployment(name: string, replicas: number, namespace = "default") {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } },
    },
  };
}

/** A PodDisruptionBudget that keeps `minAvailable` pods labelled app=`name`. */
export function budget(name: string, minAvailable: number, namespace = "default") {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace },
    spec: { minAvailable, selector: { matchLabels: { app: name } } },
  };
}
