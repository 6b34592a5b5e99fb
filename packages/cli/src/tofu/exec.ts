import { spawn } from "node:child_process";
import { TofuError } from "./errors.js";

/** What the runner hands to an executor for one tofu invocation. */
export interface TofuExecOptions {
  cwd: string;
  /** The complete environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  /** On abort the executor sends SIGINT to the child and resolves once it has exited. */
  signal?: AbortSignal;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
}

/** How one tofu invocation ended. */
export interface TofuExecResult {
  /** null when the child was ended by a signal. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when `signal` aborted the run (SIGINT was forwarded). */
  aborted: boolean;
}

/**
 * Runs `command` with an argument array (never a shell string). Injectable so tests and the CLI
 * context can substitute their own.
 */
export type TofuExec = (
  command: string,
  args: readonly string[],
  options: TofuExecOptions,
) => Promise<TofuExecResult>;

function lineSplitter(onLine: ((line: string) => void) | undefined): {
  push(chunk: string): void;
  end(): void;
} {
  let buffer = "";
  return {
    push(chunk) {
      buffer += chunk;
      let index = buffer.indexOf("\n");
      while (index !== -1) {
        const line = buffer.slice(0, index).replace(/\r$/, "");
        buffer = buffer.slice(index + 1);
        onLine?.(line);
        index = buffer.indexOf("\n");
      }
    },
    end() {
      if (buffer !== "") onLine?.(buffer);
      buffer = "";
    },
  };
}

/**
 * The default {@link TofuExec}: `child_process.spawn` with `shell: false`. The child runs in its
 * own process group, so a terminal Ctrl-C reaches only the CLI, which forwards exactly one SIGINT
 * (a second SIGINT makes tofu abandon its state lock). The promise settles after the child exits.
 *
 * @throws TofuError TOFU_NOT_FOUND when the binary cannot be started.
 */
export const spawnTofu: TofuExec = (command, args, options) =>
  new Promise<TofuExecResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ exitCode: null, signal: null, stdout: "", stderr: "", aborted: true });
      return;
    }
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      shell: false,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let aborted = false;
    const out = lineSplitter(options.onStdoutLine);
    const err = lineSplitter(options.onStderrLine);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      out.push(chunk);
    });
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      err.push(chunk);
    });
    const onAbort = (): void => {
      aborted = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(
        error.code === "ENOENT" || error.code === "EACCES"
          ? new TofuError("TOFU_NOT_FOUND", `cannot run ${command}: ${error.code}`, { cause: error })
          : error,
      );
    });
    child.once("close", (exitCode, signal) => {
      options.signal?.removeEventListener("abort", onAbort);
      out.end();
      err.end();
      resolve({ exitCode, signal, stdout, stderr, aborted });
    });
  });
