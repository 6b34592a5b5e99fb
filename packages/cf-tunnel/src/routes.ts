import { domainToASCII } from "node:url";
import { CfTunnelError } from "./errors.js";
import type {
  AccessRequirements,
  DesiredRoute,
  DesiredState,
  IngressRule,
  OriginRequest,
  OriginRequestInput,
  RouteInput,
} from "./types.js";

/** The catch-all rule appended after every route. */
export const CATCH_ALL_RULE: IngressRule = { service: "http_status:404" };

const URL_SCHEMES = new Set(["http", "https", "ws", "wss", "tcp", "ssh", "rdp", "smb"]);
const NAMED_SERVICES = new Set(["hello_world", "hello-world", "bastion", "socks-proxy"]);
const DURATION_KEYS = ["connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout"] as const;
const BOOLEAN_KEYS = [
  "noHappyEyeballs",
  "matchSNItoHost",
  "noTLSVerify",
  "disableChunkedEncoding",
  "http2Origin",
] as const;
const STRING_KEYS = ["httpHostHeader", "originServerName", "caPool"] as const;
const ORIGIN_KEYS = new Set<string>([
  ...DURATION_KEYS,
  ...BOOLEAN_KEYS,
  ...STRING_KEYS,
  "keepAliveConnections",
  "proxyType",
  "access",
]);
const ROUTE_KEYS = new Set(["hostname", "service", "path", "originRequest", "public", "access", "adopt"]);
const ACCESS_KEYS = new Set(["emails", "emailDomains", "groups", "serviceTokens", "sessionDuration"]);
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function invalid(field: string, message: string): never {
  throw new CfTunnelError("INVALID_ROUTE", `${field}: ${message}`, { details: { field } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Lower-cases, strips a trailing dot and converts to punycode; `undefined` when not a DNS name. */
function normaliseDnsName(raw: string): string | undefined {
  const trimmed = raw.trim().toLowerCase().replace(/\.$/, "");
  if (trimmed === "") return undefined;
  const ascii = domainToASCII(trimmed);
  if (ascii === "" || ascii.length > 253) return undefined;
  return ascii.split(".").every((label) => LABEL.test(label)) ? ascii : undefined;
}

function validateHostname(raw: unknown, field: string, zone: string): string {
  if (typeof raw !== "string" || raw.trim() === "") invalid(field, "a hostname is required");
  const value = raw.trim();
  if (/[/?#@\s]/.test(value)) invalid(field, `"${value}" is not a hostname (no scheme, path or spaces)`);
  if (value.includes(":")) invalid(field, `hostname cannot contain a port ("${value}")`);
  if (value === "*") invalid(field, `"*" would match every hostname; the catch-all rule is added for you`);
  const stars = value.split("*").length - 1;
  if (stars > 1 || (stars === 1 && !value.startsWith("*."))) {
    invalid(field, `hostname patterns can have at most one wildcard, as a leading "*." ("${value}")`);
  }
  const wildcard = value.startsWith("*.");
  const ascii = normaliseDnsName(wildcard ? value.slice(2) : value);
  if (ascii === undefined) invalid(field, `"${value}" is not a valid DNS name`);
  if (ascii !== zone && !ascii.endsWith(`.${zone}`)) {
    invalid(field, `"${value}" is outside the zone ${zone}`);
  }
  return wildcard ? `*.${ascii}` : ascii;
}

function validateService(raw: unknown, field: string): string {
  if (typeof raw !== "string" || raw.trim() === "") invalid(field, "a service is required");
  const value = raw.trim();
  if (value.startsWith("http_status:")) {
    const code = value.slice("http_status:".length);
    if (!/^\d{3}$/.test(code) || Number(code) < 100 || Number(code) > 999) {
      invalid(field, `"${value}" must be http_status:NNN with 100 <= NNN <= 999`);
    }
    return value;
  }
  if (NAMED_SERVICES.has(value)) return value;
  if (value.startsWith("unix:") || value.startsWith("unix+tls:")) {
    const socket = value.slice(value.indexOf(":") + 1);
    if (!socket.startsWith("/")) invalid(field, `"${value}" must name an absolute socket path`);
    return value;
  }
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(value);
  if (!match) invalid(field, `"${value}" must be a URL with a scheme and a host (e.g. http://svc.ns:80)`);
  const [, scheme = "", host = "", rest = ""] = match;
  if (!URL_SCHEMES.has(scheme.toLowerCase())) {
    invalid(field, `scheme "${scheme}" is not supported (use ${[...URL_SCHEMES].join(", ")})`);
  }
  if (host === "" || host.startsWith(":")) invalid(field, `"${value}" has no host`);
  if (rest !== "") {
    invalid(
      field,
      `"${value}" has a path; ingress rules don't support proxying to a different path on the origin service`,
    );
  }
  return `${scheme.toLowerCase()}://${host}`;
}

function parseDuration(raw: unknown, field: string): number {
  if (typeof raw === "number") {
    if (!Number.isInteger(raw) || raw < 0) invalid(field, `must be a whole, non-negative number of seconds`);
    return raw;
  }
  if (typeof raw !== "string") invalid(field, 'must be seconds (a number) or a duration such as "30s"');
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(raw.trim());
  if (!parts || raw.trim() === "") invalid(field, `"${raw}" is not a duration such as "30s", "2m" or "1h"`);
  const seconds = Number(parts[1] ?? 0) * 3600 + Number(parts[2] ?? 0) * 60 + Number(parts[3] ?? 0);
  if (!Number.isInteger(seconds))
    invalid(field, `"${raw}" is not whole seconds (cloudflared rejects fractions)`);
  return seconds;
}

function validateOriginRequest(raw: unknown, field: string): OriginRequest | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) invalid(field, "must be an object");
  const input = raw as OriginRequestInput & Record<string, unknown>;
  const out: OriginRequest = {};
  for (const key of Object.keys(input)) {
    if (!ORIGIN_KEYS.has(key)) invalid(`${field}.${key}`, "is not a cloudflared origin option");
  }
  for (const key of DURATION_KEYS) {
    if (input[key] !== undefined) out[key] = parseDuration(input[key], `${field}.${key}`);
  }
  for (const key of BOOLEAN_KEYS) {
    if (input[key] !== undefined) {
      if (typeof input[key] !== "boolean") invalid(`${field}.${key}`, "must be a boolean");
      out[key] = input[key];
    }
  }
  for (const key of STRING_KEYS) {
    if (input[key] !== undefined) {
      if (typeof input[key] !== "string" || input[key] === "") invalid(`${field}.${key}`, "must be a string");
      out[key] = input[key];
    }
  }
  if (input.keepAliveConnections !== undefined) {
    const n = input.keepAliveConnections;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      invalid(`${field}.keepAliveConnections`, "must be a whole, non-negative number");
    }
    out.keepAliveConnections = n;
  }
  if (input.proxyType !== undefined) {
    if (input.proxyType !== "" && input.proxyType !== "socks")
      invalid(`${field}.proxyType`, 'must be "" or "socks"');
    out.proxyType = input.proxyType;
  }
  if (input.access !== undefined) {
    const a = input.access as unknown;
    if (!isRecord(a)) invalid(`${field}.access`, "must be an object");
    const audTag = a.audTag;
    if (
      !Array.isArray(audTag) ||
      audTag.length === 0 ||
      !audTag.every((t) => typeof t === "string" && t !== "")
    ) {
      invalid(`${field}.access.audTag`, "must list at least one audience tag");
    }
    if (typeof a.teamName !== "string" || a.teamName === "") {
      invalid(`${field}.access.teamName`, "must be set when audTag is set");
    }
    if (a.required !== undefined && typeof a.required !== "boolean") {
      invalid(`${field}.access.required`, "must be a boolean");
    }
    out.access = {
      audTag: [...audTag],
      teamName: a.teamName,
      ...(a.required === undefined ? {} : { required: a.required }),
    };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function stringList(raw: unknown, field: string, check: (v: string) => boolean, what: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) invalid(field, "must be a list");
  const out: string[] = [];
  raw.forEach((v, i) => {
    if (typeof v !== "string" || !check(v.trim())) invalid(`${field}[${i}]`, `"${String(v)}" is not ${what}`);
    out.push(v.trim().toLowerCase());
  });
  return [...new Set(out)].sort();
}

function validateAccess(raw: unknown, field: string): AccessRequirements {
  if (!isRecord(raw)) invalid(field, "must be an object");
  for (const key of Object.keys(raw)) {
    if (!ACCESS_KEYS.has(key)) invalid(`${field}.${key}`, "is not an Access option");
  }
  const access: AccessRequirements = {
    emails: stringList(
      raw.emails,
      `${field}.emails`,
      (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v),
      "an email",
    ),
    emailDomains: stringList(
      raw.emailDomains,
      `${field}.emailDomains`,
      (v) => normaliseDnsName(v) !== undefined,
      "a domain",
    ),
    groups: stringList(raw.groups, `${field}.groups`, (v) => v !== "", "a group id"),
    serviceTokens: stringList(
      raw.serviceTokens,
      `${field}.serviceTokens`,
      (v) => v !== "",
      "a service token id",
    ),
    sessionDuration: "24h",
  };
  if (raw.sessionDuration !== undefined) {
    if (
      typeof raw.sessionDuration !== "string" ||
      !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(raw.sessionDuration)
    ) {
      invalid(`${field}.sessionDuration`, 'must be a duration such as "24h" or "30m"');
    }
    access.sessionDuration = raw.sessionDuration;
  }
  return access;
}

/** Sort key: exact hostnames before wildcards, more specific wildcards first, then alphabetical. */
export function compareRules(
  a: { hostname?: string; path?: string },
  b: { hostname?: string; path?: string },
): number {
  const ha = a.hostname ?? "";
  const hb = b.hostname ?? "";
  const wa = ha.startsWith("*.");
  const wb = hb.startsWith("*.");
  if (wa !== wb) return wa ? 1 : -1;
  if (wa && wb) {
    const la = ha.split(".").length;
    const lb = hb.split(".").length;
    if (la !== lb) return lb - la;
  }
  if (ha !== hb) return ha < hb ? -1 : 1;
  const pa = a.path ?? "";
  const pb = b.path ?? "";
  if (pa.length !== pb.length) return pb.length - pa.length;
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** The ingress rule of one validated route. */
export function ruleOf(route: DesiredRoute): IngressRule {
  const rule: IngressRule = { hostname: route.hostname, service: route.service };
  if (route.path !== undefined) rule.path = route.path;
  if (route.originRequest !== undefined) rule.originRequest = route.originRequest;
  return rule;
}

/**
 * Validates routes as cloudflared applies them and builds the desired state: one ingress rule per hostname in a
 * deterministic order (exact before wildcard), the `http_status:404` catch-all last. Every route must either be
 * protected by Access (`access`) or say `public: true`.
 *
 * @throws CfTunnelError `INVALID_ROUTE` naming `routes[i].field` (bad hostname, port, wildcard, scheme, service
 *   path, duration, duplicate, outside the zone); `UNPROTECTED_ROUTE` for a route with neither `access` nor
 *   `public: true`.
 */
export function validateRoutes(options: { zone: string; routes: RouteInput[] }): DesiredState {
  const zone = typeof options.zone === "string" ? normaliseDnsName(options.zone) : undefined;
  if (zone === undefined) invalid("zone", `"${String(options.zone)}" is not a valid zone name`);
  if (!Array.isArray(options.routes)) invalid("routes", "must be a list");
  const seen = new Map<string, number>();
  const routes: DesiredRoute[] = options.routes.map((input, index) => {
    const field = `routes[${index}]`;
    if (!isRecord(input)) invalid(field, "must be an object");
    for (const key of Object.keys(input)) {
      if (!ROUTE_KEYS.has(key)) invalid(`${field}.${key}`, "is not a route option");
    }
    const hostname = validateHostname(input.hostname, `${field}.hostname`, zone);
    const previous = seen.get(hostname);
    if (previous !== undefined) {
      invalid(`${field}.hostname`, `duplicates routes[${previous}].hostname (${hostname})`);
    }
    seen.set(hostname, index);
    const service = validateService(input.service, `${field}.service`);
    const route: DesiredRoute = { hostname, service, public: false, adopt: false, index };
    if (input.path !== undefined) {
      if (typeof input.path !== "string" || input.path === "")
        invalid(`${field}.path`, "must be a non-empty regex");
      if (/\(\?<?[=!]|\\[1-9]/.test(input.path)) {
        invalid(
          `${field}.path`,
          `"${input.path}" uses lookaround or backreferences, which Go's RE2 (cloudflared) rejects`,
        );
      }
      try {
        new RegExp(input.path);
      } catch {
        invalid(`${field}.path`, `"${input.path}" is not a valid regular expression`);
      }
      route.path = input.path;
    }
    const origin = validateOriginRequest(input.originRequest, `${field}.originRequest`);
    if (origin !== undefined) route.originRequest = origin;
    if (input.adopt !== undefined) {
      if (typeof input.adopt !== "boolean") invalid(`${field}.adopt`, "must be a boolean");
      route.adopt = input.adopt;
    }
    if (input.public !== undefined && typeof input.public !== "boolean")
      invalid(`${field}.public`, "must be a boolean");
    if (input.public === true) {
      if (input.access !== undefined)
        invalid(`${field}.access`, "a public route cannot also have access rules");
      route.public = true;
    } else {
      if (input.access === undefined) {
        throw new CfTunnelError(
          "UNPROTECTED_ROUTE",
          `${field}.access: ${hostname} has no Access rules; add access (emails, emailDomains, groups, serviceTokens) or set public: true`,
          { details: { field: `${field}.access`, hostname } },
        );
      }
      const access = validateAccess(input.access, `${field}.access`);
      if (
        access.emails.length +
          access.emailDomains.length +
          access.groups.length +
          access.serviceTokens.length ===
        0
      ) {
        throw new CfTunnelError(
          "UNPROTECTED_ROUTE",
          `${field}.access: ${hostname} lists nobody who may reach it; name emails, emailDomains, groups or serviceTokens`,
          { details: { field: `${field}.access`, hostname } },
        );
      }
      route.access = access;
    }
    return route;
  });
  routes.sort(compareRules);
  return { zone, routes, ingress: [...routes.map(ruleOf), { ...CATCH_ALL_RULE }] };
}
