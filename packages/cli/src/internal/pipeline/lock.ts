import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../context.js";
import { HomelabError } from "../../errors.js";
import { ensurePrivateDir } from "../fs/atomic.js";

/** What a lock file records about its holder. */
interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid === "number" && typeof parsed.host === "string") return parsed as LockHolder;
  } catch {
    // unreadable or half written: treated as unknown below
  }
  return undefined;
}

/**
 * Takes the state directory's lock so two commands that change the same homelab never run at once.
 * A lock left by a process that no longer runs on this host is stale and taken over; a lock held
 * on another host (a shared directory) cannot be checked and is reported with its holder; `clock`
 * says when it was taken.
 * @throws HomelabError LOCKED
 */
export async function acquireStateLock(
  stateDir: string,
  command: string,
  clock: Pick<Clock, "now">,
): Promise<{ release(): Promise<void> }> {
  await ensurePrivateDir(stateDir);
  const path = join(stateDir, "homelab.lock");
  const startedAt = new Date(clock.now()).toISOString();
  const me: LockHolder = { pid: process.pid, host: hostname(), command, startedAt };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, "wx", 0o600);
      try {
        await file.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await file.close();
      }
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          const holder = await readHolder(path);
          if (holder?.pid === me.pid && holder.host === me.host) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(path);
    if (holder !== undefined && holder.host === me.host && !isAlive(holder.pid)) {
      await rm(path, { force: true }); // stale: its process is gone
      continue;
    }
    throw new HomelabError(
      "LOCKED",
      holder === undefined
        ? `${path} exists but does not say who holds it`
        : `\`homelab ${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) is changing this homelab`,
      {
        details: { lock: path, ...(holder ?? {}) },
        hint: `wait for it to finish; if it is not running any more, delete ${path}`,
      },
    );
  }
  throw new HomelabError("LOCKED", `cannot take the lock ${path}`);
}
