import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { inspect } from "node:util";
import { describe, it } from "vitest";
import { parse } from "yaml";
import { generateSecrets, type SecretsBundle, secretsFromYaml, secretsToYaml } from "../src/index.js";
import { CA_VALIDITY_HOURS } from "../src/secrets/secrets-bundle.js";
import { keyUsageOf, lifetimeHours } from "./helpers/certificates.js";
import { failure } from "./helpers/errors.js";

const now = new Date("2026-11-24T12:00:00Z");
const bundle = generateSecrets({ now });

function relabel(pem: string): string {
  return pem.replaceAll("ED25519 PRIVATE KEY", "PRIVATE KEY");
}

function secretStrings(b: SecretsBundle): string[] {
  return [
    b.cluster.secret,
    b.secrets.bootstrapToken,
    b.secrets.secretboxEncryptionSecret as string,
    b.trustdInfo.token,
    b.certs.os.key,
    b.certs.k8s.key,
    b.certs.etcd.key,
    b.certs.k8sAggregator.key,
    b.certs.k8sServiceAccount.key,
  ];
}

const CAS = [
  ["os", "O=talos", "ed25519"],
  ["k8s", "O=kubernetes", "ec"],
  ["etcd", "O=etcd", "ec"],
  ["k8sAggregator", "", "ec"],
] as const;

describe("generateSecrets", () => {
  it("creates tokens and random secrets in Talos' formats", ({ expect }) => {
    expect(bundle.secrets.bootstrapToken).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(bundle.trustdInfo.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(Buffer.from(bundle.cluster.id, "base64")).toHaveLength(32);
    expect(bundle.cluster.id).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(bundle.cluster.secret, "base64")).toHaveLength(32);
    expect(Buffer.from(bundle.secrets.secretboxEncryptionSecret as string, "base64")).toHaveLength(32);
    expect(bundle.secrets.aescbcEncryptionSecret).toBeUndefined();
    expect(new Set(secretStrings(bundle)).size).toBe(secretStrings(bundle).length);
  });

  it("encodes the cluster id URL-safe for targets before 1.14", ({ expect }) => {
    const old = generateSecrets({ target: "v1.13.9" });
    expect(old.cluster.id).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(old.cluster.id, "base64url")).toHaveLength(32);
  });

  it.for(CAS)(
    "issues the %s CA self-signed with the key type, usages and 10-year validity of Talos",
    ([name, subject, keyType], { expect }) => {
      const pair = bundle.certs[name];
      const cert = new X509Certificate(pair.crt);
      expect(cert.ca).toBe(true);
      expect(cert.subject ?? "").toBe(subject);
      expect(cert.issuer ?? "").toBe(subject);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(cert.checkIssued(cert)).toBe(true);
      expect(cert.publicKey.asymmetricKeyType).toBe(keyType);
      if (keyType === "ec") expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
      expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
      expect(keyUsageOf(pair.crt)).toEqual({ usages: ["digitalSignature", "keyCertSign"], critical: true });
      expect(new Date(cert.validFrom).getTime()).toBe(Math.floor(now.getTime() / 1000) * 1000);
      expect(lifetimeHours(cert)).toBe(CA_VALIDITY_HOURS);
      const key = createPrivateKey(relabel(pair.key));
      expect(createPublicKey(key).export({ format: "pem", type: "spki" })).toBe(
        cert.publicKey.export({ format: "pem", type: "spki" }),
      );
    },
  );

  it("writes private keys in the PEM encodings Talos uses", ({ expect }) => {
    expect(bundle.certs.os.key).toMatch(/^-----BEGIN ED25519 PRIVATE KEY-----\n/);
    expect(bundle.certs.k8s.key).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(bundle.certs.k8sServiceAccount.key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const serviceAccount = createPrivateKey(bundle.certs.k8sServiceAccount.key);
    expect(serviceAccount.asymmetricKeyType).toBe("rsa");
    expect(serviceAccount.asymmetricKeyDetails?.modulusLength).toBe(4096);
  });

  it("redacts every printable form of the bundle and its parts", ({ expect }) => {
    const printed = [
      String(bundle),
      `${bundle.certs}`,
      JSON.stringify(bundle),
      JSON.stringify({ wrapped: bundle }),
      JSON.stringify(bundle.certs.os),
      inspect(bundle, { depth: 10 }),
      inspect(bundle.certs, { depth: 10 }),
      inspect(bundle.certs.os),
      inspect(bundle.secrets),
      inspect(bundle.cluster),
      inspect(bundle.trustdInfo),
      inspect({ nested: bundle }, { depth: 10 }),
    ].join("\n");
    for (const secret of secretStrings(bundle)) expect(printed).not.toContain(secret);
    expect(printed).not.toContain("PRIVATE KEY");
    expect(String(bundle)).toBe("[redacted secrets bundle]");
  });

  it("is frozen", ({ expect }) => {
    expect(Object.isFrozen(bundle)).toBe(true);
    expect(Object.isFrozen(bundle.certs.os)).toBe(true);
  });

  it("throws UNSUPPORTED_VERSION naming target for an unknown version", ({ expect }) => {
    expect(failure(() => generateSecrets({ target: "v2.0.0" }))).toMatchObject({
      code: "UNSUPPORTED_VERSION",
      field: "target",
    });
  });
});

describe("secretsToYaml", () => {
  it("writes the talosctl secrets.yaml layout with base64 PEM blocks", ({ expect }) => {
    const text = secretsToYaml(bundle);
    const raw = parse(text) as Record<string, Record<string, Record<string, string>>>;
    expect(Object.keys(raw)).toEqual(["cluster", "secrets", "trustdinfo", "certs"]);
    expect(Object.keys(raw.cluster as object)).toEqual(["id", "secret"]);
    expect(Object.keys(raw.secrets as object)).toEqual(["bootstraptoken", "secretboxencryptionsecret"]);
    expect(Object.keys(raw.certs as object)).toEqual([
      "etcd",
      "k8s",
      "k8saggregator",
      "k8sserviceaccount",
      "os",
    ]);
    expect(Object.keys(raw.certs?.k8sserviceaccount as object)).toEqual(["key"]);
    expect(Buffer.from(String(raw.certs?.os?.crt), "base64").toString()).toBe(bundle.certs.os.crt);
    expect(Buffer.from(String(raw.certs?.os?.key), "base64").toString()).toBe(bundle.certs.os.key);
    expect(text).toMatch(/^cluster:\n {4}id: /);
    expect(text).toContain(`\n    bootstraptoken: ${bundle.secrets.bootstrapToken}\n`);
  });
});

describe("secretsFromYaml", () => {
  it("round-trips a bundle through secrets.yaml", ({ expect }) => {
    const text = secretsToYaml(bundle);
    const read = secretsFromYaml(text);
    expect(secretsToYaml(read)).toBe(text);
    expect(read.certs.os.key).toBe(bundle.certs.os.key);
    expect(read.certs.k8sServiceAccount.key).toBe(bundle.certs.k8sServiceAccount.key);
    expect(String(read)).toBe("[redacted secrets bundle]");
  });

  it("reads an AES-CBC key from a bundle made for old Talos", ({ expect }) => {
    const text = secretsToYaml(bundle).replace("secretboxencryptionsecret:", "aescbcencryptionsecret:");
    const read = secretsFromYaml(text);
    expect(read.secrets.aescbcEncryptionSecret).toBe(bundle.secrets.secretboxEncryptionSecret);
    expect(read.secrets.secretboxEncryptionSecret).toBeUndefined();
  });

  it.for([
    ["certs.os.key", (t: string) => t.replace(/(\n {4}os:\n {8}crt: .*\n {8}key: ).*/, "$1bm90IGEga2V5")],
    ["certs.etcd", (t: string) => t.replace(/\n {4}etcd:\n( {8}.*\n){2}/, "\n")],
    ["secrets.bootstraptoken", (t: string) => t.replace(/bootstraptoken: .*/, "bootstraptoken: nope")],
    ["cluster", (t: string) => t.replace(/^cluster:\n( {4}.*\n){2}/, "")],
  ] as const)(
    "throws INVALID_INPUT naming %s when it is missing or malformed",
    ([field, corrupt], { expect }) => {
      const error = failure(() => secretsFromYaml(corrupt(secretsToYaml(bundle))));
      expect(error).toMatchObject({ code: "INVALID_INPUT", field });
      for (const secret of secretStrings(bundle)) expect(error.message).not.toContain(secret);
    },
  );

  it("throws PARSE_ERROR for text that is not YAML", ({ expect }) => {
    expect(failure(() => secretsFromYaml("cluster: [unclosed")).code).toBe("PARSE_ERROR");
  });
});
