/** How one error code is presented: exit code, a short human message, an optional hint. */
export interface ErrorPresentation {
  exit: number;
  message: string;
  hint?: string;
  /** The hint for commands that lack an option `hint` names. */
  hintWithoutOptions?: string;
}

/** Names of the error classes the CLI knows, to the short source name shown to users. */
export const ERROR_SOURCES: Record<string, string> = {
  HomelabError: "homelab",
  TalosClientError: "talos-client",
  TalosConfigError: "talos-config",
  CfTunnelError: "cf-tunnel",
  ArgoBootstrapError: "argo-bootstrap",
  TofuError: "tofu",
  SopsError: "sops",
};

/**
 * The one table from `<source>:<code>` to exit code and message. Anything not listed is
 * presented as an internal error with a report-a-bug hint.
 */
export const ERROR_TABLE: Record<string, ErrorPresentation> = {
  "homelab:USAGE": { exit: 2, message: "invalid usage", hint: "see --help" },
  "homelab:CONFIG_NOT_FOUND": { exit: 1, message: "configuration file not found" },
  "homelab:CONFIG_UNREADABLE": { exit: 1, message: "the configuration file cannot be read" },
  "homelab:CONFIG_INVALID": { exit: 1, message: "invalid homelab.yaml" },
  "homelab:SECRET_UNRESOLVED": { exit: 1, message: "a secret reference cannot be resolved" },
  "homelab:MISSING_CREDENTIALS": { exit: 1, message: "credentials are missing" },
  "homelab:NEEDS_CONFIRMATION": {
    exit: 2,
    message: "confirmation needed",
    hint: "stdin is not a terminal: pass --yes to proceed",
  },
  "homelab:STATE_INVALID": { exit: 1, message: "the state directory is inconsistent" },
  "homelab:FILE_EXISTS": { exit: 1, message: "file exists" },
  "homelab:COMMAND_FAILED": { exit: 1, message: "command failed" },
  "homelab:INTERRUPTED": { exit: 130, message: "interrupted" },
  "homelab:NODE_UNVERIFIED": {
    exit: 1,
    message: "a node's identity could not be verified; its machine config was not sent",
  },
  "homelab:UNREACHABLE": { exit: 1, message: "a node does not answer" },
  "homelab:UNSAFE_ENDPOINT": { exit: 1, message: "an API endpoint override was refused" },
  "homelab:LOCKED": { exit: 1, message: "another homelab command holds the state directory" },
  "homelab:BACKUP_INVALID": {
    exit: 1,
    message: "the backup is incomplete or was changed",
    hint: "nothing was changed on the cluster",
  },

  "sops:INVALID_INPUT": { exit: 1, message: "the file cannot be parsed", hint: "nothing was written" },
  "sops:METADATA_NOT_FOUND": { exit: 1, message: "the file is not SOPS-encrypted" },
  "sops:ALREADY_ENCRYPTED": { exit: 1, message: "the file is already SOPS-encrypted" },
  "sops:NO_MATCHING_KEY": {
    exit: 1,
    message: "no age identity can decrypt the file",
    hint: "set SOPS_AGE_KEY_FILE to a keys file holding one of the listed recipients' identities",
  },
  "sops:DECRYPTION_FAILED": { exit: 1, message: "a value does not decrypt (tampered or corrupted)" },
  "sops:MAC_MISMATCH": {
    exit: 1,
    message: "the file's MAC does not match its values (tampered or corrupted)",
    hint: "restore the file from Git history",
  },
  "sops:INVALID_KEY": { exit: 1, message: "not a valid age key" },
  "sops:INVALID_OPTIONS": { exit: 1, message: "unsupported SOPS file or options" },

  "talos-client:INVALID_ARGUMENT": { exit: 1, message: "the Talos API rejected an argument" },
  "talos-client:INVALID_TALOSCONFIG": {
    exit: 1,
    message: "the talosconfig is invalid",
    hint: "check --talosconfig, $TALOSCONFIG or ~/.talos/config",
  },
  "talos-client:UNAVAILABLE": {
    exit: 1,
    message: "cannot reach the Talos API",
    hint: "check --endpoints and that the node is powered on (port 50000)",
    hintWithoutOptions: "check that the node is powered on and that port 50000 is reachable from here",
  },
  "talos-client:DEADLINE_EXCEEDED": { exit: 1, message: "the Talos API did not answer in time" },
  "talos-client:CANCELLED": { exit: 130, message: "interrupted" },
  "talos-client:UNAUTHENTICATED": {
    exit: 1,
    message: "the Talos API rejected the client certificate",
    hint: "a node in maintenance mode needs --insecure; a configured node needs its talosconfig",
    hintWithoutOptions:
      "the node is not configured with this cluster's CA: check the talosconfig in the state directory",
  },
  "talos-client:PERMISSION_DENIED": {
    exit: 1,
    message: "the Talos API denied the call",
    hint: "this call needs the os:admin role (maintenance mode only allows a few calls)",
  },
  "talos-client:NOT_FOUND": { exit: 1, message: "not found on the node" },
  "talos-client:ALREADY_EXISTS": { exit: 1, message: "already exists on the node" },
  "talos-client:FAILED_PRECONDITION": { exit: 1, message: "the node is not in a state that allows this" },
  "talos-client:UNIMPLEMENTED": { exit: 1, message: "the node does not implement this call" },
  "talos-client:RESOURCE_EXHAUSTED": {
    exit: 1,
    message: "the Talos API is out of resources or the message is too large",
  },
  "talos-client:ABORTED": { exit: 1, message: "the node aborted the call (a conflicting operation); retry" },
  "talos-client:UNKNOWN": { exit: 1, message: "the node returned an unknown error" },
  "talos-client:TLS_ERROR": {
    exit: 1,
    message: "TLS handshake with the Talos API failed",
    hint: "the talosconfig may belong to another cluster, or the node is in maintenance mode (--insecure)",
    hintWithoutOptions: "the talosconfig may belong to another cluster, or the node is in maintenance mode",
  },
  "talos-client:NODE_ERROR": { exit: 1, message: "a node returned an error" },
  "talos-client:HEALTH_TIMEOUT": { exit: 1, message: "the cluster did not become healthy in time" },

  "talos-config:INVALID_INPUT": { exit: 1, message: "cannot build the Talos configuration" },
  "talos-config:UNSUPPORTED_VERSION": {
    exit: 1,
    message: "unsupported Talos version",
    hint: "supported lines: v1.11 to v1.15",
  },
  "talos-config:INVALID_CIDR": { exit: 1, message: "invalid CIDR in the Talos configuration" },
  "talos-config:INVALID_PATCH": { exit: 1, message: "invalid Talos config patch" },
  "talos-config:INVALID_CONFIG": {
    exit: 1,
    message: "Talos would refuse the rendered configuration",
    hint: "check the patches in homelab.yaml against the Talos version's documents and fields",
  },
  "talos-config:PARSE_ERROR": { exit: 1, message: "cannot parse the Talos configuration" },
  "talos-config:UNKNOWN_EXTENSION": { exit: 1, message: "unknown system extension" },

  "cf-tunnel:INVALID_ROUTE": { exit: 1, message: "invalid tunnel route" },
  "cf-tunnel:UNPROTECTED_ROUTE": {
    exit: 1,
    message: "a tunnel route has no Access policy",
    hint: "add 'access' to the route, or 'public: true' to publish it on purpose",
  },
  "cf-tunnel:CONFLICT": {
    exit: 1,
    message: "a Cloudflare resource exists and is not ours",
    hint: "set 'adopt: true' on the route to take it over",
  },
  "cf-tunnel:UNAUTHORIZED": {
    exit: 1,
    message: "Cloudflare rejected the API token",
    hint: "the token needs Cloudflare Tunnel:Edit, DNS:Edit and Access: Apps and Policies:Edit",
  },
  "cf-tunnel:NOT_FOUND": { exit: 1, message: "Cloudflare resource not found" },
  "cf-tunnel:RATE_LIMITED": {
    exit: 1,
    message: "Cloudflare rate limit reached",
    hint: "wait a minute and retry",
  },
  "cf-tunnel:API_ERROR": { exit: 1, message: "the Cloudflare API returned an error" },
  "cf-tunnel:ABORTED": { exit: 130, message: "interrupted" },

  "tofu:TOFU_NOT_FOUND": {
    exit: 1,
    message: "neither tofu nor terraform was found",
    hint: "install OpenTofu, set HOMELAB_TOFU_BIN, or use --engine direct",
  },
  "tofu:TOFU_FAILED": { exit: 1, message: "tofu failed" },
  "tofu:TOFU_INTERRUPTED": { exit: 130, message: "interrupted" },
  "tofu:TOFU_BAD_OUTPUT": { exit: 1, message: "tofu printed something unexpected" },
  "tofu:INFRA_PARSE_ERROR": { exit: 1, message: "cannot read infrastructure/" },
  "tofu:INVALID_TFVARS_INPUT": { exit: 1, message: "cannot render the tofu variables" },

  "argo-bootstrap:INVALID_MANIFEST": { exit: 1, message: "invalid Kubernetes manifest" },
  "argo-bootstrap:POLICY_VIOLATION": { exit: 1, message: "a manifest violates the Argo CD policy" },
  "argo-bootstrap:HELM_NOT_FOUND": {
    exit: 1,
    message: "helm is not installed",
    hint: "install helm 3.x or 4.x and make sure it is on PATH",
  },
  "argo-bootstrap:HELM_FAILED": { exit: 1, message: "helm failed" },
  "argo-bootstrap:HELM_TIMEOUT": { exit: 1, message: "helm timed out" },
  "argo-bootstrap:ROLLOUT_FAILED": { exit: 1, message: "an Argo CD workload failed to roll out" },
  "argo-bootstrap:SYNC_FAILED": { exit: 1, message: "the root application failed to sync" },
  "argo-bootstrap:INVALID_OPTIONS": { exit: 1, message: "invalid Argo CD settings" },
  "argo-bootstrap:ABORTED": { exit: 130, message: "interrupted" },
  "argo-bootstrap:ROLLOUT_TIMEOUT": { exit: 1, message: "Argo CD did not roll out in time" },
  "argo-bootstrap:SYNC_TIMEOUT": { exit: 1, message: "the root application did not sync in time" },
  "argo-bootstrap:APP_DEGRADED": { exit: 1, message: "the root application is degraded" },
  "argo-bootstrap:KUBE_API_ERROR": { exit: 1, message: "the Kubernetes API returned an error" },
  "argo-bootstrap:NOT_FOUND": { exit: 1, message: "Kubernetes object not found" },
};

const BUG_HINT =
  "this is a bug in homelab: please report it with the command you ran and `homelab --version`";

/** The presentation of an error: known codes from the table, everything else internal. */
export interface PresentedError {
  source: string;
  code: string;
  exit: number;
  /** Headline from the table plus the error's own (secret-free) text. */
  message: string;
  hint?: string;
  issues?: unknown[];
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** What the presentation knows about the command that failed. */
export interface PresentContext {
  /** The options the command accepts (`--name`): a hint never names another. */
  options?: readonly string[];
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "DNS lookup failed",
};

/**
 * The library's text without transport internals: grpc-js spells errors as `14 UNAVAILABLE: No
 * connection established. Last error: connect ECONNREFUSED …`; users get "connection refused".
 */
export function cleanTransportText(raw: string): string {
  const grpc = /^\d+ [A-Z_]+: (.*)$/s.exec(raw)?.[1];
  const text = grpc ?? raw;
  const errno = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)\b/.exec(
    text,
  )?.[1];
  if (errno) return SOCKET_ERRORS[errno] as string;
  if (grpc === undefined) return raw;
  if (/No connection established|Connection dropped|connection (closed|reset)/i.test(text))
    return "no connection";
  if (/Deadline exceeded/i.test(text)) return "no answer in time";
  return text.split(". Last error:")[0]?.trim() || text;
}

/** The socket-level reason somewhere in an error's cause chain (e.g. ECONNREFUSED), in words. */
function socketReason(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e !== null && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && SOCKET_ERRORS[code]) return SOCKET_ERRORS[code];
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function hintFor(
  entry: ErrorPresentation,
  own: string | undefined,
  context: PresentContext,
): string | undefined {
  const hint = own ?? entry.hint;
  if (hint === undefined || context.options === undefined) return hint;
  const named = hint.match(/--[a-z][a-z-]*/g) ?? [];
  if (named.every((o) => context.options?.includes(o))) return hint;
  return own === undefined ? entry.hintWithoutOptions : undefined;
}

/** Maps any thrown value to exit code, code and message through {@link ERROR_TABLE}. */
export function presentError(
  error: unknown,
  interrupted: boolean,
  context: PresentContext = {},
): PresentedError {
  if (interrupted || isAbort(error)) {
    return { source: "homelab", code: "INTERRUPTED", exit: 130, message: "interrupted" };
  }
  const e = error as {
    name?: unknown;
    code?: unknown;
    rawMessage?: unknown;
    message?: unknown;
    hint?: unknown;
    issues?: unknown;
  };
  const source = typeof e?.name === "string" ? ERROR_SOURCES[e.name] : undefined;
  if (source && typeof e.code === "string") {
    const entry = ERROR_TABLE[`${source}:${e.code}`];
    const raw = typeof e.rawMessage === "string" ? e.rawMessage : String(e.message ?? "");
    if (entry) {
      let message = raw === "" || raw === entry.message ? entry.message : raw;
      if (source === "talos-client") {
        // never grpc-js's own words: the table's, the node, and what the socket said
        const node = (error as { details?: { node?: unknown } }).details?.node;
        const why = cleanTransportText(raw);
        message = `${entry.message}${typeof node === "string" ? ` (${node})` : ""}${why && why !== entry.message ? `: ${why}` : ""}`;
      }
      const socket = source === "talos-client" ? undefined : socketReason(error);
      if (socket && !message.includes(socket)) message = `${message} (${socket})`;
      const presented: PresentedError = { source, code: e.code, exit: entry.exit, message };
      const hint = hintFor(entry, typeof e.hint === "string" ? e.hint : undefined, context);
      if (hint) presented.hint = hint;
      if (Array.isArray(e.issues) && e.issues.length > 0) presented.issues = e.issues;
      return presented;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    source: source ?? "homelab",
    code: "INTERNAL",
    exit: 1,
    message: `internal error: ${message}`,
    hint: BUG_HINT,
  };
}
