import { armor, Decrypter, Encrypter, generateIdentity, identityToRecipient } from "age-encryption";
import { SopsError } from "./errors.js";

/** A freshly generated age X25519 key pair. */
export interface AgeKeyPair {
  /** `AGE-SECRET-KEY-1…`: the secret half, to keep in a 0600 keys file. */
  identity: string;
  /** `age1…`: the public half, to list as a recipient. */
  recipient: string;
}

/** Generates an age X25519 identity and its recipient. */
export async function generateAgeKey(): Promise<AgeKeyPair> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/**
 * The recipient (`age1…`) of an age identity (`AGE-SECRET-KEY-1…`).
 * @throws SopsError `INVALID_KEY`
 */
export async function ageRecipientOf(identity: string): Promise<string> {
  try {
    return await identityToRecipient(identity.trim());
  } catch (cause) {
    throw new SopsError("INVALID_KEY", "not an age identity (expected AGE-SECRET-KEY-1...)", { cause });
  }
}

/**
 * The identities in an age keys file (`keys.txt` format): one `AGE-SECRET-KEY-…` per line; blank lines and
 * lines starting with `#` are ignored. With `allowManyPerLine` (the `SOPS_AGE_KEY` variable) a line may hold
 * several identities separated by whitespace.
 * @throws SopsError `INVALID_KEY` naming the line number, never the key.
 */
export function parseAgeIdentities(text: string, options: { allowManyPerLine?: boolean } = {}): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const words = options.allowManyPerLine === true ? line.split(/\s+/) : [line];
    for (const word of words) {
      if (!/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(word)) {
        throw new SopsError(
          "INVALID_KEY",
          `line ${index + 1}: expected an age identity (AGE-SECRET-KEY-1...)`,
          {
            details: { line: index + 1 },
          },
        );
      }
      identities.push(word);
    }
  });
  return identities;
}

/** Encrypts the data key to one recipient as an armored age file, as SOPS stores it in `sops.age[].enc`. */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<string> {
  const encrypter = new Encrypter();
  try {
    encrypter.addRecipient(recipient);
  } catch (cause) {
    throw new SopsError(
      "INVALID_KEY",
      `recipient ${JSON.stringify(recipient)} is not an age recipient (age1...)`,
      {
        cause,
        details: { recipient },
      },
    );
  }
  return armor.encode(await encrypter.encrypt(dataKey));
}

/** Tries each identity on an armored age file; returns the 32-byte data key or undefined. */
export async function unwrapDataKey(
  armored: string,
  identities: readonly string[],
): Promise<Uint8Array | undefined> {
  if (identities.length === 0) return undefined;
  const decrypter = new Decrypter();
  for (const identity of identities) {
    try {
      decrypter.addIdentity(identity);
    } catch (cause) {
      throw new SopsError("INVALID_KEY", "an identity is not a valid age identity (AGE-SECRET-KEY-1...)", {
        cause,
      });
    }
  }
  let key: Uint8Array;
  try {
    key = await decrypter.decrypt(armor.decode(armored));
  } catch {
    return undefined;
  }
  if (key.length !== 32) {
    throw new SopsError("METADATA_NOT_FOUND", `age-wrapped data key has ${key.length} bytes, expected 32`);
  }
  return key;
}
