import { randomBytes, randomInt } from "node:crypto";
import { TalosConfigError } from "../errors.js";
import { parseTalosVersion } from "../version.js";
import { redacting } from "./redact.js";
import { generatePrivateKeyPem, issueCertificate } from "./x509.js";

/** A PEM certificate and its PEM private key. */
export interface CertificateAndKey {
  /** PEM certificate (`-----BEGIN CERTIFICATE-----`). */
  readonly crt: string;
  /** PEM private key, in the encoding Talos writes (`ED25519 PRIVATE KEY`, `EC PRIVATE KEY`, `RSA PRIVATE KEY`). */
  readonly key: string;
}

/**
 * Everything a Talos cluster's machine configs are built from: the material `talosctl gen secrets`
 * writes to `secrets.yaml`. Every printable form of the bundle and of its parts is redacted.
 */
export interface SecretsBundle {
  readonly cluster: {
    /** Cluster id (32 random bytes, base64). */
    readonly id: string;
    /** Cluster secret (32 random bytes, base64 std). */
    readonly secret: string;
  };
  readonly secrets: {
    /** Kubernetes bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. */
    readonly bootstrapToken: string;
    /** Secretbox key for etcd encryption at rest (32 random bytes, base64). Present for Talos ≥1.3. */
    readonly secretboxEncryptionSecret?: string;
    /** AES-CBC key, only in bundles made for Talos ≤1.2 (kept when read from such a secrets.yaml). */
    readonly aescbcEncryptionSecret?: string;
  };
  readonly trustdInfo: {
    /** The machine token trustd checks, `[a-z0-9]{6}.[a-z0-9]{16}`. */
    readonly token: string;
  };
  readonly certs: {
    /** etcd CA (ECDSA P-256, O=etcd, 10 years). */
    readonly etcd: CertificateAndKey;
    /** Kubernetes CA (ECDSA P-256, O=kubernetes, 10 years). */
    readonly k8s: CertificateAndKey;
    /** Kubernetes aggregator (front-proxy) CA (ECDSA P-256, empty subject, 10 years). */
    readonly k8sAggregator: CertificateAndKey;
    /** Kubernetes service-account signing key (RSA 4096, PKCS#1). */
    readonly k8sServiceAccount: { readonly key: string };
    /** Talos OS CA (Ed25519, O=talos, 10 years): signs apid certificates and talosconfig client certificates. */
    readonly os: CertificateAndKey;
  };
}

/** Options for {@link generateSecrets}. */
export interface GenerateSecretsOptions {
  /**
   * The Talos version the bundle is for. Talos before 1.14 encodes the cluster id with the URL-safe
   * base64 alphabet, 1.14 and later with the standard one. Defaults to the newest supported line.
   */
  target?: string;
  /** The issue time of the CAs (defaults to now). */
  now?: Date;
}

/** Validity of every CA Talos generates: 87600 h (10 years). */
export const CA_VALIDITY_HOURS = 87_600;

const TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

function token(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return out;
}

/** A token in the `[a-z0-9]{6}.[a-z0-9]{16}` form Talos uses for the bootstrap and trustd tokens. */
function genToken(): string {
  return `${token(6)}.${token(16)}`;
}

function newCA(algorithm: "ed25519" | "ecdsa-p256", organizations: string[], now: Date): CertificateAndKey {
  const key = generatePrivateKeyPem(algorithm);
  const crt = issueCertificate(key, {
    subject: { organizations },
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_VALIDITY_HOURS * 3_600_000),
    isCA: true,
    keyUsage: ["digitalSignature", "keyCertSign"],
    extKeyUsage: ["serverAuth", "clientAuth"],
  });
  return { crt, key };
}

/**
 * Wraps the parts of a bundle so that none of them prints its content.
 *
 * @internal
 */
export function sealSecretsBundle(bundle: SecretsBundle): SecretsBundle {
  const secrets: SecretsBundle["secrets"] = { ...bundle.secrets };
  return redacting(
    {
      cluster: redacting({ ...bundle.cluster }, "cluster identity"),
      secrets: redacting(secrets, "secrets"),
      trustdInfo: redacting({ ...bundle.trustdInfo }, "trustd token"),
      certs: redacting(
        {
          etcd: redacting({ ...bundle.certs.etcd }, "etcd CA"),
          k8s: redacting({ ...bundle.certs.k8s }, "Kubernetes CA"),
          k8sAggregator: redacting({ ...bundle.certs.k8sAggregator }, "aggregator CA"),
          k8sServiceAccount: redacting({ ...bundle.certs.k8sServiceAccount }, "service-account key"),
          os: redacting({ ...bundle.certs.os }, "OS CA"),
        },
        "certificates",
      ),
    },
    "secrets bundle",
  );
}

/**
 * Generates a cluster's secrets bundle as `talosctl gen secrets` does: cluster id and secret, bootstrap
 * token, secretbox encryption key, trustd token, the OS CA (Ed25519), the Kubernetes, aggregator and etcd
 * CAs (ECDSA P-256), all valid 10 years, and the service-account key (RSA 4096). Keys come from
 * `node:crypto`. Takes about a second (the RSA key).
 *
 * @example
 * ```ts
 * const secrets = generateSecrets();
 * const yaml = secretsToYaml(secrets); // write it 0600
 * ```
 * @throws TalosConfigError `UNSUPPORTED_VERSION` for a `target` outside v1.11..v1.15.
 */
export function generateSecrets(options: GenerateSecretsOptions = {}): SecretsBundle {
  const minor = options.target === undefined ? 15 : parseTalosVersion(options.target).minor;
  const now = options.now ?? new Date();
  if (Number.isNaN(now.getTime())) {
    throw new TalosConfigError("INVALID_INPUT", "now: not a valid date", { details: { field: "now" } });
  }
  const clusterId = randomBytes(32).toString(minor >= 14 ? "base64" : "base64url");
  return sealSecretsBundle({
    cluster: {
      id: minor >= 14 ? clusterId : `${clusterId}=`,
      secret: randomBytes(32).toString("base64"),
    },
    secrets: {
      bootstrapToken: genToken(),
      secretboxEncryptionSecret: randomBytes(32).toString("base64"),
    },
    trustdInfo: { token: genToken() },
    certs: {
      etcd: newCA("ecdsa-p256", ["etcd"], now),
      k8s: newCA("ecdsa-p256", ["kubernetes"], now),
      k8sAggregator: newCA("ecdsa-p256", [], now),
      k8sServiceAccount: { key: generatePrivateKeyPem("rsa-4096") },
      os: newCA("ed25519", ["talos"], now),
    },
  });
}
