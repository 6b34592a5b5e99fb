import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Time,
  Validity,
  Version,
} from "@peculiar/asn1-x509";
import { TalosConfigError } from "../errors.js";

/** Key algorithms the Talos PKI uses. */
/** A PEM block as Talos configs, talosconfig and secrets.yaml carry it: its text, base64 (standard alphabet). */
export function pemBase64(pem: string): string {
  return Buffer.from(pem, "utf8").toString("base64");
}

export type KeyAlgorithm = "ed25519" | "ecdsa-p256" | "rsa-4096";

const OID_ED25519 = "1.3.101.112";
const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const OID_ORGANIZATION = "2.5.4.10";
const OID_COMMON_NAME = "2.5.4.3";

/** A private key as PEM, in the encoding Talos writes (Ed25519 PKCS#8 labelled `ED25519 PRIVATE KEY`, EC SEC1, RSA PKCS#1). */
export function generatePrivateKeyPem(algorithm: KeyAlgorithm): string {
  switch (algorithm) {
    case "ed25519": {
      const { privateKey } = generateKeyPairSync("ed25519");
      const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
      return pem
        .replaceAll("-----BEGIN PRIVATE KEY-----", "-----BEGIN ED25519 PRIVATE KEY-----")
        .replaceAll("-----END PRIVATE KEY-----", "-----END ED25519 PRIVATE KEY-----");
    }
    case "ecdsa-p256": {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      return privateKey.export({ format: "pem", type: "sec1" }).toString();
    }
    case "rsa-4096": {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 4096 });
      return privateKey.export({ format: "pem", type: "pkcs1" }).toString();
    }
  }
}

/** Relabels an `ED25519 PRIVATE KEY` PEM to the standard `PRIVATE KEY` that OpenSSL (node:tls) accepts. */
function standardPrivateKeyPem(pem: string): string {
  return pem
    .replaceAll("-----BEGIN ED25519 PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----")
    .replaceAll("-----END ED25519 PRIVATE KEY-----", "-----END PRIVATE KEY-----");
}

/**
 * Parses a private key PEM as Talos writes it (including the `ED25519 PRIVATE KEY` label that OpenSSL
 * does not know).
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `field` (never the key material).
 */
export function parsePrivateKey(pem: string, field: string): KeyObject {
  try {
    return createPrivateKey({ key: standardPrivateKeyPem(pem), format: "pem" });
  } catch (error) {
    throw new TalosConfigError("INVALID_INPUT", `${field}: not a readable PEM private key`, {
      details: { field },
      cause: error instanceof Error ? new Error(error.message) : undefined,
    });
  }
}

function printable(value: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
}

function attribute(type: string, value: string): AttributeTypeAndValue {
  const attr = new AttributeTypeAndValue({ type });
  if (printable(value)) attr.value.printableString = value;
  else attr.value.utf8String = value;
  return attr;
}

/** A distinguished name: one RDN per organization, then the common name. Empty when both are absent. */
export interface DistinguishedName {
  readonly organizations?: readonly string[];
  readonly commonName?: string;
}

function buildName(dn: DistinguishedName): Name {
  const rdns: RelativeDistinguishedName[] = [];
  if (dn.organizations !== undefined && dn.organizations.length > 0) {
    rdns.push(new RelativeDistinguishedName(dn.organizations.map((o) => attribute(OID_ORGANIZATION, o))));
  }
  if (dn.commonName !== undefined && dn.commonName !== "") {
    rdns.push(new RelativeDistinguishedName([attribute(OID_COMMON_NAME, dn.commonName)]));
  }
  return new Name(rdns);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function spkiOf(key: KeyObject): SubjectPublicKeyInfo {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return AsnConvert.parse(der, SubjectPublicKeyInfo);
}

function keyIdentifier(spki: SubjectPublicKeyInfo): ArrayBuffer {
  const digest = createHash("sha1").update(new Uint8Array(spki.subjectPublicKey)).digest();
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
}

function signatureAlgorithmFor(key: KeyObject): { oid: string; digest: string | null } {
  if (key.asymmetricKeyType === "ed25519") return { oid: OID_ED25519, digest: null };
  if (key.asymmetricKeyType === "ec") return { oid: OID_ECDSA_SHA256, digest: "sha256" };
  throw new TalosConfigError(
    "INVALID_INPUT",
    `unsupported signing key type ${key.asymmetricKeyType ?? "unknown"}`,
  );
}

function serialNumber(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  if (bytes[0] === 0) bytes[0] = 1;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function toTime(date: Date): Time {
  return date.getUTCFullYear() >= 2050 ? new Time({ generalTime: date }) : new Time({ utcTime: date });
}

/** What to put into a certificate. */
export interface CertificateProfile {
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA: boolean;
  readonly keyUsage: readonly ("digitalSignature" | "keyCertSign" | "keyEncipherment")[];
  readonly extKeyUsage: readonly ("serverAuth" | "clientAuth")[];
  readonly dnsNames?: readonly string[];
}

interface Issuer {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/**
 * Issues an X.509 certificate for the public half of `subjectKeyPem`, self-signed when `issuer` is
 * absent, signed by the issuer's key otherwise. Returns the certificate PEM.
 */
export function issueCertificate(
  subjectKeyPem: string,
  profile: CertificateProfile,
  issuer?: Issuer,
): string {
  const subjectKey = parsePrivateKey(subjectKeyPem, "key");
  const signingKey = issuer === undefined ? subjectKey : parsePrivateKey(issuer.privateKeyPem, "issuer key");
  const issuerCert = issuer === undefined ? undefined : parseCertificate(issuer.certificatePem);
  const spki = spkiOf(subjectKey);
  const algorithm = signatureAlgorithmFor(signingKey);
  const algorithmIdentifier = new AlgorithmIdentifier({ algorithm: algorithm.oid });

  let usage = 0;
  for (const flag of profile.keyUsage) usage |= KeyUsageFlags[flag];
  const extensions: Extension[] = [
    extension(id_ce_keyUsage, true, new KeyUsage(usage)),
    extension(
      id_ce_extKeyUsage,
      false,
      new ExtendedKeyUsage(
        profile.extKeyUsage.map((u) => (u === "serverAuth" ? id_kp_serverAuth : id_kp_clientAuth)),
      ),
    ),
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: profile.isCA })),
  ];
  if (profile.isCA) {
    extensions.push(
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki))),
    );
  }
  if (issuerCert !== undefined) {
    const issuerSpki = issuerCert.tbsCertificate.subjectPublicKeyInfo;
    extensions.push(
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyIdentifier(issuerSpki)) }),
      ),
    );
  }
  if (profile.dnsNames !== undefined && profile.dnsNames.length > 0) {
    extensions.push(
      extension(
        id_ce_subjectAltName,
        false,
        new SubjectAlternativeName(profile.dnsNames.map((dNSName) => new GeneralName({ dNSName }))),
      ),
    );
  }

  const subject = buildName(profile.subject);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: algorithmIdentifier,
    issuer: issuerCert === undefined ? subject : issuerCert.tbsCertificate.subject,
    validity: new Validity(),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  tbs.validity.notBefore = toTime(profile.notBefore);
  tbs.validity.notAfter = toTime(profile.notAfter);
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = sign(algorithm.digest, tbsDer, signingKey);
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithmIdentifier,
    signatureValue: signature.buffer.slice(
      signature.byteOffset,
      signature.byteOffset + signature.byteLength,
    ) as ArrayBuffer,
  });
  return toPem("CERTIFICATE", new Uint8Array(AsnConvert.serialize(certificate)));
}

function parseCertificate(pem: string): Certificate {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new TalosConfigError("INVALID_INPUT", "issuer certificate: not a PEM certificate");
  return AsnConvert.parse(Buffer.from((match[1] as string).replace(/\s+/g, ""), "base64"), Certificate);
}

function toPem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
