import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readOptional } from "../pipeline/state.js";
import { type SecretsStore, valueAt } from "./store.js";

/** The secret files a project's state holds. */
export type StateSecretName = "secrets.yaml" | "talosconfig" | "kubeconfig";

/** Where each state secret lives inside the SOPS file. */
export const SOPS_STATE_KEYS: Record<StateSecretName, readonly string[]> = {
  "secrets.yaml": ["talos", "secrets"],
  talosconfig: ["talos", "talosconfig"],
  kubeconfig: ["kubernetes", "kubeconfig"],
};

/** A file a tool reads by path (helm's kubeconfig); `dispose` removes it when it was a temp copy. */
export interface MaterializedSecret {
  path: string;
  dispose(): Promise<void>;
}

/**
 * The machine secrets, talosconfig and kubeconfig of a project: 0600 files in the state directory, or, with
 * `secrets:` in homelab.yaml, values in the SOPS-encrypted file (nothing in clear text on disk).
 */
export interface StateSecrets {
  /** True when they live in the SOPS file. */
  readonly encrypted: boolean;
  /** Where one is kept, for messages: a path, or `secrets.sops.yaml#talos.secrets`. */
  describe(name: StateSecretName): string;
  read(name: StateSecretName): Promise<string | undefined>;
  write(name: StateSecretName, content: string): Promise<void>;
  /**
   * A path holding the content, for tools that only take a file: the state file itself, or a 0600 copy in
   * a fresh 0700 directory that `dispose` (and process exit) removes. Undefined when there is none.
   */
  materialize(name: StateSecretName): Promise<MaterializedSecret | undefined>;
}

/** Options of {@link createStateSecrets}. */
export interface StateSecretsOptions {
  stateDir: string;
  /** The SOPS file; without it the secrets are 0600 files in `stateDir`. */
  store?: SecretsStore | undefined;
  /** Keeps the simulated lab's secrets apart from the real cluster's in the same file (e.g. `lab`). */
  prefix?: string;
  /** Where temp copies go (default the OS temp dir). */
  tmpRoot?: string;
}

function setIn(data: Record<string, unknown>, path: readonly string[], value: string): void {
  let cursor = data;
  for (const key of path.slice(0, -1)) {
    const next = cursor[key];
    if (next === null || typeof next !== "object" || Array.isArray(next)) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[path[path.length - 1] as string] = value;
}

/** Creates the state secrets of a project (see {@link StateSecrets}). */
export function createStateSecrets(options: StateSecretsOptions): StateSecrets {
  const { stateDir, store } = options;
  const plainPath = (name: StateSecretName) => join(stateDir, name);
  if (!store) {
    return {
      encrypted: false,
      describe: plainPath,
      read: (name) => readOptional(plainPath(name)),
      write: (name, content) => writeFileAtomic(plainPath(name), content, 0o600),
      async materialize(name) {
        if ((await readOptional(plainPath(name))) === undefined) return undefined;
        return { path: plainPath(name), dispose: async () => {} };
      },
    };
  }
  const keyOf = (name: StateSecretName) => [
    ...(options.prefix ? [options.prefix] : []),
    ...SOPS_STATE_KEYS[name],
  ];
  const read = async (name: StateSecretName) => {
    const value = valueAt(await store.read(), keyOf(name));
    if (typeof value === "string" && value !== "") return value;
    // a clear file from before `secrets:` was configured moves into the SOPS file and is removed
    const legacy = options.prefix === undefined ? await readOptional(plainPath(name)) : undefined;
    if (legacy === undefined) return undefined;
    await store.update((data) => setIn(data, keyOf(name), legacy));
    await rm(plainPath(name), { force: true });
    return legacy;
  };
  return {
    encrypted: true,
    describe: (name) => `${store.path}#${keyOf(name).join(".")}`,
    read,
    async write(name, content) {
      await store.update((data) => setIn(data, keyOf(name), content));
      // a clear copy left by a run before `secrets:` was configured must not outlive the switch
      await rm(plainPath(name), { force: true });
    },
    async materialize(name) {
      const content = await read(name);
      if (content === undefined) return undefined;
      const dir = await mkdtemp(join(options.tmpRoot ?? tmpdir(), "homelab-state-"));
      const removeNow = () => rmSync(dir, { recursive: true, force: true });
      process.once("exit", removeNow);
      const path = join(dir, name);
      await writeFile(path, content, { mode: 0o600, flag: "wx" });
      return {
        path,
        dispose: async () => {
          await rm(dir, { recursive: true, force: true });
          process.removeListener("exit", removeNow);
        },
      };
    },
  };
}

/** The state secrets of a loaded project (`lab` keys for the simulated lab). */
export function stateSecretsOf(
  loaded: Pick<LoadedConfig, "secrets">,
  stateDir: string,
  options: { simulated?: boolean; env?: Record<string, string | undefined> } = {},
): StateSecrets {
  const tmpRoot = options.env?.TMPDIR;
  return createStateSecrets({
    stateDir,
    store: loaded.secrets,
    ...(options.simulated === true ? { prefix: "lab" } : {}),
    ...(tmpRoot ? { tmpRoot } : {}),
  });
}

/**
 * Stores state files (talosconfig, kubeconfig from tofu outputs) in the SOPS file instead of the state dir.
 * @returns where each one went, for messages.
 */
export async function storeStateFiles(
  state: StateSecrets,
  files: readonly { path: string; content: string | Uint8Array }[],
): Promise<string[]> {
  const where: string[] = [];
  for (const file of files) {
    const name = basename(file.path) as StateSecretName;
    if (!(name in SOPS_STATE_KEYS)) throw new Error(`not a state secret: ${name}`);
    await state.write(
      name,
      typeof file.content === "string" ? file.content : new TextDecoder().decode(file.content),
    );
    where.push(state.describe(name));
  }
  return where;
}

/**
 * Runs `use` with a path to the named state secret: the 0600 state file (`plainPath`) without a SOPS file,
 * else a 0600 temp copy that is removed when `use` settles.
 */
export async function withStatePath<T>(
  state: StateSecrets,
  name: StateSecretName,
  plainPath: string,
  use: (path: string) => Promise<T>,
): Promise<T> {
  const copy = state.encrypted ? await state.materialize(name) : undefined;
  try {
    return await use(copy?.path ?? plainPath);
  } finally {
    await copy?.dispose();
  }
}
