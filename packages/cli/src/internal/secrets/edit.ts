import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { decrypt, encrypt, type SopsFormat, updateEncrypted } from "@talos-homelab/sops";
import { HomelabError } from "../../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";

/** Options of {@link editEncrypted}. */
export interface EditOptions {
  /** The encrypted file (created when missing). */
  file: string;
  format: SopsFormat;
  identities: readonly string[];
  /** Recipients for a file that does not exist yet. */
  recipients: readonly string[];
  env: Record<string, string | undefined>;
  signal: AbortSignal;
}

/** The editor command line: $VISUAL, then $EDITOR, then vi (split on whitespace, no shell). */
export function editorCommand(env: Record<string, string | undefined>): string[] {
  const raw = env.VISUAL || env.EDITOR || "vi";
  return raw.trim().split(/\s+/);
}

function runEditor(
  command: string[],
  file: string,
  env: EditOptions["env"],
  signal: AbortSignal,
): Promise<number> {
  const [program = "vi", ...args] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args, file], { stdio: "inherit", env, shell: false });
    const onAbort = () => child.kill("SIGTERM");
    signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(
        new HomelabError("COMMAND_FAILED", `cannot start the editor '${program}'`, {
          cause: error,
          hint: "set $EDITOR (or $VISUAL) to an editor on PATH",
        }),
      );
    });
    child.on("close", (code) => {
      signal.removeEventListener("abort", onAbort);
      resolve(code ?? 1);
    });
  });
}

/**
 * `sops edit` for one file: decrypts into a 0600 file inside a fresh 0700 directory, runs the editor, and
 * re-encrypts when the text changed (unchanged values keep their ciphertext). The clear text is removed on
 * every way out: success, editor failure, invalid edit, interrupt, and process exit.
 * @returns whether the file changed.
 */
export async function editEncrypted(options: EditOptions): Promise<boolean> {
  let encrypted: string | undefined;
  try {
    encrypted = await readFile(options.file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const before =
    encrypted === undefined
      ? ""
      : (
          await decrypt(encrypted, {
            format: options.format,
            identities: options.identities,
            source: options.file,
          })
        ).plaintext;
  const dir = await mkdtemp(join(options.env.TMPDIR || tmpdir(), "homelab-secrets-"));
  const removeNow = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeNow);
  try {
    const clear = join(dir, basename(options.file).replace(/\.sops(\.[^.]+)$/, "$1"));
    await writeFile(clear, before, { mode: 0o600, flag: "wx" });
    const code = await runEditor(editorCommand(options.env), clear, options.env, options.signal);
    if (options.signal.aborted) throw new DOMException("interrupted", "AbortError");
    if (code !== 0) {
      throw new HomelabError(
        "COMMAND_FAILED",
        `the editor exited with ${code}; ${options.file} is unchanged`,
      );
    }
    const after = await readFile(clear, "utf8");
    if (after === before) return false;
    const next =
      encrypted === undefined
        ? await encrypt(after, {
            format: options.format,
            recipients: options.recipients,
            source: options.file,
          })
        : await updateEncrypted(encrypted, after, {
            format: options.format,
            identities: options.identities,
            source: options.file,
          });
    await writeFileAtomic(options.file, next, 0o600);
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
    process.removeListener("exit", removeNow);
  }
}
