import { createHash, randomBytes } from "node:crypto";
import { unwrapDataKey, wrapDataKey } from "./age.js";
import { SopsError } from "./errors.js";
import {
  decryptValue,
  encryptValue,
  isEncryptedValue,
  type LeafValue,
  type NonceStash,
  valueBytes,
} from "./internal/cipher.js";
import { parseSopsDocument, type SopsDocument, type SopsFormat } from "./internal/document.js";

export type { SopsFormat };

/**
 * Which values get encrypted. At most one rule may be set; with none, SOPS's default applies: every value
 * except those under a key ending in `_unencrypted`. Rules test every key on a value's path.
 */
export interface EncryptionRules {
  /** Values under a key with this suffix stay in clear text (SOPS default `_unencrypted`). */
  unencryptedSuffix?: string;
  /** Only values under a key with this suffix are encrypted. */
  encryptedSuffix?: string;
  /** Values under a key matching this regular expression stay in clear text. */
  unencryptedRegex?: string;
  /** Only values under a key matching this regular expression are encrypted. */
  encryptedRegex?: string;
  /** The MAC covers only encrypted values (SOPS `mac_only_encrypted`), so clear values may change freely. */
  macOnlyEncrypted?: boolean;
}

/** Options for {@link encrypt}. */
export interface EncryptOptions extends EncryptionRules {
  format: SopsFormat;
  /** age recipients (`age1…`); each gets its own copy of the data key. */
  recipients: readonly string[];
  /** The `lastmodified` time (default now). */
  now?: Date;
  /** Names the file in errors (default `input`). */
  source?: string;
}

/** The age recipients and rules recorded in a file's `sops` metadata. */
export interface SopsMetadata {
  /** The age recipients that can decrypt the file. */
  recipients: string[];
  /** Key types other than age that also hold the data key (`pgp`, `kms`, …); this package cannot use them. */
  otherKeyTypes: string[];
  lastModified: string;
  version: string;
  rules: EncryptionRules;
}

/** Options for {@link decrypt}. */
export interface DecryptOptions {
  format: SopsFormat;
  /** age identities (`AGE-SECRET-KEY-1…`) to try on the file's age recipients. */
  identities?: readonly string[];
  /** The 32-byte data key when it was obtained another way (PGP, KMS); skips the age step. */
  dataKey?: Uint8Array;
  /** Names the file in errors (default `input`). */
  source?: string;
}

/** The result of {@link decrypt}. */
export interface DecryptResult {
  /** The file in clear text, in its own format, without the `sops` metadata. */
  plaintext: string;
  /** The same data as plain JS values (integers beyond 2^53 stay `bigint`). */
  data: Record<string, unknown>;
  metadata: SopsMetadata;
}

/** The version written to `sops.version`: the oldest `sops` release that reads every field this package writes. */
export const SOPS_FORMAT_VERSION = "3.9.0";

const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";
// sha256("sops"): prefixes the MAC when it covers only encrypted values, so the two MAC kinds never collide.
const MAC_ONLY_ENCRYPTED_PREFIX = Buffer.from(
  "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69",
  "hex",
);
const RULE_KEYS = {
  unencryptedSuffix: "unencrypted_suffix",
  encryptedSuffix: "encrypted_suffix",
  unencryptedRegex: "unencrypted_regex",
  encryptedRegex: "encrypted_regex",
} as const;
const OTHER_KEY_TYPES = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"];

function validRules(rules: EncryptionRules): EncryptionRules {
  const set = (Object.keys(RULE_KEYS) as (keyof typeof RULE_KEYS)[]).filter(
    (key) => rules[key] !== undefined,
  );
  if (set.length > 1) {
    throw new SopsError("INVALID_OPTIONS", `use only one of ${set.map((key) => RULE_KEYS[key]).join(", ")}`);
  }
  for (const key of ["unencryptedRegex", "encryptedRegex"] as const) {
    const pattern = rules[key];
    if (pattern === undefined) continue;
    try {
      new RegExp(pattern);
    } catch (cause) {
      throw new SopsError("INVALID_OPTIONS", `${RULE_KEYS[key]} is not a valid regular expression`, {
        cause,
      });
    }
  }
  const out: EncryptionRules = set.length === 0 ? { unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX } : {};
  for (const key of set) out[key] = rules[key] as string;
  if (rules.macOnlyEncrypted === true) out.macOnlyEncrypted = true;
  return out;
}

function shouldEncrypt(path: readonly string[], rules: EncryptionRules): boolean {
  const { unencryptedSuffix, encryptedSuffix, unencryptedRegex, encryptedRegex } = rules;
  if (unencryptedSuffix) return !path.some((key) => key.endsWith(unencryptedSuffix));
  if (encryptedSuffix) return path.some((key) => key.endsWith(encryptedSuffix));
  if (unencryptedRegex) return !path.some((key) => new RegExp(unencryptedRegex).test(key));
  if (encryptedRegex) return path.some((key) => new RegExp(encryptedRegex).test(key));
  return true;
}

function additionalData(path: readonly string[]): string {
  return `${path.join(":")}:`;
}

function createMac(rules: EncryptionRules) {
  const hash = createHash("sha512");
  if (rules.macOnlyEncrypted === true) hash.update(MAC_ONLY_ENCRYPTED_PREFIX);
  return {
    add(value: LeafValue, encrypted: boolean) {
      if (rules.macOnlyEncrypted !== true || encrypted) hash.update(valueBytes(value), "utf8");
    },
    hex: () => hash.digest("hex").toUpperCase(),
  };
}

// Go's time.Format(time.RFC3339) drops fractional seconds and writes a zero offset as `Z`; the MAC's
// additional data is the time re-formatted that way, not the text as stored.
function goRfc3339(text: string): string {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/i.exec(text.trim());
  if (match === null)
    throw new SopsError("METADATA_NOT_FOUND", `sops.lastmodified ${JSON.stringify(text)} is not RFC 3339`);
  const offset = (match[2] ?? "Z").toUpperCase();
  return `${match[1]}${offset === "+00:00" || offset === "-00:00" ? "Z" : offset}`;
}

function rfc3339(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

function str(meta: Record<string, unknown>, key: string): string | undefined {
  const value = meta[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function readMetadata(
  doc: SopsDocument,
  source: string,
): { metadata: SopsMetadata; raw: Record<string, unknown> } {
  const raw = doc.metadata();
  if (raw === undefined || str(raw, "version") === undefined) {
    throw new SopsError("METADATA_NOT_FOUND", `${source}: no sops metadata (is the file encrypted?)`);
  }
  if (Array.isArray(raw.key_groups) && raw.key_groups.length > 0) {
    throw new SopsError(
      "INVALID_OPTIONS",
      `${source}: sops key_groups (Shamir secret sharing) are not supported`,
    );
  }
  const ages = Array.isArray(raw.age) ? raw.age : [];
  const recipients = ages.map((entry, index) => {
    const recipient = (entry as Record<string, unknown> | null)?.recipient;
    if (typeof recipient !== "string") {
      throw new SopsError("METADATA_NOT_FOUND", `${source}: sops.age[${index}].recipient is missing`);
    }
    return recipient;
  });
  const rules: EncryptionRules = {};
  for (const [key, field] of Object.entries(RULE_KEYS) as [keyof typeof RULE_KEYS, string][]) {
    const value = str(raw, field);
    if (value !== undefined) rules[key] = value;
  }
  if (raw.mac_only_encrypted === true) rules.macOnlyEncrypted = true;
  for (const field of ["encrypted_comment_regex", "unencrypted_comment_regex"]) {
    if (str(raw, field) !== undefined) {
      throw new SopsError("INVALID_OPTIONS", `${source}: sops.${field} is not supported`);
    }
  }
  return {
    raw,
    metadata: {
      recipients,
      otherKeyTypes: OTHER_KEY_TYPES.filter((type) => Array.isArray(raw[type]) && raw[type].length > 0),
      lastModified: str(raw, "lastmodified") ?? "",
      version: str(raw, "version") ?? "",
      rules,
    },
  };
}

/**
 * Reads the `sops` metadata (recipients, rules, time) of an encrypted file without any key.
 * @throws SopsError `METADATA_NOT_FOUND`, `INVALID_INPUT`
 */
export function readSopsMetadata(
  encrypted: string,
  options: { format: SopsFormat; source?: string },
): SopsMetadata {
  const source = options.source ?? "input";
  return readMetadata(parseSopsDocument(encrypted, options.format, source), source).metadata;
}

/** True when the text parses and carries top-level `sops` metadata. */
export function isSopsEncrypted(text: string, format: SopsFormat): boolean {
  try {
    return parseSopsDocument(text, format).metadata() !== undefined;
  } catch {
    return false;
  }
}

/** The format SOPS infers from a file name: `.json`, `.env`, else YAML. */
export function sopsFormatFromPath(path: string): SopsFormat {
  if (/\.json$/i.test(path)) return "json";
  if (/\.env$/i.test(path) || /(^|[\\/])\.env(\.[^\\/]*)?$/.test(path)) return "dotenv";
  return "yaml";
}

interface Sealed {
  doc: SopsDocument;
  dataKey: Uint8Array;
  raw: Record<string, unknown>;
  metadata: SopsMetadata;
  stash: NonceStash;
}

async function open(encrypted: string, options: DecryptOptions): Promise<Sealed> {
  const source = options.source ?? "input";
  const doc = parseSopsDocument(encrypted, options.format, source);
  const { metadata, raw } = readMetadata(doc, source);
  let dataKey = options.dataKey;
  if (dataKey === undefined) {
    const ages = raw.age as { enc?: unknown }[] | undefined;
    for (const entry of ages ?? []) {
      if (typeof entry.enc !== "string") continue;
      dataKey = await unwrapDataKey(entry.enc, options.identities ?? []);
      if (dataKey !== undefined) break;
    }
  }
  if (dataKey === undefined) {
    const has =
      metadata.recipients.length > 0
        ? `age recipients ${metadata.recipients.join(", ")}`
        : "no age recipients";
    const other =
      metadata.otherKeyTypes.length > 0 ? ` (also ${metadata.otherKeyTypes.join(", ")}, not supported)` : "";
    throw new SopsError(
      "NO_MATCHING_KEY",
      `${source}: none of the ${options.identities?.length ?? 0} age identities given can decrypt it; it has ${has}${other}`,
      { details: { recipients: metadata.recipients } },
    );
  }
  const stash: NonceStash = new Map();
  const mac = createMac(metadata.rules);
  for (const leaf of doc.leaves()) {
    const where = `${source}: ${leaf.path.join(".")}`;
    const encrypted = shouldEncrypt(leaf.path, metadata.rules);
    let value = leaf.get();
    if (encrypted) {
      if (typeof value !== "string") {
        throw new SopsError(
          "DECRYPTION_FAILED",
          `${where}: expected an encrypted value, found a clear ${typeof value}`,
          {
            details: { path: leaf.path.join(".") },
          },
        );
      }
      value = decryptValue(value, dataKey, additionalData(leaf.path), where, stash).value;
      leaf.set(value);
    }
    mac.add(value, encrypted);
  }
  decryptComments(doc, dataKey, stash);
  const storedMac = str(raw, "mac");
  const computed = mac.hex();
  let fileMac: string | undefined;
  try {
    const lastModified = goRfc3339(metadata.lastModified);
    fileMac =
      storedMac === undefined
        ? undefined
        : String(decryptValue(storedMac, dataKey, lastModified, "mac").value);
  } catch (cause) {
    throw new SopsError(
      "MAC_MISMATCH",
      `${source}: the MAC does not decrypt (sops.mac or sops.lastmodified changed)`,
      {
        cause,
      },
    );
  }
  if (fileMac !== computed) {
    throw new SopsError(
      "MAC_MISMATCH",
      `${source}: MAC mismatch: the values do not match the MAC (${fileMac === undefined ? "no MAC" : "tampered or corrupted"})`,
    );
  }
  return { doc, dataKey, raw, metadata, stash };
}

function decryptComments(doc: SopsDocument, dataKey: Uint8Array, stash: NonceStash): void {
  const slots = doc.comments();
  const containers = new Set<string>([":"]);
  for (const leaf of doc.leaves()) {
    for (let depth = 1; depth < leaf.path.length; depth++)
      containers.add(additionalData(leaf.path.slice(0, depth)));
  }
  for (const slot of slots) {
    const text = slot.get();
    if (!isEncryptedValue(text)) continue;
    // A comment's key path is its mapping's; YAML parsers attach trailing comments differently, so try them all.
    const candidates = [additionalData(slot.container), ...containers];
    for (const ad of candidates) {
      try {
        slot.set(String(decryptValue(text, dataKey, ad, "comment", stash).value));
        break;
      } catch {
        // not this container; a comment that decrypts under none stays as written, as sops leaves it
      }
    }
  }
}

function seal(
  doc: SopsDocument,
  dataKey: Uint8Array,
  rules: EncryptionRules,
  keyEntries: Record<string, unknown>,
  now: Date,
  stash?: NonceStash,
): string {
  const mac = createMac(rules);
  for (const leaf of doc.leaves()) {
    const value = leaf.get();
    const encrypted = shouldEncrypt(leaf.path, rules);
    mac.add(value, encrypted);
    if (encrypted) leaf.set(encryptValue(value, dataKey, additionalData(leaf.path), { stash }));
  }
  for (const slot of doc.comments()) {
    if (shouldEncrypt(slot.container, rules)) {
      slot.set(encryptValue(slot.get(), dataKey, additionalData(slot.container), { stash, comment: true }));
    }
  }
  const lastmodified = rfc3339(now);
  const metadata: Record<string, unknown> = {
    ...keyEntries,
    lastmodified,
    mac: encryptValue(mac.hex(), dataKey, lastmodified, { stash }),
  };
  for (const [key, field] of Object.entries(RULE_KEYS) as [keyof typeof RULE_KEYS, string][]) {
    if (rules[key] !== undefined) metadata[field] = rules[key];
  }
  if (rules.macOnlyEncrypted === true) metadata.mac_only_encrypted = true;
  metadata.version = SOPS_FORMAT_VERSION;
  doc.setMetadata(metadata);
  return doc.serialize({ encrypted: true });
}

async function ageEntries(
  dataKey: Uint8Array,
  recipients: readonly string[],
): Promise<Record<string, unknown>> {
  if (recipients.length === 0)
    throw new SopsError("INVALID_OPTIONS", "at least one age recipient is required");
  const age = [];
  for (const recipient of recipients) age.push({ recipient, enc: await wrapDataKey(dataKey, recipient) });
  return { age };
}

/**
 * Encrypts a clear YAML, JSON or dotenv file in the SOPS format for age recipients: a fresh 256-bit data key,
 * each value AES-256-GCM-encrypted with its key path as additional data, a SHA-512 MAC over the values, and
 * the data key wrapped once per recipient.
 * @example
 * ```ts
 * const { identity, recipient } = await generateAgeKey();
 * const file = await encrypt("token: s3cret\n", { format: "yaml", recipients: [recipient] });
 * const { data } = await decrypt(file, { format: "yaml", identities: [identity] });
 * ```
 * @throws SopsError `INVALID_INPUT`, `ALREADY_ENCRYPTED`, `INVALID_OPTIONS`, `INVALID_KEY`
 */
export async function encrypt(plaintext: string, options: EncryptOptions): Promise<string> {
  const source = options.source ?? "input";
  const doc = parseSopsDocument(plaintext, options.format, source);
  if (doc.metadata() !== undefined) {
    throw new SopsError("ALREADY_ENCRYPTED", `${source}: already has sops metadata`);
  }
  const rules = validRules(options);
  const dataKey = randomBytes(32);
  return seal(doc, dataKey, rules, await ageEntries(dataKey, options.recipients), options.now ?? new Date());
}

/**
 * Decrypts a SOPS file, checking every value's authentication tag and the file's MAC.
 * @throws SopsError `METADATA_NOT_FOUND`, `NO_MATCHING_KEY`, `DECRYPTION_FAILED`, `MAC_MISMATCH`, `INVALID_INPUT`
 */
export async function decrypt(encrypted: string, options: DecryptOptions): Promise<DecryptResult> {
  const { doc, metadata } = await open(encrypted, options);
  doc.setMetadata(undefined);
  return { plaintext: doc.serialize({ encrypted: false }), data: doc.toData(), metadata };
}

/** Options for {@link updateEncrypted}. */
export interface UpdateOptions extends DecryptOptions {
  now?: Date;
}

/**
 * Re-encrypts edited clear text under an existing file's data key, recipients and rules, as `sops edit` does:
 * values whose key path and content did not change keep their ciphertext, so the diff shows only real edits.
 * @throws SopsError as {@link decrypt} and {@link encrypt}
 */
export async function updateEncrypted(
  encrypted: string,
  plaintext: string,
  options: UpdateOptions,
): Promise<string> {
  const { dataKey, raw, metadata, stash } = await open(encrypted, options);
  const doc = parseSopsDocument(plaintext, options.format, options.source ?? "input");
  if (doc.metadata() !== undefined) {
    throw new SopsError(
      "ALREADY_ENCRYPTED",
      `${options.source ?? "input"}: the edited text carries sops metadata`,
    );
  }
  const keys: Record<string, unknown> = {};
  for (const type of ["age", ...OTHER_KEY_TYPES]) if (raw[type] !== undefined) keys[type] = raw[type];
  return seal(doc, dataKey, metadata.rules, keys, options.now ?? new Date(), stash);
}

/** Options for {@link rotate}. */
export interface RotateOptions extends DecryptOptions {
  /** The new recipient set (default: the file's current age recipients). */
  recipients?: readonly string[];
  now?: Date;
}

/**
 * Re-encrypts a file under a new data key for a (possibly new) recipient set; the old key material stops
 * working for the new file. Files that also use PGP or cloud KMS keys are refused, since they cannot be re-wrapped here.
 * @throws SopsError as {@link decrypt}, plus `INVALID_OPTIONS`
 */
export async function rotate(encrypted: string, options: RotateOptions): Promise<string> {
  const { doc, metadata } = await open(encrypted, options);
  if (metadata.otherKeyTypes.length > 0) {
    throw new SopsError(
      "INVALID_OPTIONS",
      `${options.source ?? "input"}: also encrypted with ${metadata.otherKeyTypes.join(", ")}, which cannot be re-wrapped here`,
    );
  }
  const dataKey = randomBytes(32);
  const recipients = options.recipients ?? metadata.recipients;
  return seal(doc, dataKey, metadata.rules, await ageEntries(dataKey, recipients), options.now ?? new Date());
}
