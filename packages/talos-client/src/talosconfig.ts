import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { parse } from "yaml";
import { TalosClientError } from "./errors.js";
import { decodePemValue } from "./internal/pem.js";

/** One talosconfig context. `ca`, `crt`, `key` are kept as written (base64 of PEM); `key` never prints. */
export interface TalosconfigContext {
  endpoints: string[];
  nodes: string[];
  /** base64 of the PEM OS CA certificate. */
  ca?: string;
  /** base64 of the PEM client certificate. */
  crt?: string;
  /** base64 of the PEM client key (secret: hidden from inspect/toJSON). */
  key?: string;
  cluster?: string;
  /** Authentication kinds under `auth` (`basic`, `siderov1` for Omni): not supported by this client. */
  auth?: string[];
}

/** A parsed talosconfig. */
export interface Talosconfig {
  /** The current context name. */
  context: string | undefined;
  contexts: Record<string, TalosconfigContext>;
}

/** PEM material resolved from a context, ready for TLS. */
export interface ResolvedCredentials {
  /** Absent when the context has no `ca`: the system roots verify the server then. */
  ca?: string;
  cert: string;
  key: string;
}

function strings(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new TalosClientError("INVALID_TALOSCONFIG", `${field} must be a list of strings`, {
      details: { path: field },
    });
  }
  return value as string[];
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new TalosClientError("INVALID_TALOSCONFIG", `${field} must be a string`, {
      details: { path: field },
    });
  }
  return value;
}

function hideKey(context: TalosconfigContext): TalosconfigContext {
  const redacted = (): Record<string, unknown> => ({
    ...context,
    ...(context.key ? { key: "<redacted>" } : {}),
  });
  Object.defineProperty(context, "toJSON", { value: redacted, enumerable: false });
  Object.defineProperty(context, inspect.custom, {
    value: (_depth: number, options: object) => inspect(redacted(), options),
    enumerable: false,
  });
  return context;
}

function normalize(raw: unknown): Talosconfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new TalosClientError("INVALID_TALOSCONFIG", "a talosconfig must be a mapping");
  }
  const doc = raw as Record<string, unknown>;
  const contextsRaw = doc.contexts ?? {};
  if (contextsRaw === null || typeof contextsRaw !== "object" || Array.isArray(contextsRaw)) {
    throw new TalosClientError("INVALID_TALOSCONFIG", "contexts must be a mapping", {
      details: { path: "contexts" },
    });
  }
  const contexts: Record<string, TalosconfigContext> = {};
  for (const [name, value] of Object.entries(contextsRaw as Record<string, unknown>)) {
    const c = (value ?? {}) as Record<string, unknown>;
    const path = `contexts.${name}`;
    const endpoints = strings(c.endpoints, `${path}.endpoints`);
    const target = optionalString(c.target, `${path}.target`);
    if (target !== undefined && !endpoints.includes(target)) endpoints.push(target);
    const context: TalosconfigContext = { endpoints, nodes: strings(c.nodes, `${path}.nodes`) };
    const ca = optionalString(c.ca, `${path}.ca`);
    const crt = optionalString(c.crt, `${path}.crt`);
    const key = optionalString(c.key, `${path}.key`);
    const cluster = optionalString(c.cluster, `${path}.cluster`);
    if (ca !== undefined) context.ca = ca;
    if (crt !== undefined) context.crt = crt;
    if (key !== undefined) context.key = key;
    if (cluster !== undefined) context.cluster = cluster;
    if (c.auth !== undefined && c.auth !== null) {
      if (typeof c.auth !== "object" || Array.isArray(c.auth)) {
        throw new TalosClientError("INVALID_TALOSCONFIG", `${path}.auth must be a mapping`, {
          details: { path: `${path}.auth` },
        });
      }
      context.auth = Object.keys(c.auth);
    }
    contexts[name] = hideKey(context);
  }
  const context = optionalString(doc.context, "context");
  return { context, contexts };
}

/**
 * Parses talosconfig YAML text.
 * @throws TalosClientError `INVALID_TALOSCONFIG`
 */
export function parseTalosconfig(yamlText: string): Talosconfig {
  let raw: unknown;
  try {
    raw = parse(yamlText);
  } catch (error) {
    // The YAML error quotes the offending line, which may hold key material: keep only its position.
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new TalosClientError(
      "INVALID_TALOSCONFIG",
      `the talosconfig is not valid YAML${line === undefined ? "" : ` (line ${line})`}`,
      { details: line === undefined ? {} : { line } },
    );
  }
  return normalize(raw);
}

/**
 * Loads a talosconfig from a file path, YAML text, or an already parsed object.
 * @throws TalosClientError `INVALID_TALOSCONFIG`
 */
export async function loadTalosconfig(source: string | object): Promise<Talosconfig> {
  if (typeof source !== "string") return normalize(source);
  if (/^\s*(context|contexts)\s*:/m.test(source)) return parseTalosconfig(source);
  let text: string;
  try {
    text = await readFile(source, "utf8");
  } catch (cause) {
    throw new TalosClientError("INVALID_TALOSCONFIG", "the talosconfig file cannot be read", {
      cause,
      details: { path: source },
    });
  }
  return parseTalosconfig(text);
}

/**
 * Picks a context (the named one, else the current one, else the only one).
 * @throws TalosClientError `INVALID_TALOSCONFIG`
 */
export function selectContext(
  config: Talosconfig,
  name?: string,
): { name: string; context: TalosconfigContext } {
  const names = Object.keys(config.contexts);
  const chosen = name ?? config.context ?? (names.length === 1 ? names[0] : undefined);
  if (chosen === undefined) {
    throw new TalosClientError("INVALID_TALOSCONFIG", "no context selected and the talosconfig has several", {
      details: { contexts: names },
    });
  }
  const context = config.contexts[chosen];
  if (context === undefined) {
    throw new TalosClientError("INVALID_TALOSCONFIG", `context "${chosen}" is not in the talosconfig`, {
      details: { context: chosen, contexts: names },
    });
  }
  return { name: chosen, context };
}

/**
 * Decodes the base64 PEM material of a context; `ca` is optional (system roots), as in talosctl.
 * @throws TalosClientError `INVALID_TALOSCONFIG` when crt or key is missing (naming an unsupported
 *   `auth` kind when that is why) or anything is undecodable
 */
export function resolveCredentials(
  context: TalosconfigContext,
  contextName = "context",
): ResolvedCredentials {
  if ((context.crt === undefined || context.key === undefined) && (context.auth ?? []).length > 0) {
    const kinds = (context.auth ?? []).map((k) => (k === "siderov1" ? "siderov1 (Omni)" : k)).join(", ");
    throw new TalosClientError(
      "INVALID_TALOSCONFIG",
      `contexts.${contextName}.auth uses ${kinds}, which talos-client does not support: use a context with crt and key`,
      { details: { path: `contexts.${contextName}.auth`, auth: context.auth } },
    );
  }
  const decode = (field: "ca" | "crt" | "key"): string => {
    const value = context[field];
    if (value === undefined) {
      throw new TalosClientError("INVALID_TALOSCONFIG", `contexts.${contextName}.${field} is missing`, {
        details: { path: `contexts.${contextName}.${field}` },
      });
    }
    try {
      return decodePemValue(value);
    } catch (cause) {
      throw new TalosClientError(
        "INVALID_TALOSCONFIG",
        `contexts.${contextName}.${field} is not base64 PEM`,
        {
          cause,
          details: { path: `contexts.${contextName}.${field}` },
        },
      );
    }
  };
  const cert = decode("crt");
  const key = decode("key");
  return context.ca === undefined ? { cert, key } : { ca: decode("ca"), cert, key };
}

/** Where talosctl looks for its talosconfig; pass the environment and home directory (this package reads neither). */
export interface FindTalosconfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  homedir: string;
}

/**
 * The talosconfig path talosctl would use: `$TALOSCONFIG` (even if missing: naming it is a choice),
 * else the first existing of `$TALOS_HOME/config`, `~/.talos/config` and the in-pod
 * `/var/run/secrets/talos.dev/config`; undefined when there is none.
 */
export async function findTalosconfig(options: FindTalosconfigOptions): Promise<string | undefined> {
  const explicit = options.env.TALOSCONFIG;
  if (explicit !== undefined && explicit !== "") return explicit;
  const home = options.env.TALOS_HOME;
  const candidates = [
    ...(home !== undefined && home !== "" ? [join(home, "config")] : []),
    join(options.homedir, ".talos", "config"),
    "/var/run/secrets/talos.dev/config",
  ];
  for (const path of candidates) {
    try {
      await access(path);
      return path;
    } catch {
      // next candidate
    }
  }
  return undefined;
}
