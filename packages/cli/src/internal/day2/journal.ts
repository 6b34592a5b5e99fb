import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HomelabError } from "../../errors.js";
import { ensurePrivateDir, writeFileAtomic } from "../fs/atomic.js";

/** What happened to one step of a day-2 operation. */
export interface JournalEntry {
  status: "done" | "failed" | "interrupted";
  at: string;
  detail: string;
}

/**
 * The record of one day-2 operation in the project's state directory (`day2/<operation>.json`),
 * rewritten atomically after every step, so that a run stopped by Ctrl-C or a failed gate resumes
 * where it stopped. No secrets: step ids, times and one-line details only.
 */
export interface Journal {
  version: 1;
  /** `upgrade-talos`, `upgrade-kubernetes` ... */
  operation: string;
  /** What the run aims at (`v1.14.1`): a journal of another goal is not resumed. */
  goal: string;
  startedAt: string;
  updatedAt: string;
  /** By step id. */
  steps: Record<string, JournalEntry>;
  finishedAt?: string;
}

/** The journal file of `operation` in `stateDir`. */
export function journalPath(stateDir: string, operation: string): string {
  return join(stateDir, "day2", `${operation}.json`);
}

/** The journal of `operation`, or undefined when there is none. @throws HomelabError STATE_INVALID */
export async function readJournal(stateDir: string, operation: string): Promise<Journal | undefined> {
  const path = journalPath(stateDir, operation);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: Partial<Journal>;
  try {
    parsed = JSON.parse(text) as Partial<Journal>;
  } catch {
    throw new HomelabError("STATE_INVALID", `${path} is not JSON`, {
      hint: `delete ${path} to start the operation afresh`,
    });
  }
  if (
    parsed.version !== 1 ||
    parsed.operation !== operation ||
    typeof parsed.goal !== "string" ||
    typeof parsed.steps !== "object" ||
    parsed.steps === null
  )
    throw new HomelabError(
      "STATE_INVALID",
      `${path}: expected a journal of ${operation} (version 1, goal, steps)`,
      {
        hint: `delete ${path} to start the operation afresh`,
      },
    );
  return parsed as Journal;
}

/** Writes the journal atomically (0600, in a 0700 directory). */
export async function writeJournal(stateDir: string, journal: Journal): Promise<void> {
  const path = journalPath(stateDir, journal.operation);
  await ensurePrivateDir(join(stateDir, "day2"));
  await writeFileAtomic(path, `${JSON.stringify(journal, null, 2)}\n`, 0o600);
}

/**
 * The journal a run continues: the unfinished one of the same goal, or a new one. `resumed` says
 * whether earlier progress is reused; `abandoned` names the goal of an unfinished journal that is replaced.
 */
export function journalFor(
  previous: Journal | undefined,
  operation: string,
  goal: string,
  now: string,
): { journal: Journal; resumed: boolean; abandoned?: string } {
  if (previous !== undefined && previous.finishedAt === undefined && previous.goal === goal)
    return { journal: previous, resumed: Object.keys(previous.steps).length > 0 };
  const fresh: Journal = { version: 1, operation, goal, startedAt: now, updatedAt: now, steps: {} };
  if (previous !== undefined && previous.finishedAt === undefined && Object.keys(previous.steps).length > 0)
    return { journal: fresh, resumed: false, abandoned: previous.goal };
  return { journal: fresh, resumed: false };
}
