import { createHash, createPrivateKey, X509Certificate } from "node:crypto";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Decodes a talosconfig value: base64 of a PEM block, or a PEM block as is. */
export function decodePemValue(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith("-----BEGIN")) return `${trimmed}\n`;
  const decoded = Buffer.from(trimmed, "base64").toString("utf8");
  if (!decoded.includes("-----BEGIN")) throw new Error("value is neither PEM nor base64 of PEM");
  return decoded.endsWith("\n") ? decoded : `${decoded}\n`;
}

/** Encodes DER as a PEM block with 64-character lines. */
export function derToPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const body = Buffer.from(new Uint8Array(der))
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function pemBody(pem: string, label: string): Buffer | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  return match === null ? undefined : Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
}

/**
 * Turns any private key PEM Talos tooling writes into PKCS#8 `PRIVATE KEY` PEM that OpenSSL (and so
 * node:tls) accepts. talosctl labels Ed25519 keys `ED25519 PRIVATE KEY` while the DER inside is PKCS#8.
 */
export function normalizePrivateKeyPem(pem: string): string {
  const ed = pemBody(pem, "ED25519 PRIVATE KEY");
  if (ed !== undefined) {
    const der = ed.length === 32 ? Buffer.concat([PKCS8_ED25519_PREFIX, ed]) : ed;
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
      .export({ type: "pkcs8", format: "pem" })
      .toString();
  }
  return createPrivateKey(pem).export({ type: "pkcs8", format: "pem" }).toString();
}

/** base64(sha256(SubjectPublicKeyInfo DER)) of a certificate, the form talosctl pins. */
export function spkiFingerprint(certificate: Buffer | string): string {
  const cert = new X509Certificate(certificate);
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}
