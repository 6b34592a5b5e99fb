import "reflect-metadata";
import { createPrivateKey, X509Certificate as NodeX509, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { stringify } from "yaml";
import { derToPem } from "../internal/pem.js";

x509.cryptoProvider.set(webcrypto as Crypto);

const ED25519 = { name: "Ed25519" };
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

function nextSerial(): string {
  serial += 1;
  return serial.toString(16).padStart(16, "0");
}

function pemText(pem: string): string {
  const text = pem.replace(/\r\n/g, "\n");
  return text.endsWith("\n") ? text : `${text}\n`;
}

function pemDer(pem: string): Buffer {
  const match = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----([\s\S]*?)-----END [A-Z0-9 ]*PRIVATE KEY-----/.exec(
    pem,
  );
  if (match === null) throw new Error("no private key PEM block");
  return Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
}

interface SigningKey {
  key: CryptoKey;
  algorithm: Algorithm | EcdsaParams;
}

async function importSigningKey(pem: string): Promise<SigningKey> {
  // Talos writes Ed25519 as PKCS#8 under an `ED25519 PRIVATE KEY` label and EC keys as SEC1.
  const label = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/.exec(pem)?.[1];
  let der = pemDer(pem);
  if (label === "ED25519 PRIVATE KEY" && der.length === 32) {
    der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), der]);
  }
  const object =
    label === "ED25519 PRIVATE KEY"
      ? createPrivateKey({ key: der, format: "der", type: "pkcs8" })
      : createPrivateKey(pem);
  const pkcs8 = object.export({ format: "der", type: "pkcs8" });
  if (object.asymmetricKeyType === "ec") {
    const params = { name: "ECDSA", namedCurve: "P-256" };
    const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, params, true, ["sign"]);
    return { key: key as unknown as CryptoKey, algorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams };
  }
  const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, ED25519, true, ["sign"]);
  return { key: key as unknown as CryptoKey, algorithm: ED25519 };
}

/** Generates an Ed25519 Talos OS CA like `talosctl gen secrets` does (10 years by default). */
export async function generateTalosCa(options: GenerateTalosCaOptions = {}): Promise<CertificateAndKey> {
  const keys = (await webcrypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: [{ O: [options.organization ?? "talos"] }],
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + 3650 * DAY),
    keys,
    signingAlgorithm: ED25519,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    crt: pemText(cert.toString("pem")),
    key: derToPem(der, options.keyLabel ?? "ED25519 PRIVATE KEY"),
  };
}

/** Issues an Ed25519 certificate signed by `ca` (client: EKU ClientAuth only, as apid requires). */
export async function issueCertificate(options: IssueCertificateOptions): Promise<CertificateAndKey> {
  const caCert = new x509.X509Certificate(options.ca.crt);
  const caKey = await importSigningKey(options.ca.key);
  const keys = (await webcrypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const name: x509.JsonName = [];
  for (const o of options.organizations ?? []) name.push({ O: [o] });
  name.push({ CN: [options.commonName ?? (options.usage === "client" ? "admin" : "talos")] });
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [options.usage === "client" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  const sans: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: name,
    issuer: caCert.subjectName,
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: caKey.key,
    signingAlgorithm: caKey.algorithm,
    extensions,
  });
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    crt: pemText(cert.toString("pem")),
    key: derToPem(der, options.keyLabel ?? "ED25519 PRIVATE KEY"),
  };
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
