import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAgeIdentities } from "@talos-homelab/sops";
import { HomelabError } from "../../errors.js";

/** Where the age identities were found. */
export interface AgeIdentities {
  identities: string[];
  /** The places that held at least one identity (variable names or file paths; never the keys). */
  sources: string[];
}

// sops's rules (getsops/sops age/keysource.go): SOPS_AGE_KEY (several per line), SOPS_AGE_KEY_FILE, and
// <user config dir>/sops/age/keys.txt, all of them read. The user config dir is Go's os.UserConfigDir,
// except that sops honours XDG_CONFIG_HOME on macOS too.
function userConfigDir(env: Record<string, string | undefined>, homedir: string): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg !== "") return xdg;
  if (process.platform === "darwin") return join(homedir, "Library", "Application Support");
  return join(homedir, ".config");
}

/** The keys file `homelab secrets init` writes: $SOPS_AGE_KEY_FILE, else sops's default path. */
export function defaultAgeKeyFile(env: Record<string, string | undefined>, homedir: string): string {
  const explicit = env.SOPS_AGE_KEY_FILE;
  if (explicit !== undefined && explicit !== "") return explicit;
  return join(userConfigDir(env, homedir), "sops", "age", "keys.txt");
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new HomelabError("MISSING_CREDENTIALS", `cannot read the age keys file ${path}`, { cause: error });
  }
}

/** Finds age identities the way sops does; an empty result is not an error here. */
export async function loadAgeIdentities(
  env: Record<string, string | undefined>,
  homedir: string,
): Promise<AgeIdentities> {
  const out: AgeIdentities = { identities: [], sources: [] };
  const add = (text: string, source: string, allowManyPerLine: boolean) => {
    let found: string[];
    try {
      found = parseAgeIdentities(text, { allowManyPerLine });
    } catch (error) {
      throw new HomelabError(
        "MISSING_CREDENTIALS",
        `${source}: ${(error as Error & { rawMessage?: string }).rawMessage ?? "invalid"}`,
        {
          cause: error,
        },
      );
    }
    if (found.length === 0) return;
    out.identities.push(...found);
    out.sources.push(source);
  };
  const inline = env.SOPS_AGE_KEY;
  if (inline !== undefined && inline !== "") add(inline, "SOPS_AGE_KEY", true);
  const file = env.SOPS_AGE_KEY_FILE;
  if (file !== undefined && file !== "") {
    const text = await readOptional(file);
    if (text === undefined) {
      throw new HomelabError(
        "MISSING_CREDENTIALS",
        `SOPS_AGE_KEY_FILE points to ${file}, which does not exist`,
      );
    }
    add(text, file, false);
  }
  const fallback = join(userConfigDir(env, homedir), "sops", "age", "keys.txt");
  if (fallback !== file) {
    const text = await readOptional(fallback);
    if (text !== undefined) add(text, fallback, false);
  }
  return out;
}

/** Like {@link loadAgeIdentities}, but fails with a hint when there is none. */
export async function requireAgeIdentities(
  env: Record<string, string | undefined>,
  homedir: string,
): Promise<AgeIdentities> {
  const found = await loadAgeIdentities(env, homedir);
  if (found.identities.length === 0) {
    throw new HomelabError(
      "MISSING_CREDENTIALS",
      `no age identity found (looked at SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and ${defaultAgeKeyFile({ ...env, SOPS_AGE_KEY_FILE: undefined }, homedir)})`,
      { hint: "run `homelab secrets init` to create one, or set SOPS_AGE_KEY_FILE to your age keys file" },
    );
  }
  return found;
}
