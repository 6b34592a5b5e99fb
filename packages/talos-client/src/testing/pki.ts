import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate as NodeX509,
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
import { stringify } from "yaml";
import { derToPem, normalizePrivateKeyPem } from "../internal/pem.js";

// X.509 with @peculiar/asn1-x509 (structures only) and node:crypto (keys, signatures), as talos-config
// does: no WebCrypto provider, no Reflect polyfill.

const OID_ED25519 = "1.3.101.112";
const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const OID_ORGANIZATION = "2.5.4.10";
const OID_COMMON_NAME = "2.5.4.3";
const DAY = 24 * 60 * 60 * 1000;

/** A PEM certificate and its PEM private key. */
export interface CertificateAndKey {
  crt: string;
  key: string;
}

/** Options of {@link generateTalosCa}. */
export interface GenerateTalosCaOptions {
  organization?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** PEM label of the key: talosctl writes `ED25519 PRIVATE KEY` (default); `PRIVATE KEY` is plain PKCS#8. */
  keyLabel?: "ED25519 PRIVATE KEY" | "PRIVATE KEY";
}

/** Options of {@link issueCertificate}. */
export interface IssueCertificateOptions {
  ca: CertificateAndKey;
  commonName?: string;
  /** Subject O values; Talos reads client roles from them (e.g. `os:admin`). */
  organizations?: string[];
  usage: "client" | "server";
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  keyLabel?: "ED25519 PRIVATE KEY" | "PRIVATE KEY";
}

let serial = Date.now();

/** A positive DER INTEGER in minimal form (no leading zero byte unless the high bit needs one). */
function nextSerial(): ArrayBuffer {
  serial += 1;
  const hex = serial.toString(16);
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
  return arrayBuffer((bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function name(organizations: readonly string[], commonName: string | undefined): Name {
  const rdns = organizations.map((o) => new RelativeDistinguishedName([attribute(OID_ORGANIZATION, o)]));
  if (commonName !== undefined)
    rdns.push(new RelativeDistinguishedName([attribute(OID_COMMON_NAME, commonName)]));
  return new Name(rdns);
}

function attribute(type: string, value: string): AttributeTypeAndValue {
  const attr = new AttributeTypeAndValue({ type });
  attr.value.utf8String = value;
  return attr;
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function spkiOf(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(createPublicKey(key).export({ format: "der", type: "spki" }), SubjectPublicKeyInfo);
}

function keyIdentifier(spki: SubjectPublicKeyInfo): ArrayBuffer {
  return arrayBuffer(createHash("sha1").update(new Uint8Array(spki.subjectPublicKey)).digest());
}

function toTime(date: Date): Time {
  return date.getUTCFullYear() >= 2050 ? new Time({ generalTime: date }) : new Time({ utcTime: date });
}

/** Signs `tbs` with `key` into a PEM certificate (Ed25519, or ECDSA P-256 with SHA-256). */
function signCertificate(tbs: TBSCertificate, key: KeyObject, algorithm: AlgorithmIdentifier): string {
  const digest = key.asymmetricKeyType === "ec" ? "sha256" : null;
  const signature = sign(digest, new Uint8Array(AsnConvert.serialize(tbs)), key);
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: arrayBuffer(signature),
  });
  return derToPem(new Uint8Array(AsnConvert.serialize(certificate)), "CERTIFICATE");
}

function newKeyPem(key: KeyObject, label: GenerateTalosCaOptions["keyLabel"]): string {
  return derToPem(key.export({ format: "der", type: "pkcs8" }), label ?? "ED25519 PRIVATE KEY");
}

function parseCertificate(pem: string): Certificate {
  return AsnConvert.parse(new NodeX509(pem).raw, Certificate);
}

/** Generates an Ed25519 Talos OS CA like `talosctl gen secrets` does (10 years by default). */
export async function generateTalosCa(options: GenerateTalosCaOptions = {}): Promise<CertificateAndKey> {
  const { privateKey } = generateKeyPairSync("ed25519");
  const spki = spkiOf(privateKey);
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const subject = name([options.organization ?? "talos"], undefined);
  const algorithm = new AlgorithmIdentifier({ algorithm: OID_ED25519 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: nextSerial(),
    signature: algorithm,
    issuer: subject,
    validity: new Validity(),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true })),
      extension(
        id_ce_keyUsage,
        true,
        new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.digitalSignature),
      ),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki))),
    ]),
  });
  tbs.validity.notBefore = toTime(notBefore);
  tbs.validity.notAfter = toTime(options.notAfter ?? new Date(notBefore.getTime() + 3650 * DAY));
  return { crt: signCertificate(tbs, privateKey, algorithm), key: newKeyPem(privateKey, options.keyLabel) };
}

/** Issues an Ed25519 certificate signed by `ca` (client: EKU ClientAuth only, as apid requires). */
export async function issueCertificate(options: IssueCertificateOptions): Promise<CertificateAndKey> {
  const caCert = parseCertificate(options.ca.crt);
  // Talos writes Ed25519 as PKCS#8 under an `ED25519 PRIVATE KEY` label and EC keys as SEC1.
  const caKey = createPrivateKey(normalizePrivateKeyPem(options.ca.key));
  const algorithm = new AlgorithmIdentifier({
    algorithm: caKey.asymmetricKeyType === "ec" ? OID_ECDSA_SHA256 : OID_ED25519,
  });
  const { privateKey } = generateKeyPairSync("ed25519");
  const commonName = options.commonName ?? (options.usage === "client" ? "admin" : "talos");
  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
    extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
    extension(
      id_ce_extKeyUsage,
      false,
      new ExtendedKeyUsage([options.usage === "client" ? id_kp_clientAuth : id_kp_serverAuth]),
    ),
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({
        keyIdentifier: new KeyIdentifier(keyIdentifier(caCert.tbsCertificate.subjectPublicKeyInfo)),
      }),
    ),
  ];
  const sans = [
    ...(options.dnsNames ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(options.ipAddresses ?? []).map((iPAddress) => new GeneralName({ iPAddress })),
  ];
  if (sans.length > 0)
    extensions.push(extension(id_ce_subjectAltName, false, new SubjectAlternativeName(sans)));
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: nextSerial(),
    signature: algorithm,
    issuer: caCert.tbsCertificate.subject,
    validity: new Validity(),
    subject: name(options.organizations ?? [], commonName),
    subjectPublicKeyInfo: spkiOf(privateKey),
    extensions: new Extensions(extensions),
  });
  tbs.validity.notBefore = toTime(notBefore);
  tbs.validity.notAfter = toTime(options.notAfter ?? new Date(notBefore.getTime() + 365 * DAY));
  return { crt: signCertificate(tbs, caKey, algorithm), key: newKeyPem(privateKey, options.keyLabel) };
}

/** Subject O values (Talos roles) of a PEM or DER certificate. */
export function certificateOrganizations(certificate: string | Buffer): string[] {
  const cert = new NodeX509(certificate);
  return cert.subject
    .split("\n")
    .filter((line) => line.startsWith("O="))
    .map((line) => line.slice(2));
}

/** Options of {@link buildMachineConfig}. */
export interface BuildMachineConfigOptions {
  type: "controlplane" | "worker" | "init";
  ca: CertificateAndKey;
  clusterName?: string;
  endpoint?: string;
  hostname?: string;
  /** Emit the hostname as a 1.12+ `HostnameConfig` document (default) or as `machine.network.hostname`. */
  hostnameStyle?: "document" | "legacy";
  /** Include `machine.ca.key`; default: control planes yes, workers no (as `talosctl gen config`). */
  includeCaKey?: boolean;
}

/** A minimal machine config of the shape talos-config generates (enough for the emulator). */
export function buildMachineConfig(options: BuildMachineConfigOptions): string {
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  const machine: Record<string, unknown> = {
    type: options.type,
    token: "emulated.token",
    ca: {
      crt: b64(options.ca.crt),
      key: (options.includeCaKey ?? options.type !== "worker") ? b64(options.ca.key) : "",
    },
  };
  if (options.hostname !== undefined && options.hostnameStyle === "legacy") {
    machine.network = { hostname: options.hostname };
  }
  const docs = [
    {
      version: "v1alpha1",
      machine,
      cluster: {
        clusterName: options.clusterName ?? "homelab",
        controlPlane: { endpoint: options.endpoint ?? "https://10.0.0.10:6443" },
      },
    },
  ];
  let text = stringify(docs[0]);
  if (options.hostname !== undefined && options.hostnameStyle !== "legacy") {
    text += `---\n${stringify({ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: options.hostname })}`;
  }
  return text;
}

/** Options of {@link buildTalosconfig}. */
export interface BuildTalosconfigOptions {
  context?: string;
  endpoints: string[];
  nodes?: string[];
  ca: string;
  crt: string;
  key: string;
}

/** talosconfig YAML (base64 PEM values) as talosctl writes it. */
export function buildTalosconfig(options: BuildTalosconfigOptions): string {
  const name = options.context ?? "homelab";
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  return stringify({
    context: name,
    contexts: {
      [name]: {
        endpoints: options.endpoints,
        nodes: options.nodes ?? [],
        ca: b64(options.ca),
        crt: b64(options.crt),
        key: b64(options.key),
      },
    },
  });
}
