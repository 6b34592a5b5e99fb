import { isMap, isScalar, type Pair, parseAllDocuments, stringify } from "yaml";
import { TalosConfigError } from "./errors.js";
import { type ConfigDocument, documentKind, documentLabel } from "./model/document.js";

/** Options for {@link stringifyDocuments}. */
export interface StringifyDocumentsOptions {
  /** Replace secret values (tokens, keys, auth keys) with {@link REDACTED}. Default false. */
  redact?: boolean;
  /** Start each document with a `#` comment naming it and what it configures. Default false. */
  comments?: boolean;
}

/** The placeholder that replaces a secret value in redacted output. */
export const REDACTED = "<redacted>";

const KEY_PRIORITY = [
  "version",
  "apiVersion",
  "kind",
  "name",
  "interface",
  "deviceSelector",
  "vlanId",
  "debug",
  "machine",
  "cluster",
];

function keyRank(key: string): number {
  if (key === "$patch") return KEY_PRIORITY.length + 1;
  const index = KEY_PRIORITY.indexOf(key);
  return index < 0 ? KEY_PRIORITY.length : index;
}

/** Stable key order: header and identity keys first, `$patch` last, everything else alphabetical. */
export function compareKeys(a: string, b: string): number {
  const ra = keyRank(a);
  const rb = keyRank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

const KIND_DESCRIPTIONS: Record<string, string> = {
  v1alpha1: "machine and cluster settings (legacy document)",
  HostnameConfig: "the node's hostname",
  LinkConfig: "addresses, routes and MTU of a link",
  LinkAliasConfig: "a stable alias for the link a selector matches",
  DHCPv4Config: "DHCPv4 on a link",
  DHCPv6Config: "DHCPv6 on a link",
  VLANConfig: "a VLAN link",
  Layer2VIPConfig: "a shared virtual IP announced over layer 2",
  ResolverConfig: "DNS nameservers and search domains",
  TimeSyncConfig: "NTP time servers",
  StaticHostConfig: "a static /etc/hosts entry",
  ExtensionServiceConfig: "environment and files of a system extension service",
  KubeletConfig: "kubelet settings",
  KubeNodeConfig: "the Kubernetes node: node IP, labels, taints",
  KubeClusterConfig: "cluster name and control-plane endpoint",
  KubeAPIServerConfig: "kube-apiserver settings",
  KubeNetworkConfig: "pod and service subnets",
  KubeFlannelCNIConfig: "the flannel CNI",
  KubeInlineManifestConfig: "a manifest applied at bootstrap",
  KubeExternalManifestConfig: "a manifest fetched from a URL at bootstrap",
  UnattendedInstallConfig: "installation disk and installer image",
};

/**
 * Serializes documents as multi-document YAML with a stable key order (the same documents always give
 * the same text, whatever the key insertion order).
 */
export function stringifyDocuments(
  docs: readonly ConfigDocument[],
  options: StringifyDocumentsOptions = {},
): string {
  const source = options.redact ? redactDocuments(docs) : docs;
  return source
    .map((doc) => {
      // YAML 1.1 quoting keeps strings such as "off" or "yes" strings for Go's yaml.v3 too.
      const body = stringify(doc, {
        version: "1.1",
        indent: 2,
        lineWidth: 0,
        minContentWidth: 0,
        sortMapEntries: (a: Pair, b: Pair) => compareKeys(String(a.key), String(b.key)),
        // A value shared between two places is written out twice, never as an anchor and alias.
        aliasDuplicateObjects: false,
      });
      if (!options.comments) return body;
      const kind = documentKind(doc);
      const what = KIND_DESCRIPTIONS[kind];
      return `# ${documentLabel(doc)}${what === undefined ? "" : `: ${what}`}\n${body}`;
    })
    .join("---\n");
}

/**
 * Parses multi-document YAML into documents (empty documents are skipped).
 *
 * @throws TalosConfigError `PARSE_ERROR` naming the document index and line (never the text itself).
 */
export function parseDocuments(yamlText: string): ConfigDocument[] {
  if (typeof yamlText !== "string") {
    throw new TalosConfigError("PARSE_ERROR", "yamlText: must be a string", {
      details: { field: "yamlText" },
    });
  }
  const parsed = parseAllDocuments(yamlText, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(parsed)) {
    return [];
  }
  const docs: ConfigDocument[] = [];
  parsed.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      throw new TalosConfigError(
        "PARSE_ERROR",
        `document ${index}: invalid YAML${line === undefined ? "" : ` at line ${line}`} (${error.code})`,
        { details: { document: index, ...(line === undefined ? {} : { line }) } },
      );
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    if (!isMap(doc.contents)) {
      throw new TalosConfigError("PARSE_ERROR", `document ${index}: a config document must be a mapping`, {
        details: { document: index },
      });
    }
    docs.push(doc.toJS({ maxAliasCount: 100 }) as ConfigDocument);
  });
  return docs;
}

const SECRET_KEYS = new Set([
  "token",
  "secret",
  "key",
  "privateKey",
  "password",
  "aescbcEncryptionSecret",
  "secretboxEncryptionSecret",
  "bootstrapToken",
  "clusterSecret",
  "identityToken",
  "apiToken",
  "uniqueToken",
  "presharedKey",
  "passphrase",
  "auth",
]);
const SECRET_ENV = /(TOKEN|AUTHKEY|AUTH_KEY|SECRET|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|API_KEY|ACCESS_KEY)/i;

/**
 * True when the value at `path` (keys from the document root) is a secret: tokens, private keys,
 * encryption secrets, passwords, authorization headers. (Environment entries: {@link isSecretEnvironmentEntry}.)
 */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  const last = path[path.length - 1];
  if (typeof last !== "string") return false;
  return SECRET_KEYS.has(last) || /^(authorization|proxy-authorization|x-api-key|cookie)$/i.test(last);
}

/** True for an environment entry (`KEY=value`) whose variable name looks secret (TOKEN, AUTHKEY, SECRET…). */
export function isSecretEnvironmentEntry(entry: string): boolean {
  const eq = entry.indexOf("=");
  return eq > 0 && SECRET_ENV.test(entry.slice(0, eq));
}

/**
 * A deep copy of `value` (found at `path` from the document root) with every secret value replaced by
 * {@link REDACTED}.
 *
 * @internal
 */
export function redactValue(value: unknown, path: readonly (string | number)[]): unknown {
  if (isSecretPath(path) && (typeof value === "string" || typeof value === "number")) return REDACTED;
  if (Array.isArray(value)) {
    const inEnvironment = path[path.length - 1] === "environment";
    return value.map((item, i) =>
      inEnvironment && typeof item === "string" && isSecretEnvironmentEntry(item)
        ? `${item.slice(0, item.indexOf("="))}=${REDACTED}`
        : redactValue(item, [...path, i]),
    );
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactValue(item, [...path, key]);
    return out;
  }
  return value;
}

/** A deep copy of `docs` with every secret value replaced by {@link REDACTED}. The input is not modified. */
export function redactDocuments(docs: readonly ConfigDocument[]): ConfigDocument[] {
  return docs.map((doc) => redactValue(doc, []) as ConfigDocument);
}
