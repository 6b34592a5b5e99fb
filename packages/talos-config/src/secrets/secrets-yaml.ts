import { X509Certificate } from "node:crypto";
import { parse, stringify } from "yaml";
import { fail } from "../builders/util.js";
import { TalosConfigError } from "../errors.js";
import { isPlainObject } from "../patch/values.js";
import { type CertificateAndKey, type SecretsBundle, sealSecretsBundle } from "./secrets-bundle.js";
import { parsePrivateKey, pemBase64 } from "./x509.js";

/**
 * Serialises a bundle in the `secrets.yaml` layout `talosctl gen secrets` writes (keys `cluster`,
 * `secrets`, `trustdinfo`, `certs`; PEM blocks base64-encoded), so that `talosctl gen config
 * --with-secrets` and OpenTofu can read it. The text is secret: write it with mode 0600.
 */
export function secretsToYaml(bundle: SecretsBundle): string {
  const pair = (value: CertificateAndKey) => ({ crt: pemBase64(value.crt), key: pemBase64(value.key) });
  const secrets: Record<string, string> = { bootstraptoken: bundle.secrets.bootstrapToken };
  if (bundle.secrets.aescbcEncryptionSecret !== undefined) {
    secrets.aescbcencryptionsecret = bundle.secrets.aescbcEncryptionSecret;
  }
  if (bundle.secrets.secretboxEncryptionSecret !== undefined) {
    secrets.secretboxencryptionsecret = bundle.secrets.secretboxEncryptionSecret;
  }
  const doc = {
    cluster: { id: bundle.cluster.id, secret: bundle.cluster.secret },
    secrets,
    trustdinfo: { token: bundle.trustdInfo.token },
    certs: {
      etcd: pair(bundle.certs.etcd),
      k8s: pair(bundle.certs.k8s),
      k8saggregator: pair(bundle.certs.k8sAggregator),
      k8sserviceaccount: { key: pemBase64(bundle.certs.k8sServiceAccount.key) },
      os: pair(bundle.certs.os),
    },
  };
  return stringify(doc, { indent: 4, lineWidth: 0 });
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) fail(field, "missing or not a mapping");
  return value;
}

function text(value: unknown, field: string, optional = false): string | undefined {
  if (value === undefined || value === null) {
    if (optional) return undefined;
    fail(field, "missing");
  }
  if (typeof value !== "string" || value === "") fail(field, "must be a non-empty string");
  return value;
}

function pem(value: unknown, field: string): string {
  const encoded = text(value, field) as string;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  if (!decoded.startsWith("-----BEGIN ")) fail(field, "not a base64-encoded PEM block");
  return decoded;
}

function certificateAndKey(value: unknown, field: string): CertificateAndKey {
  const raw = record(value, field);
  const crt = pem(raw.crt, `${field}.crt`);
  const key = pem(raw.key, `${field}.key`);
  try {
    new X509Certificate(crt);
  } catch {
    fail(`${field}.crt`, "not a readable certificate");
  }
  parsePrivateKey(key, `${field}.key`);
  return { crt, key };
}

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/**
 * Reads a `secrets.yaml` as `talosctl gen secrets` writes it (and as {@link secretsToYaml} writes it).
 *
 * @throws TalosConfigError `PARSE_ERROR` when the text is not YAML, `INVALID_INPUT` naming the field
 * (e.g. `certs.os.key`) that is missing or malformed. Messages never contain secret material.
 */
export function secretsFromYaml(yamlText: string): SecretsBundle {
  let raw: unknown;
  try {
    raw = parse(yamlText);
  } catch (error) {
    throw new TalosConfigError("PARSE_ERROR", "secrets.yaml is not valid YAML", {
      cause: error instanceof Error ? new Error(error.name) : undefined,
    });
  }
  const root = record(raw, "secrets.yaml");
  const cluster = record(root.cluster, "cluster");
  const secrets = record(root.secrets, "secrets");
  const trustd = record(root.trustdinfo, "trustdinfo");
  const certs = record(root.certs, "certs");
  const bootstrapToken = text(secrets.bootstraptoken, "secrets.bootstraptoken") as string;
  if (!TOKEN.test(bootstrapToken)) fail("secrets.bootstraptoken", "must look like [a-z0-9]{6}.[a-z0-9]{16}");
  const trustdToken = text(trustd.token, "trustdinfo.token") as string;
  const secretbox = text(secrets.secretboxencryptionsecret, "secrets.secretboxencryptionsecret", true);
  const aescbc = text(secrets.aescbcencryptionsecret, "secrets.aescbcencryptionsecret", true);
  if (secretbox === undefined && aescbc === undefined) {
    fail("secrets.secretboxencryptionsecret", "missing (neither secretbox nor aescbc key present)");
  }
  const serviceAccount = record(certs.k8sserviceaccount, "certs.k8sserviceaccount");
  const serviceAccountKey = pem(serviceAccount.key, "certs.k8sserviceaccount.key");
  parsePrivateKey(serviceAccountKey, "certs.k8sserviceaccount.key");
  const bundleSecrets: {
    bootstrapToken: string;
    secretboxEncryptionSecret?: string;
    aescbcEncryptionSecret?: string;
  } = { bootstrapToken };
  if (secretbox !== undefined) bundleSecrets.secretboxEncryptionSecret = secretbox;
  if (aescbc !== undefined) bundleSecrets.aescbcEncryptionSecret = aescbc;
  return sealSecretsBundle({
    cluster: {
      id: text(cluster.id, "cluster.id") as string,
      secret: text(cluster.secret, "cluster.secret") as string,
    },
    secrets: bundleSecrets,
    trustdInfo: { token: trustdToken },
    certs: {
      etcd: certificateAndKey(certs.etcd, "certs.etcd"),
      k8s: certificateAndKey(certs.k8s, "certs.k8s"),
      k8sAggregator: certificateAndKey(certs.k8saggregator, "certs.k8saggregator"),
      k8sServiceAccount: { key: serviceAccountKey },
      os: certificateAndKey(certs.os, "certs.os"),
    },
  });
}
