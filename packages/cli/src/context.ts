import type { SpawnOptions } from "node:child_process";

/** A writable text stream (process.stdout, or a test capture). */
export interface TextSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Result of {@link Context.exec}. */
export interface ExecResult {
  /** The exit code (1 when the child was ended by a signal). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The signal that ended the child, if any. */
  signal?: string;
  /** True when `signal` aborted an `interruptible` run (SIGINT was forwarded). */
  aborted?: boolean;
}

/** Options of {@link Context.exec}. */
export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called with each complete stdout line while the process runs. */
  onStdoutLine?: (line: string) => void;
  /** Called with each complete stderr line while the process runs. */
  onStderrLine?: (line: string) => void;
  /**
   * Runs the child in its own process group and, on abort, forwards one SIGINT and resolves once it
   * exited (tofu then releases its state lock). Without it an abort kills the child.
   */
  interruptible?: boolean;
}

/** Runs a program with an argument array (never through a shell). */
export type Exec = (command: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** Time seam. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Every process seam the CLI touches, built once in `bin` (tests build their own). */
export interface Context {
  stdout: TextSink;
  stderr: TextSink;
  /** Reads one line from the terminal; only called when stdin is a TTY. */
  prompt?: (question: string) => Promise<string>;
  /** Reads all of stdin (for `--config -`). */
  readStdin?: () => Promise<Uint8Array>;
  env: Record<string, string | undefined>;
  cwd: string;
  isTTY: { stdin: boolean; stdout: boolean; stderr: boolean };
  exec: Exec;
  clock: Clock;
  /** Aborted on SIGINT. */
  signal: AbortSignal;
  /** The user's home directory (for ~/.talos/config). */
  homedir: string;
}

/** Options of {@link createContext}: the seams to use; anything missing comes from the process. */
export interface CreateContextOptions {
  stdout?: TextSink;
  stderr?: TextSink;
  env?: Record<string, string | undefined>;
  cwd?: string;
  isTTY?: Partial<Context["isTTY"]>;
  exec?: Exec;
  clock?: Clock;
  signal?: AbortSignal;
  homedir?: string;
  prompt?: (question: string) => Promise<string>;
  readStdin?: () => Promise<Uint8Array>;
}

/** The process clock (`Date.now`, `setTimeout`); tests inject their own. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

function lineSplitter(onLine: ((line: string) => void) | undefined) {
  let pending = "";
  return {
    push(chunk: string) {
      if (!onLine) return;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line.replace(/\r$/, ""));
    },
    end() {
      if (onLine && pending !== "") onLine(pending);
      pending = "";
    },
  };
}

/** The default {@link Exec}: `spawn` with an argument array, output collected. */
export const spawnExec: Exec = async (command, args, options = {}) => {
  const { spawn } = await import("node:child_process");
  return new Promise<ExecResult>((resolve, reject) => {
    if (options.interruptible && options.signal?.aborted) {
      resolve({ exitCode: 1, stdout: "", stderr: "", aborted: true });
      return;
    }
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv | undefined,
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
    };
    if (options.interruptible) spawnOptions.detached = true;
    else if (options.signal) spawnOptions.signal = options.signal;
    if (options.timeoutMs !== undefined) spawnOptions.timeout = options.timeoutMs;
    const child = spawn(command, [...args], spawnOptions);
    let stdout = "";
    let stderr = "";
    let aborted = false;
    const out = lineSplitter(options.onStdoutLine);
    const err = lineSplitter(options.onStderrLine);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      out.push(chunk);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      err.push(chunk);
    });
    const onAbort = () => {
      aborted = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    };
    if (options.interruptible) options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (error) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.on("close", (code, signal) => {
      options.signal?.removeEventListener("abort", onAbort);
      out.end();
      err.end();
      const result: ExecResult = { exitCode: code ?? 1, stdout, stderr };
      if (signal) result.signal = signal;
      if (aborted) result.aborted = true;
      resolve(result);
    });
    child.stdin?.end(options.input ?? "");
  });
};

/** Builds the {@link Context}; `bin` calls it once with the real process, tests with their own seams. */
export function createContext(options: CreateContextOptions = {}): Context {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const ctx: Context = {
    stdout,
    stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    isTTY: {
      stdin: options.isTTY?.stdin ?? false,
      stdout: options.isTTY?.stdout ?? stdout.isTTY === true,
      stderr: options.isTTY?.stderr ?? stderr.isTTY === true,
    },
    exec: options.exec ?? spawnExec,
    clock: options.clock ?? realClock,
    signal: options.signal ?? new AbortController().signal,
    homedir: options.homedir ?? options.env?.HOME ?? process.env.HOME ?? "/",
  };
  if (options.prompt) ctx.prompt = options.prompt;
  if (options.readStdin) ctx.readStdin = options.readStdin;
  return ctx;
}
