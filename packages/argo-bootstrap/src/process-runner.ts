import { spawn } from "node:child_process";

/** Options for one {@link ProcessRunner} call. */
export interface ProcessRunOptions {
  /** Extra environment variables, merged over the runner's base environment. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Kill the process (SIGTERM) after this many milliseconds; the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Text written to the process's stdin (then closed). */
  input?: string;
}

/** What a {@link ProcessRunner} call returns once the process has exited. */
export interface ProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when the runner killed the process because `timeoutMs` passed. */
  timedOut?: boolean;
}

/**
 * Runs one program with an argument array (never a shell string). Resolves with the exit code and
 * output whatever the exit code; rejects with an error whose `code` is `"ENOENT"` when the program
 * does not exist.
 */
export type ProcessRunner = (
  command: string,
  args: string[],
  options?: ProcessRunOptions,
) => Promise<ProcessResult>;

/** Options for {@link createProcessRunner}. */
export interface CreateProcessRunnerOptions {
  /**
   * Base environment for every call; a call's `env` is merged over it. When omitted, the parent's
   * environment is the base (`spawn`'s default, and `process.env` for calls that pass `env`): pass it
   * to keep the runner from reading `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Working directory for every call. */
  cwd?: string;
  /** Cap on the stdout/stderr text kept per stream, in characters (default 4 MiB). */
  maxOutputChars?: number;
}

/**
 * The default {@link ProcessRunner}: `node:child_process` `spawn` without a shell.
 *
 * @example
 * ```ts
 * const run = createProcessRunner();
 * const { exitCode, stdout } = await run("helm", ["version", "--short"]);
 * ```
 */
export function createProcessRunner(options: CreateProcessRunnerOptions = {}): ProcessRunner {
  const maxChars = options.maxOutputChars ?? 4 * 1024 * 1024;
  return (command, args, callOptions = {}) =>
    new Promise<ProcessResult>((resolve, reject) => {
      if (callOptions.signal?.aborted) {
        reject(callOptions.signal.reason ?? new Error("aborted"));
        return;
      }
      const env =
        options.env === undefined && callOptions.env === undefined
          ? undefined
          : { ...(options.env ?? process.env), ...callOptions.env };
      const child = spawn(command, args, {
        shell: false,
        stdio: ["pipe", "pipe", "pipe"],
        ...(env === undefined ? {} : { env }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      });
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      let settled = false;
      child.stdout.setEncoding("utf8");
      child.stderr.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        stdout = keepTail(stdout + chunk, maxChars);
      });
      child.stderr.on("data", (chunk: string) => {
        stderr = keepTail(stderr + chunk, maxChars);
      });
      const timer =
        callOptions.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill("SIGTERM");
            }, callOptions.timeoutMs);
      const onAbort = (): void => {
        child.kill("SIGTERM");
      };
      callOptions.signal?.addEventListener("abort", onAbort, { once: true });
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        callOptions.signal?.removeEventListener("abort", onAbort);
      };
      child.on("error", (error) => {
        if (settled) return;
        settled = true;
        finish();
        reject(error);
      });
      child.on("close", (code, signal) => {
        if (settled) return;
        settled = true;
        finish();
        if (callOptions.signal?.aborted) {
          reject(callOptions.signal.reason ?? new Error("aborted"));
          return;
        }
        resolve({
          exitCode: code ?? (signal === null ? 1 : 128 + signalNumber(signal)),
          stdout,
          stderr,
          ...(timedOut ? { timedOut } : {}),
        });
      });
      child.stdin.on("error", () => {
        // The program may exit without reading stdin; its exit status tells the story.
      });
      child.stdin.end(callOptions.input ?? "");
    });
}

function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}
