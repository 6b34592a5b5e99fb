import { readFile } from "node:fs/promises";
import {
  decrypt,
  encrypt,
  readSopsMetadata,
  type SopsFormat,
  sopsFormatFromPath,
  updateEncrypted,
} from "@talos-homelab/sops";
import { stringify } from "yaml";
import { HomelabError } from "../../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { requireAgeIdentities } from "./keys.js";

/** homelab.yaml's `secrets:` section with the file resolved to an absolute path. */
export interface SecretsSettings {
  file: string;
  recipients: readonly string[];
}

/**
 * The SOPS-encrypted secrets file of a project: every secret `up`, `render` and the tofu engine keep
 * lives here, encrypted per value for the configured age recipients, so the file can be committed.
 */
export interface SecretsStore {
  readonly path: string;
  /** True when the file exists. */
  exists(): Promise<boolean>;
  /** The decrypted data ({} when the file does not exist yet). */
  read(): Promise<Record<string, unknown>>;
  /** The value at a dotted key path (`cloudflare.apiToken`), or undefined. */
  get(keyPath: string): Promise<unknown>;
  /**
   * Applies `mutate` to the decrypted data and writes the file back encrypted, only when something changed.
   * Unchanged values keep their ciphertext; a changed recipient set re-encrypts under a new data key.
   */
  update(mutate: (data: Record<string, unknown>) => void): Promise<boolean>;
}

/** Options of {@link createSecretsStore}. */
export interface SecretsStoreOptions extends SecretsSettings {
  env: Record<string, string | undefined>;
  homedir: string;
}

/** The value at a key path (dotted string or key list) in decrypted data, or undefined. */
export function valueAt(data: unknown, keyPath: string | readonly string[]): unknown {
  let cursor = data;
  for (const key of typeof keyPath === "string" ? keyPath.split(".") : keyPath) {
    if (cursor === null || typeof cursor !== "object" || Array.isArray(cursor)) return undefined;
    cursor = (cursor as Record<string, unknown>)[key];
  }
  return cursor;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");
}

/** Creates the store; nothing is read until first use, and identities are only needed to read. */
export function createSecretsStore(options: SecretsStoreOptions): SecretsStore {
  const format: SopsFormat = sopsFormatFromPath(options.file);
  let cache: { encrypted: string | undefined; data: Record<string, unknown> } | undefined;

  const load = async () => {
    if (cache) return cache;
    let encrypted: string | undefined;
    try {
      encrypted = await readFile(options.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (encrypted === undefined) {
      cache = { encrypted, data: {} };
      return cache;
    }
    const { identities } = await requireAgeIdentities(options.env, options.homedir);
    const { data } = await decrypt(encrypted, { format, identities, source: options.file });
    cache = { encrypted, data };
    return cache;
  };

  return {
    path: options.file,
    async exists() {
      return (await load()).encrypted !== undefined;
    },
    async read() {
      return structuredClone((await load()).data);
    },
    async get(keyPath) {
      return structuredClone(valueAt((await load()).data, keyPath));
    },
    async update(mutate) {
      if (options.recipients.length === 0) {
        throw new HomelabError("CONFIG_INVALID", "secrets.recipients in homelab.yaml is empty", {
          hint: "run `homelab secrets init` to add your age recipient",
        });
      }
      const current = await load();
      const next = structuredClone(current.data);
      mutate(next);
      if (current.encrypted !== undefined && JSON.stringify(next) === JSON.stringify(current.data))
        return false;
      const plaintext = format === "json" ? JSON.stringify(next) : stringify(next, { lineWidth: 0 });
      const sameRecipients =
        current.encrypted !== undefined &&
        sameSet(
          readSopsMetadata(current.encrypted, { format, source: options.file }).recipients,
          options.recipients,
        );
      const encrypted =
        current.encrypted !== undefined && sameRecipients
          ? await updateEncrypted(current.encrypted, plaintext, {
              format,
              identities: (await requireAgeIdentities(options.env, options.homedir)).identities,
              source: options.file,
            })
          : await encrypt(plaintext, { format, recipients: options.recipients, source: options.file });
      await writeFileAtomic(options.file, encrypted, 0o600);
      cache = { encrypted, data: next };
      return true;
    },
  };
}
