import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";

/** What `up` remembers between runs (no secrets: those live in their own 0600 files). */
export interface Progress {
  version: 1;
  /** Per node: the hash of the config inputs last applied. */
  nodes: Record<string, { configHash: string; appliedAt: string }>;
  /** Per node: the SPKI fingerprint (base64 sha256) of its maintenance-mode certificate, verified at first contact. */
  fingerprints?: Record<string, string>;
  bootstrapped?: { node: string; at: string };
  tunnel?: { id: string; name: string };
  argocd?: { chartVersion: string; at: string };
  completedAt?: string;
}

export async function readProgress(stateDir: string): Promise<Progress> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, "progress.json"), "utf8")) as Progress;
    if (parsed.version === 1 && typeof parsed.nodes === "object") return parsed;
  } catch {
    // first run
  }
  return { version: 1, nodes: {} };
}

export async function writeProgress(stateDir: string, progress: Progress): Promise<void> {
  await writeFileAtomic(join(stateDir, "progress.json"), `${JSON.stringify(progress, null, 2)}\n`, 0o600);
}

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}
