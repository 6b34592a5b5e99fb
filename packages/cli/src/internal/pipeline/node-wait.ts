import type { Clock } from "../../context.js";
import { HomelabError } from "../../errors.js";

/** Default of `--node-timeout`: long enough for a node that is still booting. */
export const DEFAULT_NODE_TIMEOUT_MS = 120_000;

const NOT_ANSWERING = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "UNREACHABLE"]);

/** Options of {@link waitForNode}. */
export interface WaitForNodeOptions {
  node: { name: string; address: string };
  /** Where the Talos API is reached (address:50000, or the lab's 127.0.0.1 port). */
  endpoint: string;
  timeoutMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Told about each wait (shown once per burst). */
  onRetry: (reason: string, waitMs: number) => void;
  /** Pause between probes; default 2 s. */
  intervalMs?: number;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/** True for an error that means nothing answered (refused, timed out): {@link waitForNode} waits on these. */
export function isNotAnswering(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && NOT_ANSWERING.has(code);
}

/**
 * Runs `probe` until the node answers, for at most `timeoutMs`: a powered-off or still booting
 * node is waited for (each wait reported), then named with its address and what to check. Errors
 * other than "not answering" pass through at once.
 *
 * @throws HomelabError `UNREACHABLE` after the wait.
 */
export async function waitForNode<T>(probe: () => Promise<T>, options: WaitForNodeOptions): Promise<T> {
  const { node, clock } = options;
  const start = clock.now();
  const interval = options.intervalMs ?? 2_000;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (!isNotAnswering(error) || options.signal.aborted) throw error;
      const left = options.timeoutMs - (clock.now() - start);
      if (left <= 0) {
        const seconds = Math.round(options.timeoutMs / 1000);
        throw new HomelabError(
          "UNREACHABLE",
          `${node.name} (${node.address}) did not answer on the Talos API at ${options.endpoint} for ${seconds}s`,
          {
            cause: error,
            details: { node: node.name, address: node.address, endpoint: options.endpoint },
            hint: `check that ${node.name} is powered on and booted (Talos ISO or its install disk), that ${node.address} is its address, and that port 50000 is reachable from here; wait longer with --node-timeout`,
          },
        );
      }
      const wait = Math.min(interval, left);
      options.onRetry(`${node.name} (${node.address}) does not answer on the Talos API`, wait);
      await clock.sleep(wait, options.signal);
    }
  }
}

/** Parses a duration like `90s`, `2m`, `500ms` or a plain number of seconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}
