import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import { confirm } from "../commands/common.js";
import { acquireStateLock } from "../pipeline/lock.js";
import { type Journal, journalFor, readJournal } from "./journal.js";
import { applyDay2, type Day2Plan, type Day2Result, day2PlanToJson, renderDay2Plan } from "./operation.js";

/** What {@link runDay2} needs from a command. */
export interface RunDay2Options {
  /** The project's state directory (the journal and the lock live there). */
  stateDir: string;
  /** File-name safe operation name, e.g. `upgrade-talos`. */
  operation: string;
  /** A simulated run (against the lab): asked on a terminal only, as `up --simulate`. */
  simulate: boolean;
  /**
   * Reads the live system and returns the plan; changes nothing. Gets the journal of the last run
   * (to keep nodes a stopped run left half way in the plan).
   */
  plan(previous: Journal | undefined): Promise<Day2Plan>;
  /** The confirmation question, e.g. `upgrade Talos on 3 node(s)?`. */
  question(plan: Day2Plan): string;
  /** Runs after the last step (closing clients); also when a step failed. */
  finally?: () => Promise<void> | void;
}

/** One line per step of a finished run. */
export function renderDay2Result(result: Day2Result, plan: Day2Plan): string {
  const lines = [
    "",
    `${plan.summary}: done${result.resumed > 0 ? ` (resumed: ${result.resumed} step(s) done earlier)` : ""}.`,
  ];
  for (const s of result.steps)
    lines.push(`  ${s.status === "done" ? "✓" : "="} ${s.description}: ${s.detail}`);
  return lines.join("\n");
}

/**
 * A day-2 command: takes the state lock, plans (read only), shows the plan, asks (--yes skips; no
 * terminal without --yes: NEEDS_CONFIRMATION, exit 2, nothing changed), then applies it step by step
 * with the journal, and writes the result (with --json: the plan, the steps and every event).
 * A plan without steps prints "nothing to do".
 */
export async function runDay2(inv: Invocation, options: RunDay2Options): Promise<number> {
  const { out, ctx, flags } = inv;
  // nothing can be asked: say so before reading anything
  if (!options.simulate && !flags.yes && (!ctx.isTTY.stdin || !ctx.prompt || flags.json))
    throw new HomelabError(
      "NEEDS_CONFIRMATION",
      `${inv.path.join(" ")} changes your homelab and stdin is not a terminal`,
      {
        hint: "run it on a terminal to see the plan and answer, or pass --yes",
      },
    );
  const lock = await acquireStateLock(options.stateDir, inv.path.join(" "), inv.ctx.clock);
  try {
    const previous = await readJournal(options.stateDir, options.operation);
    const plan = await options.plan(previous);
    if (plan.steps.length === 0) {
      out.result({ operation: plan.operation, goal: plan.goal, changed: false, steps: [] }, () =>
        [`Nothing to do: ${plan.summary}.`, ...(plan.notes ?? []).map((n) => `  note: ${n}`)].join("\n"),
      );
      return 0;
    }
    const now = new Date(ctx.clock.now()).toISOString();
    const { journal, resumed, abandoned } = journalFor(previous, plan.operation, plan.goal, now);
    if (abandoned !== undefined)
      out.warn(
        `an unfinished ${plan.operation} to ${abandoned} is replaced by this one to ${plan.goal} (its progress is not reused)`,
      );
    out.info(`Plan:\n${renderDay2Plan(plan, resumed ? journal : undefined)}\n`);
    if (resumed) {
      const done = plan.steps.filter((s) => journal.steps[s.id]?.status === "done").length;
      out.info(
        `Resuming the ${plan.operation} to ${plan.goal} started ${journal.startedAt}: ${done} of ${plan.steps.length} step(s) done earlier are skipped.`,
      );
    }
    const ask = options.simulate
      ? ctx.isTTY.stdin && !flags.yes && !flags.json && ctx.prompt !== undefined
      : !flags.yes;
    if (ask && !(await confirm(inv, options.question(plan)))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const result = await applyDay2({
      plan,
      journal,
      stateDir: options.stateDir,
      out,
      signal: ctx.signal,
      clock: ctx.clock,
    });
    out.result({ ...result, changed: true, plan: day2PlanToJson(plan) }, () =>
      renderDay2Result(result, plan),
    );
    return 0;
  } finally {
    await options.finally?.();
    await lock.release();
  }
}
