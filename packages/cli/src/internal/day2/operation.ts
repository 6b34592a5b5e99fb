import type { Clock } from "../../context.js";
import { HomelabError, isHomelabError } from "../../errors.js";
import type { Output, ProgressLike } from "../cli/output.js";
import { type Journal, journalPath, writeJournal } from "./journal.js";

/** What a step of a day-2 operation does (for the plan, the events and --json). */
export type Day2StepKind =
  /** Edits homelab.yaml. */
  | "config"
  /** A read-only gate: etcd quorum, versions, reachability; changes nothing. */
  | "check"
  | "cordon"
  | "drain"
  /** Installs a new Talos version (and reboots). */
  | "upgrade"
  /** Sends a machine config or a patch of one. */
  | "apply"
  /** Waits until a node or component is back. */
  | "wait"
  | "uncordon"
  /** The cluster health gate between nodes. */
  | "health"
  | "etcd"
  | "backup"
  | "restore"
  | "secret"
  | "reset"
  | "kubernetes";

/** What a step's `run` gets. */
export interface Day2StepContext {
  signal: AbortSignal;
  clock: Clock;
  /** A progress line under the step (a spinner update on a terminal, an event with --json). */
  progress(message: string | ProgressLike): void;
}

/** One ordered, typed step of a day-2 operation. */
export interface Day2Step {
  /** Stable across runs of the same goal (the journal keys on it), e.g. `upgrade:cp1`. */
  id: string;
  kind: Day2StepKind;
  /** The node it acts on, if any. */
  node?: string;
  /** One line for the plan, e.g. `cordon and drain cp1 (PodDisruptionBudgets honoured)`. */
  description: string;
  /** Does the step; resolves to one line on what was done. Throws to stop the operation. */
  run(ctx: Day2StepContext): Promise<string>;
}

/** A planned day-2 operation: shown first, confirmed, then applied step by step. */
export interface Day2Plan {
  /** File-name safe, e.g. `upgrade-talos` (the journal is `day2/<operation>.json`). */
  operation: string;
  /** The command that runs it again, for hints: `homelab upgrade talos --to v1.14.1`. */
  command: string;
  /** What the run aims at, e.g. `v1.14.1`: a journal of another goal is not resumed. */
  goal: string;
  /** One line above the steps, e.g. `Talos v1.13.9 -> v1.14.1 on 3 node(s), control planes first`. */
  summary: string;
  steps: Day2Step[];
  /** Notes shown under the plan (warnings, what is left as is). */
  notes?: string[];
}

/** One progress event of a run (printed as a line on a terminal; listed in --json). */
export interface Day2Event {
  at: string;
  step: string;
  kind: Day2StepKind;
  node?: string;
  status: "started" | "progress" | "done" | "skipped" | "failed" | "interrupted";
  message: string;
}

/** A step as it ended up. */
export interface Day2StepResult {
  id: string;
  kind: Day2StepKind;
  node?: string;
  description: string;
  status: "done" | "skipped";
  detail: string;
}

/** What {@link applyDay2} returns. */
export interface Day2Result {
  operation: string;
  goal: string;
  /** Steps done in an earlier run of the same goal, skipped now. */
  resumed: number;
  steps: Day2StepResult[];
  events: Day2Event[];
  journal: string;
}

/** The plan as text: the summary, then one numbered line per step (steps done earlier marked). */
export function renderDay2Plan(plan: Day2Plan, journal?: Journal): string {
  const lines = [plan.summary];
  plan.steps.forEach((step, i) => {
    const done = journal?.steps[step.id]?.status === "done";
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${done ? "= " : "  "}${step.kind.padEnd(10)} ${step.description}${done ? " (done earlier)" : ""}`,
    );
  });
  for (const note of plan.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join("\n");
}

/** The plan as JSON (for --json results). */
export function day2PlanToJson(plan: Day2Plan, journal?: Journal) {
  return {
    operation: plan.operation,
    goal: plan.goal,
    summary: plan.summary,
    steps: plan.steps.map((s) => ({
      id: s.id,
      kind: s.kind,
      ...(s.node === undefined ? {} : { node: s.node }),
      description: s.description,
      ...(journal?.steps[s.id]?.status === "done" ? { doneEarlier: true } : {}),
    })),
    ...(plan.notes === undefined ? {} : { notes: plan.notes }),
  };
}

/** The message of an error without its `[code]` prefix. */
function rawMessageOf(error: unknown): string {
  const raw = (error as { rawMessage?: unknown })?.rawMessage;
  if (typeof raw === "string") return raw;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Applies a plan step by step. Steps the journal has as done are skipped (a resumed run); after
 * each step the journal is rewritten atomically. The first failing step stops the run: the
 * journal records it and the error says which step stopped and how to continue. An interrupt
 * (Ctrl-C) stops before the next step, or inside one, and is reported as such.
 * @throws HomelabError COMMAND_FAILED (a step failed; the original error is its cause), INTERRUPTED
 */
export async function applyDay2(options: {
  plan: Day2Plan;
  journal: Journal;
  stateDir: string;
  out: Output;
  signal: AbortSignal;
  clock: Clock;
}): Promise<Day2Result> {
  const { plan, journal, stateDir, out, signal, clock } = options;
  const iso = () => new Date(clock.now()).toISOString();
  const events: Day2Event[] = [];
  const results: Day2StepResult[] = [];
  const path = journalPath(stateDir, plan.operation);
  let resumed = 0;
  const save = async () => {
    journal.updatedAt = iso();
    await writeJournal(stateDir, journal);
  };
  const event = (step: Day2Step, status: Day2Event["status"], message: string) =>
    events.push({
      at: iso(),
      step: step.id,
      kind: step.kind,
      ...(step.node === undefined ? {} : { node: step.node }),
      status,
      message,
    });
  const total = plan.steps.length;
  for (const [index, step] of plan.steps.entries()) {
    const earlier = journal.steps[step.id];
    if (earlier?.status === "done") {
      resumed++;
      results.push({ ...stepFields(step), status: "skipped", detail: `done earlier: ${earlier.detail}` });
      event(step, "skipped", `done earlier: ${earlier.detail}`);
      continue;
    }
    if (signal.aborted) throw interrupted(plan, step, path);
    const title = `[${index + 1}/${total}] ${step.description}`;
    const progress = out.step(title);
    event(step, "started", step.description);
    let detail: string;
    try {
      detail = await step.run({
        signal,
        clock,
        progress: (m) => {
          progress.update(m);
          const text = typeof m === "string" ? m : m.message;
          event(step, "progress", text);
        },
      });
    } catch (error) {
      const wasInterrupted = signal.aborted;
      journal.steps[step.id] = {
        status: wasInterrupted ? "interrupted" : "failed",
        at: iso(),
        detail: rawMessageOf(error).split("\n")[0] ?? "",
      };
      await save();
      if (wasInterrupted) {
        progress.interrupted();
        event(step, "interrupted", "interrupted");
        out.info(`interrupted: run \`${plan.command}\` again to continue from "${step.description}"`);
        throw interrupted(plan, step, path, error);
      }
      progress.fail(`${title}: failed`);
      event(step, "failed", rawMessageOf(error));
      throw new HomelabError(
        "COMMAND_FAILED",
        `${plan.operation} stopped at step ${index + 1} of ${total} (${step.description}): ${rawMessageOf(error)}`,
        {
          cause: error,
          details: { operation: plan.operation, goal: plan.goal, step: step.id, journal: path },
          hint: `${isHomelabError(error) && error.hint ? `${error.hint}; then ` : ""}fix the cause and run \`${plan.command}\` again: it continues from this step (the ${index} step(s) before it are done, see ${path})`,
        },
      );
    }
    journal.steps[step.id] = { status: "done", at: iso(), detail };
    await save();
    progress.done(`${title}: ${detail}`);
    event(step, "done", detail);
    const result: Day2StepResult = { ...stepFields(step), status: "done", detail };
    results.push(result);
    out.stepDone(result);
  }
  journal.finishedAt = iso();
  await save();
  return { operation: plan.operation, goal: plan.goal, resumed, steps: results, events, journal: path };
}

function stepFields(step: Day2Step): Pick<Day2StepResult, "id" | "kind" | "node" | "description"> {
  return {
    id: step.id,
    kind: step.kind,
    ...(step.node === undefined ? {} : { node: step.node }),
    description: step.description,
  };
}

function interrupted(plan: Day2Plan, step: Day2Step, path: string, cause?: unknown): HomelabError {
  return new HomelabError("INTERRUPTED", `interrupted at: ${step.description}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { operation: plan.operation, goal: plan.goal, step: step.id, journal: path },
    hint: `run \`${plan.command}\` again to continue from this step`,
  });
}
