import { HomelabError } from "../../errors.js";
import type { waitUntil } from "./node-steps.js";
import type { Day2StepContext } from "./operation.js";

function messageOf(error: unknown): string {
  const raw = (error as { rawMessage?: unknown })?.rawMessage;
  return typeof raw === "string" ? raw : error instanceof Error ? error.message : String(error);
}

/**
 * Runs `attempt` until it returns a value, for at most `timeoutMs`; `attempt` returns undefined (or
 * throws an error `retryable` accepts) while the node is not there yet. Unlike {@link waitUntil}
 * (a probe saying why not yet), it is for calls that fail until the node is ready, such as
 * EtcdRecover answering FAILED_PRECONDITION, and lets any other error through at once.
 * @throws HomelabError COMMAND_FAILED naming `what` and the last reason after the deadline
 */
export async function retryUntil<T>(
  ctx: Day2StepContext,
  options: { what: string; timeoutMs: number; retryable?: (error: unknown) => boolean; intervalMs?: number },
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = ctx.clock.now() + options.timeoutMs;
  let last = "no answer yet";
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      if (ctx.signal.aborted || (options.retryable && !options.retryable(error))) throw error;
      last = messageOf(error);
    }
    if (ctx.clock.now() >= deadline)
      throw new HomelabError(
        "COMMAND_FAILED",
        `${options.what} did not happen within ${Math.round(options.timeoutMs / 1000)} s (last: ${last})`,
      );
    ctx.progress(`waiting: ${options.what} (${last})`);
    await ctx.clock.sleep(options.intervalMs ?? 500, ctx.signal);
  }
}
