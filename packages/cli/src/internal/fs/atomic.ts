import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** One file to write. */
export interface FileToWrite {
  path: string;
  content: string | Uint8Array;
  /** 0o600 for anything holding a secret. Default 0o644. */
  mode?: number;
}

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * Creates `dir` and any missing parent as 0700, whatever the umask (state and output directories
 * hold secrets). Directories that already exist keep their mode.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // mkdir's mode is filtered by the umask: set it on every level it created
  for (let level = dir; ; level = dirname(level)) {
    await chmod(level, 0o700);
    if (level === first || dirname(level) === level) break;
  }
}

/** Writes one file atomically: a temp file in the same directory, then rename. */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  await writeFilesAtomic([{ path, content, mode }]);
}

/**
 * Writes several files so that either all of them land or none does: every file is written to
 * a temp file first; only when all succeeded are they renamed into place.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[]): Promise<void> {
  const temps: { temp: string; path: string }[] = [];
  try {
    for (const f of files) {
      await ensurePrivateDir(dirname(f.path));
      const temp = tempPath(f.path);
      temps.push({ temp, path: f.path });
      const mode = f.mode ?? 0o644;
      await writeFile(temp, f.content, { mode, flag: "wx" });
      await chmod(temp, mode);
    }
  } catch (error) {
    await Promise.all(temps.map((t) => rm(t.temp, { force: true })));
    throw error;
  }
  for (const t of temps) await rename(t.temp, t.path);
}
