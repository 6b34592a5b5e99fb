import { constants, type Stats } from "node:fs";
import { lstat, open, readlink, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { HomelabError } from "../../errors.js";

/** homelab.yaml is a few kilobytes; anything this large is the wrong file (or /dev/zero behind a link). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** How long a pipe may stay silent before we stop waiting for its writer. */
const PIPE_IDLE_MS = 10_000;

/** The bytes of a homelab.yaml and where they came from. */
export interface ConfigSource {
  bytes: Uint8Array;
  /** Absolute path (for stdin and pipes: `<cwd>/<stdin>`-like, never read again). */
  path: string;
  /** Relative paths in the file resolve from here (the cwd for stdin and pipes). */
  dir: string;
  /** Shown in error locations. */
  displayName: string;
}

/** Options of {@link readConfigSource}. */
export interface ReadConfigOptions {
  cwd: string;
  /** Reads all of stdin, for `--config -`. */
  readStdin?: (() => Promise<Uint8Array>) | undefined;
  /** True when stdin is a terminal (then `--config -` is refused rather than waiting on the keyboard). */
  stdinIsTTY?: boolean;
  signal?: AbortSignal | undefined;
  /** Name shown in error locations (default: path relative to cwd). */
  displayName?: string | undefined;
}

const INIT_HINT = "create one with `homelab init`, or pass --config FILE (--config - reads stdin)";

function unreadable(display: string, why: string, hint: string, cause?: unknown): HomelabError {
  return new HomelabError("CONFIG_UNREADABLE", `cannot read ${display}: ${why}`, {
    hint,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Explains a failed stat/open of the config file in words a user can act on: each errno gets its
 * own message and hint, so a directory, a permission problem, a missing file and a symlink loop
 * never read alike.
 */
export function describeReadError(code: string | undefined, display: string, cause?: unknown): HomelabError {
  switch (code) {
    case "ENOENT":
      return new HomelabError("CONFIG_NOT_FOUND", `${display} does not exist`, {
        hint: INIT_HINT,
        ...(cause === undefined ? {} : { cause }),
      });
    case "ENOTDIR":
      return new HomelabError("CONFIG_NOT_FOUND", `${display} does not exist (a parent is not a directory)`, {
        hint: INIT_HINT,
        ...(cause === undefined ? {} : { cause }),
      });
    case "EACCES":
    case "EPERM":
      return unreadable(
        display,
        "permission denied",
        "make the file (and its directories) readable by this user, e.g. chmod u+r",
        cause,
      );
    case "ELOOP":
      return unreadable(
        display,
        "too many levels of symbolic links (a symlink loop)",
        "point the link at the real homelab.yaml (ls -l shows where it goes)",
        cause,
      );
    case "EISDIR":
      return unreadable(display, "it is a directory", "pass the file: --config DIR/homelab.yaml", cause);
    case "ENAMETOOLONG":
      return unreadable(display, "the path is too long", "pass a shorter path", cause);
    default:
      return unreadable(
        display,
        code ? `${code}` : "unknown error",
        "check the path and the file's permissions",
        cause,
      );
  }
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

function kindOf(s: Stats): string | undefined {
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSocket()) return "a socket";
  return undefined;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function tooLarge(display: string): HomelabError {
  return unreadable(
    display,
    `it is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`,
    "homelab.yaml is a few kilobytes: check that --config names the right file",
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    if (signal?.aborted) return fail(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      ok();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      fail(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Reads a FIFO or pipe without ever blocking the process: opened non-blocking (a FIFO with no
 * writer would otherwise hang in open(2), deaf to signals), read until EOF, bounded in size and
 * in idle time, and abortable.
 */
async function readPipe(full: string, display: string, signal?: AbortSignal): Promise<Uint8Array> {
  const fh = await open(full, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) => {
    throw describeReadError(errnoOf(e), display, e);
  });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let idleSince = Date.now();
    for (;;) {
      const buffer = new Uint8Array(64 * 1024);
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buffer, 0, buffer.length, null));
      } catch (error) {
        if (errnoOf(error) !== "EAGAIN") throw describeReadError(errnoOf(error), display, error);
        if (Date.now() - idleSince > PIPE_IDLE_MS)
          throw unreadable(
            display,
            `nothing arrived on the pipe for ${PIPE_IDLE_MS / 1000}s`,
            "write the file first, or pipe it into --config -",
          );
        await sleep(20, signal);
        continue;
      }
      if (n === 0) break;
      idleSince = Date.now();
      chunks.push(buffer.subarray(0, n));
      total += n;
      if (total > MAX_CONFIG_BYTES) throw tooLarge(display);
    }
    if (total === 0)
      throw unreadable(
        display,
        "it is a FIFO with no writer (homelab does not wait on named pipes)",
        "pipe the file into stdin instead: homelab … --config - < homelab.yaml",
      );
    return concat(chunks, total);
  } finally {
    await fh.close();
  }
}

/**
 * Reads the bytes of the config file named by `--config` (`-` = stdin). Refuses what would hang or
 * flood (devices, sockets, a FIFO with no writer, files over {@link MAX_CONFIG_BYTES}) and tells a
 * missing file, a directory, a permission problem and a symlink loop apart.
 *
 * @throws HomelabError `CONFIG_NOT_FOUND` (missing, dangling symlink), `CONFIG_UNREADABLE` (anything
 * else that cannot be read), `USAGE` (`--config -` with stdin on a terminal or no stdin).
 */
export async function readConfigSource(path: string, options: ReadConfigOptions): Promise<ConfigSource> {
  const { cwd } = options;
  if (path === "-") {
    const displayName = options.displayName ?? "<stdin>";
    if (options.stdinIsTTY || !options.readStdin)
      throw new HomelabError("USAGE", "--config - reads homelab.yaml from stdin, but stdin is a terminal", {
        hint: "pipe the file in: homelab … --config - < homelab.yaml",
      });
    const bytes = await options.readStdin();
    if (bytes.length > MAX_CONFIG_BYTES) throw tooLarge(displayName);
    return { bytes, path: join(cwd, "<stdin>"), dir: cwd, displayName };
  }
  const full = resolve(cwd, path);
  const rel = relative(cwd, full);
  const display = options.displayName ?? (rel === "" || rel.startsWith("..") ? full : rel);
  let s: Stats;
  try {
    s = await stat(full);
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT") {
      // a link whose target is gone reads differently from no file at all
      const link = await lstat(full).catch(() => undefined);
      if (link?.isSymbolicLink()) {
        const target = await readlink(full).catch(() => "?");
        throw new HomelabError(
          "CONFIG_NOT_FOUND",
          `${display} is a symbolic link to ${target}, which does not exist`,
          {
            hint: "fix the link or pass the real file with --config",
            cause: error,
          },
        );
      }
    }
    throw describeReadError(code, display, error);
  }
  if (s.isDirectory()) {
    const inside = join(full, "homelab.yaml");
    const has = await stat(inside).then(
      (x) => x.isFile(),
      () => false,
    );
    throw unreadable(
      display,
      "it is a directory",
      has
        ? `pass the file: --config ${join(path, "homelab.yaml")}`
        : "pass the homelab.yaml file, not its directory",
    );
  }
  const device = kindOf(s);
  if (device)
    throw unreadable(
      display,
      `it is ${device}, not a file`,
      "pass a regular file, or --config - to read stdin",
    );
  if (s.isFIFO()) {
    // process substitution (<(…)) and named pipes: the file's directory means nothing here
    const bytes = await readPipe(full, display, options.signal);
    return { bytes, path: full, dir: cwd, displayName: display };
  }
  if (s.size > MAX_CONFIG_BYTES) throw tooLarge(display);
  let bytes: Uint8Array;
  try {
    const fh = await open(full, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (error) {
    throw describeReadError(errnoOf(error), display, error);
  }
  if (bytes.length > MAX_CONFIG_BYTES) throw tooLarge(display);
  return { bytes, path: full, dir: dirname(full), displayName: display };
}
