import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { HomelabError } from "../../errors.js";

/** The name of a backup's manifest in its directory. */
export const MANIFEST_FILE = "manifest.json";
/** The etcd snapshot, as `talosctl etcd snapshot` writes it. */
export const SNAPSHOT_FILE = "etcd.snapshot";
/** The machine secrets and talosconfig, SOPS-encrypted (with `secrets:` in homelab.yaml). */
export const SEALED_SECRETS_FILE = "secrets.sops.yaml";
/** The machine secrets in clear (0600), without `secrets:`. */
export const PLAIN_SECRETS_FILE = "secrets.yaml";
/** The talosconfig in clear (0600), without `secrets:`. */
export const PLAIN_TALOSCONFIG_FILE = "talosconfig";

/** One file of a backup and its checksum. */
export interface BackupFile {
  name: string;
  sha256: string;
  bytes: number;
  /** SOPS-encrypted for the recipients of homelab.yaml's `secrets:`. */
  encrypted?: boolean;
}

/** `manifest.json`: what a backup holds, what it was taken from, and each file's checksum. No secrets. */
export interface BackupManifest {
  version: 1;
  kind: "homelab-backup";
  cluster: string;
  createdAt: string;
  /** The control plane the etcd snapshot was streamed from. */
  etcd: { node: string; address: string };
  versions: { talos: string; kubernetes: string | null; argocdChart: string | null };
  /** sha256 of the machine secrets (secrets.yaml): tells whether a cluster is the one backed up. */
  machineSecretsSha256: string;
  files: BackupFile[];
}

/** The sha256 (hex) of a string or bytes. */
export function sha256Of(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** The sha256 (hex) and size of a file, streamed. */
export async function fileChecksum(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * Reads a backup's manifest and checks every file it lists against its checksum.
 * @throws HomelabError BACKUP_INVALID naming the file and what is wrong
 */
export async function readVerifiedBackup(dir: string): Promise<BackupManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new HomelabError("BACKUP_INVALID", `${path}: cannot read the backup manifest`, {
      cause,
      hint: "pass the directory `homelab backup` wrote",
    });
  }
  let manifest: Partial<BackupManifest>;
  try {
    manifest = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw new HomelabError("BACKUP_INVALID", `${path}: not JSON`);
  }
  if (
    manifest.version !== 1 ||
    manifest.kind !== "homelab-backup" ||
    typeof manifest.cluster !== "string" ||
    !Array.isArray(manifest.files) ||
    typeof manifest.machineSecretsSha256 !== "string"
  )
    throw new HomelabError(
      "BACKUP_INVALID",
      `${path}: expected a homelab backup manifest (version 1, kind homelab-backup, cluster, files, machineSecretsSha256)`,
    );
  if (!manifest.files.some((f) => f.name === SNAPSHOT_FILE))
    throw new HomelabError("BACKUP_INVALID", `${path}: files lists no ${SNAPSHOT_FILE}`);
  for (const file of manifest.files) {
    const filePath = join(dir, file.name);
    if (file.name.includes("/") || file.name.includes("\\") || file.name.startsWith("."))
      throw new HomelabError(
        "BACKUP_INVALID",
        `${path}: files[].name '${file.name}' is not a plain file name`,
      );
    const found = await stat(filePath).catch(() => undefined);
    if (!found?.isFile())
      throw new HomelabError("BACKUP_INVALID", `${filePath}: missing (listed in ${MANIFEST_FILE})`);
    const actual = await fileChecksum(filePath);
    if (actual.sha256 !== file.sha256 || actual.bytes !== file.bytes)
      throw new HomelabError(
        "BACKUP_INVALID",
        `${filePath}: checksum mismatch (expected sha256 ${file.sha256.slice(0, 12)}… of ${file.bytes} bytes, found ${actual.sha256.slice(0, 12)}… of ${actual.bytes} bytes): the file changed since the backup`,
        { hint: "use an intact copy of the backup; nothing was changed on the cluster" },
      );
  }
  return manifest as BackupManifest;
}
