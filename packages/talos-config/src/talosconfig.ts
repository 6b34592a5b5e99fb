import { stringify } from "yaml";
import { fail } from "./builders/util.js";
import type { SecretsBundle } from "./secrets/secrets-bundle.js";
import { generatePrivateKeyPem, issueCertificate, pemBase64 } from "./secrets/x509.js";

/** The roles apid knows. */
export const TALOS_ROLES: readonly string[] = Object.freeze([
  "os:admin",
  "os:operator",
  "os:reader",
  "os:etcd:backup",
  "os:image:verifier",
  "os:meta:writer",
  "os:impersonator",
]);

/** Options for {@link generateTalosconfig}. */
export interface GenerateTalosconfigOptions {
  /** The bundle whose OS CA signs the client certificate. */
  secrets: SecretsBundle;
  /** Name of the talosconfig context (usually the cluster name). */
  contextName: string;
  /** apid endpoints (control-plane addresses): host, host:port or URL. */
  endpoints: readonly string[];
  /** Default target nodes (optional). */
  nodes?: readonly string[];
  /** Roles carried as the certificate's organisations; default `["os:admin"]`. */
  roles?: readonly string[];
  /** Certificate lifetime in hours; default 8760 (one year, as talosctl). */
  ttlHours?: number;
  /** Issue time (defaults to now). */
  now?: Date;
}

/**
 * Issues a client certificate (Ed25519, organisation = each role, key usage digital signature, extended
 * key usage client auth only, as apid requires) signed by the bundle's OS CA, and returns a talosconfig
 * (YAML) with one context holding it. The text is secret: write it with mode 0600.
 *
 * @throws TalosConfigError `INVALID_INPUT` naming the field (`contextName`, `endpoints`, `roles`, `ttlHours`, `secrets`).
 */
export function generateTalosconfig(options: GenerateTalosconfigOptions): string {
  if (typeof options.contextName !== "string" || options.contextName.trim() === "") {
    fail("contextName", "must not be empty");
  }
  if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) {
    fail("endpoints", "needs at least one endpoint");
  }
  for (const [i, endpoint] of options.endpoints.entries()) {
    if (typeof endpoint !== "string" || endpoint.trim() === "") fail(`endpoints[${i}]`, "must not be empty");
  }
  const roles = options.roles ?? ["os:admin"];
  if (roles.length === 0) fail("roles", "needs at least one role");
  for (const [i, role] of roles.entries()) {
    if (!TALOS_ROLES.includes(role))
      fail(`roles[${i}]`, `unknown role "${role}" (known: ${TALOS_ROLES.join(", ")})`);
  }
  const ttlHours = options.ttlHours ?? 8760;
  if (!Number.isFinite(ttlHours) || ttlHours <= 0) fail("ttlHours", "must be a positive number of hours");
  const os = options.secrets?.certs?.os;
  if (os?.crt === undefined || os.key === undefined || os.key === "") {
    fail("secrets", "has no OS CA key (a worker-only bundle cannot sign client certificates)");
  }
  const now = options.now ?? new Date();
  const key = generatePrivateKeyPem("ed25519");
  const crt = issueCertificate(
    key,
    {
      subject: { organizations: [...roles] },
      notBefore: now,
      notAfter: new Date(now.getTime() + ttlHours * 3_600_000),
      isCA: false,
      keyUsage: ["digitalSignature"],
      extKeyUsage: ["clientAuth"],
    },
    { certificatePem: os.crt, privateKeyPem: os.key },
  );
  const context: Record<string, unknown> = { endpoints: [...options.endpoints] };
  if (options.nodes !== undefined && options.nodes.length > 0) context.nodes = [...options.nodes];
  context.ca = pemBase64(os.crt);
  context.crt = pemBase64(crt);
  context.key = pemBase64(key);
  return stringify(
    { context: options.contextName, contexts: { [options.contextName]: context } },
    { indent: 4, lineWidth: 0 },
  );
}
