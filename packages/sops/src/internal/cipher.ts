import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SopsError } from "../errors.js";

/** A leaf value as SOPS types it: `str`, `int` (bigint), `float` (number), `bool`. */
export type LeafValue = string | bigint | number | boolean;

/** The `type:` tag of an encrypted value. `bytes` and `time` read back as strings. */
type ValueType = "str" | "int" | "float" | "bool" | "bytes" | "time" | "comment";

// SOPS values use a 32-byte GCM nonce and a 16-byte tag, each base64 (standard alphabet, padded).
const IV_BYTES = 32;
const TAG_BYTES = 16;
const ENCRYPTED = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

/** True when `value` looks like a SOPS-encrypted value. */
export function isEncryptedValue(value: unknown): value is string {
  return typeof value === "string" && ENCRYPTED.test(value);
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent. */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  const text = String(value);
  const exp = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (exp === null) return text;
  const [, sign = "", lead = "", frac = "", power = "0"] = exp;
  const digits = lead + frac;
  const point = 1 + Number(power);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** The bytes SOPS feeds into the MAC and the cipher for a typed value (bools are `True`/`False`). */
export function valueBytes(value: LeafValue): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return formatFloat(value);
  return String(value);
}

function valueType(value: LeafValue): ValueType {
  if (typeof value === "string") return "str";
  if (typeof value === "bigint") return "int";
  if (typeof value === "number") return "float";
  return "bool";
}

/** Reuses nonces for unchanged (path, type, value) triples so re-encrypting an edited file keeps a small diff. */
export type NonceStash = Map<string, Buffer>;

function stashKey(additionalData: string, type: ValueType, bytes: string): string {
  return `${additionalData}\u0000${type}\u0000${bytes}`;
}

/**
 * Encrypts one value as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` under the data key, with the key path
 * (`a:b:c:`) as additional authenticated data. Empty strings stay empty, as SOPS leaves them.
 */
export function encryptValue(
  value: LeafValue,
  dataKey: Uint8Array,
  additionalData: string,
  options: { stash?: NonceStash | undefined; comment?: boolean } = {},
): string {
  if (value === "") return "";
  const type: ValueType = options.comment === true ? "comment" : valueType(value);
  const plain = valueBytes(value);
  const iv = options.stash?.get(stashKey(additionalData, type, plain)) ?? randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", dataKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(additionalData, "utf8"));
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${iv.toString("base64")},tag:${tag.toString("base64")},type:${type}]`;
}

function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** The result of {@link decryptValue}: the typed value and whether it was an encrypted comment. */
export interface DecryptedValue {
  value: LeafValue;
  isComment: boolean;
}

/**
 * Decrypts one `ENC[...]` value, checking its GCM tag against the key path. Records the nonce in `stash`.
 * @throws SopsError `DECRYPTION_FAILED` naming `where` (a key path), never the value.
 */
export function decryptValue(
  encrypted: string,
  dataKey: Uint8Array,
  additionalData: string,
  where: string,
  stash?: NonceStash,
): DecryptedValue {
  if (encrypted === "") return { value: "", isComment: false };
  const match = ENCRYPTED.exec(encrypted);
  if (match === null) {
    throw new SopsError(
      "DECRYPTION_FAILED",
      `${where}: value is not in the SOPS ENC[AES256_GCM,...] format`,
      {
        details: { path: where },
      },
    );
  }
  const [, data64 = "", iv64 = "", tag64 = "", type = ""] = match;
  const iv = Buffer.from(iv64, "base64");
  const tag = Buffer.from(tag64, "base64");
  let plain: string;
  try {
    if (iv.length === 0 || tag.length !== TAG_BYTES) throw new Error("bad nonce or tag length");
    const decipher = createDecipheriv("aes-256-gcm", dataKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(additionalData, "utf8"));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(Buffer.from(data64, "base64")), decipher.final()]).toString(
      "utf8",
    );
  } catch (cause) {
    throw new SopsError(
      "DECRYPTION_FAILED",
      `${where}: value does not authenticate (wrong data key, value moved to another key, or tampered)`,
      { cause, details: { path: where } },
    );
  }
  stash?.set(stashKey(additionalData, type as ValueType, plain), iv);
  switch (type) {
    case "str":
    case "bytes":
    case "time":
      return { value: plain, isComment: false };
    case "comment":
      return { value: plain, isComment: true };
    case "int":
      if (/^[+-]?\d+$/.test(plain)) return { value: BigInt(plain), isComment: false };
      break;
    case "float": {
      const number = Number(plain.replace(/^\+?Inf$/, "Infinity").replace(/^-Inf$/, "-Infinity"));
      if (!Number.isNaN(number) || plain === "NaN") return { value: number, isComment: false };
      break;
    }
    case "bool": {
      const bool = parseGoBool(plain);
      if (bool !== undefined) return { value: bool, isComment: false };
      break;
    }
    default:
      throw new SopsError("DECRYPTION_FAILED", `${where}: unknown value type ${JSON.stringify(type)}`, {
        details: { path: where },
      });
  }
  throw new SopsError("DECRYPTION_FAILED", `${where}: decrypted value is not a valid ${type}`, {
    details: { path: where },
  });
}
