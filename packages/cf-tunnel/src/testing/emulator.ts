import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { CloudflareErrorCode } from "./codes.js";

/** One Cloudflare zone held by the emulator. */
export interface EmulatedZone {
  id: string;
  name: string;
  status: "active";
}

/** One cloudflared connector (a running `cloudflared` process) registered on a tunnel. */
export interface EmulatedConnector {
  id: string;
  originIp: string;
  version: string;
  arch: string;
  runAt: string;
  colos: string[];
  /** The tunnel secret the connector authenticated with (absent: registered without a token). */
  secret?: string;
}

/** One tunnel held by the emulator. */
export interface EmulatedTunnel {
  id: string;
  name: string;
  configSrc: "local" | "cloudflare";
  createdAt: string;
  deletedAt: string | null;
  /** Base64 tunnel secret; the token embeds it. */
  secret: string;
  config: { ingress?: unknown[]; originRequest?: Record<string, unknown> } | null;
  configVersion: number;
  connectors: EmulatedConnector[];
}

/** One DNS record held by the emulator. */
export interface EmulatedDnsRecord {
  id: string;
  zoneId: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  ttl: number;
  comment: string | null;
  tags: string[];
  createdOn: string;
  modifiedOn: string;
}

/** One Access application held by the emulator. */
export interface EmulatedAccessApp {
  id: string;
  aud: string;
  name: string;
  domain: string;
  type: string;
  sessionDuration: string;
  policies: { id: string; precedence: number }[];
  extra: Record<string, unknown>;
  /** Set for a zone-scoped application (`/zones/{zone_id}/access/apps`). */
  zoneId?: string;
  createdAt: string;
  updatedAt: string;
}

/** One reusable Access policy held by the emulator. */
export interface EmulatedAccessPolicy {
  id: string;
  name: string;
  decision: string;
  include: unknown[];
  exclude: unknown[];
  require: unknown[];
  sessionDuration: string;
  createdAt: string;
  updatedAt: string;
}

/** A fault injected into matching requests. */
export interface FaultRule {
  /** Operation name as logged (for example `dns.batch`, `tunnels.create`), or a pattern over it. */
  operation?: string | RegExp;
  /** HTTP method to match. */
  method?: string;
  /** Status to answer with (429, 500, 502, 503, 401, 403...). Omit for latency only. */
  status?: number;
  /** `Retry-After` seconds sent with the fault (defaults to 0 for 429). */
  retryAfter?: number;
  /** Delay before answering, in milliseconds. */
  latencyMs?: number;
  /** How many matching requests the rule affects (default 1; `Infinity` for all). */
  times?: number;
  /** Perform the request first, then answer with the fault status (a lost response). */
  afterCommit?: boolean;
}

/** One exchange seen by the emulator. */
export interface RequestLogEntry {
  seq: number;
  method: string;
  /** Path below `/client/v4`, without the query. */
  path: string;
  query: string;
  operation: string;
  status: number;
  requestBody: unknown;
  responseBody: unknown;
  /** The fault applied, if any. */
  fault?: "status" | "afterCommit" | "latency";
}

/** Options for the Cloudflare emulator. */
export interface CloudflareEmulatorOptions {
  /** The account id the emulator serves (default a fixed 32-hex id). */
  accountId?: string;
  /** Zones to serve. */
  zones?: { name: string; id?: string }[];
  /** Largest DNS batch accepted (default 200, the Free plan's limit). */
  batchLimit?: number;
  /** Largest comment length accepted (default 100, the Free plan's limit). */
  commentLimit?: number;
  /** Caps `per_page` on every list (to exercise pagination with few records). */
  maxPerPage?: number;
  /** Restores a model saved with {@link EmulatorState.snapshot} (zones in it replace `zones`). */
  snapshot?: EmulatorSnapshot;
}

/** The whole model as JSON-safe data (it holds tunnel secrets: store it like a credential). */
export interface EmulatorSnapshot {
  version: 1;
  accountId: string;
  zones: EmulatedZone[];
  tunnels: EmulatedTunnel[];
  dnsRecords: EmulatedDnsRecord[];
  accessApps: EmulatedAccessApp[];
  accessPolicies: EmulatedAccessPolicy[];
}

/** Seed input for a DNS record created outside the library (a "foreign" record, for example). */
export interface SeedDnsRecord {
  zone: string;
  name: string;
  type: string;
  content: string;
  proxied?: boolean;
  ttl?: number;
  comment?: string | null;
}

/** Read access to, and seeding of, the emulator's model. */
export interface EmulatorState {
  readonly accountId: string;
  zones(): EmulatedZone[];
  tunnels(): EmulatedTunnel[];
  tunnel(idOrName: string): EmulatedTunnel | undefined;
  dnsRecords(zoneName?: string): EmulatedDnsRecord[];
  accessApps(): EmulatedAccessApp[];
  accessPolicies(): EmulatedAccessPolicy[];
  /** Adds a DNS record directly (no request logged). */
  seedDnsRecord(record: SeedDnsRecord): EmulatedDnsRecord;
  /** Adds a tunnel directly (no request logged). */
  seedTunnel(input: { name: string; configSrc?: "local" | "cloudflare"; deleted?: boolean }): EmulatedTunnel;
  /** A deep copy of the model, for persisting a simulated lab between processes. */
  snapshot(): EmulatorSnapshot;
}

/** The framework-free part of the emulator. */
export interface EmulatorCore {
  /** Serves one request (URL under `.../client/v4`). */
  handle(request: Request): Promise<Response>;
  readonly state: EmulatorState;
  readonly requestLog: RequestLogEntry[];
  /** Adds fault rules (applied in order). */
  faults(rules: FaultRule | FaultRule[]): void;
  /** Removes every fault rule. */
  clearFaults(): void;
  /**
   * Registers a fake connector on a tunnel (as `cloudflared tunnel run` would). With `token`, the
   * registration is refused (throws) unless the token names this tunnel and carries its current
   * secret: after a rotation, cloudflared cannot open new connections with the old token, while
   * connectors registered before it stay up until they restart or their connections are deleted.
   */
  addConnector(
    tunnelId: string,
    input: {
      id?: string;
      originIp: string;
      version?: string;
      arch?: string;
      colos?: string[];
      token?: string;
    },
  ): EmulatedConnector;
  /** Removes a connector from a tunnel. */
  removeConnector(tunnelId: string, connectorId: string): void;
}

interface ApiErrorItem {
  code: CloudflareErrorCode;
  message: string;
}

class HttpFailure extends Error {
  readonly status: number;
  readonly errors: ApiErrorItem[];
  readonly headers: Record<string, string>;
  constructor(status: number, errors: ApiErrorItem[], headers: Record<string, string> = {}) {
    super(errors.map((e) => e.message).join("; "));
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }
}

const DEFAULT_ACCOUNT = "0123456789abcdef0123456789abcdef";
const hex32 = (): string => randomBytes(16).toString("hex");
const now = (): string => new Date().toISOString();
const ADDRESS_TYPES = new Set(["A", "AAAA", "CNAME"]);

function fail(status: number, code: CloudflareErrorCode, message: string): never {
  throw new HttpFailure(status, [{ code, message }]);
}

function envelope(result: unknown, resultInfo?: Record<string, number>): Record<string, unknown> {
  const body: Record<string, unknown> = { success: true, errors: [], messages: [], result };
  if (resultInfo) body.result_info = resultInfo;
  return body;
}

function failure(errors: ApiErrorItem[]): Record<string, unknown> {
  return { success: false, errors, messages: [], result: null };
}

function paginateCapped<T>(items: T[], query: URLSearchParams, defaultPerPage: number, maxPerPage: number) {
  const page = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const requested = Number.parseInt(query.get("per_page") ?? String(defaultPerPage), 10) || defaultPerPage;
  const perPage = Math.min(Math.max(1, requested), maxPerPage);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return {
    slice,
    info: {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
      total_pages: Math.max(1, Math.ceil(items.length / perPage)),
    },
  };
}

function matchStringFilter(value: string | null, query: URLSearchParams, key: string): boolean {
  const v = (value ?? "").toLowerCase();
  const plain = query.get(key);
  if (plain !== null && v !== plain.toLowerCase()) return false;
  const exact = query.get(`${key}.exact`);
  if (exact !== null && v !== exact.toLowerCase()) return false;
  const contains = query.get(`${key}.contains`);
  if (contains !== null && !v.includes(contains.toLowerCase())) return false;
  const starts = query.get(`${key}.startswith`);
  if (starts !== null && !v.startsWith(starts.toLowerCase())) return false;
  const ends = query.get(`${key}.endswith`);
  if (ends !== null && !v.endsWith(ends.toLowerCase())) return false;
  if (query.has(`${key}.present`) && (value === null || value === "")) return false;
  if (query.has(`${key}.absent`) && value !== null && value !== "") return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Why cloudflared refuses an ingress `service`, or undefined when it accepts it: the rules of
 * cloudflare/cloudflared ingress/ingress.go validateIngress (unix sockets, http_status:100-999,
 * hello_world, socks-proxy and bastion are special; anything else must be a URL with a scheme and a
 * host, and no path at all, not even "/").
 */
export function serviceProblem(service: string): string | undefined {
  if (service.startsWith("unix:") || service.startsWith("unix+tls:")) return undefined;
  if (service.startsWith("http_status:")) {
    const text = service.slice("http_status:".length);
    const code = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isNaN(code)) return `${service}: invalid HTTP status code`;
    if (code < 100 || code > 999) return `invalid HTTP status code: ${code}`;
    return undefined;
  }
  if (["hello_world", "hello-world", "socks-proxy", "bastion"].includes(service)) return undefined;
  let url: URL;
  try {
    url = new URL(service);
  } catch {
    return `${service} is an invalid address, please make sure it has a scheme and a hostname`;
  }
  if (url.hostname === "") {
    return `${service} is an invalid address, please make sure it has a scheme and a hostname`;
  }
  // WHATWG URL turns an empty path into "/" for http(s): look at the text after the authority instead.
  const afterScheme = service.slice(url.protocol.length).replace(/^\/\//, "");
  const slash = afterScheme.search(/[/?#]/);
  const rest = slash === -1 ? "" : afterScheme.slice(slash);
  if (rest.startsWith("/")) {
    return `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service`;
  }
  return undefined;
}

/** The claims of a connector token (base64 JSON `{a, t, s}`, cloudflared `connection/connection.go`). */
function tokenClaims(token: string): { a?: unknown; t?: unknown; s?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function tunnelToken(accountId: string, tunnel: EmulatedTunnel): string {
  return Buffer.from(JSON.stringify({ a: accountId, t: tunnel.id, s: tunnel.secret })).toString("base64");
}

/** Builds the stateful model and its `handle(request)` core. */
export function createEmulatorCore(options: CloudflareEmulatorOptions = {}): EmulatorCore {
  const restored = options.snapshot;
  const accountId = restored?.accountId ?? options.accountId ?? DEFAULT_ACCOUNT;
  const perPageCap = options.maxPerPage ?? Number.POSITIVE_INFINITY;
  const paginate = <T>(items: T[], query: URLSearchParams, defaultPerPage: number, maxPerPage: number) =>
    paginateCapped(items, query, Math.min(defaultPerPage, perPageCap), Math.min(maxPerPage, perPageCap));
  const batchLimit = options.batchLimit ?? 200;
  const commentLimit = options.commentLimit ?? 100;
  const zones = new Map<string, EmulatedZone>();
  for (const z of options.zones ?? []) {
    const id = z.id ?? createHash("sha256").update(z.name).digest("hex").slice(0, 32);
    zones.set(id, { id, name: z.name.toLowerCase(), status: "active" });
  }
  const tunnels = new Map<string, EmulatedTunnel>();
  const records = new Map<string, EmulatedDnsRecord>();
  const apps = new Map<string, EmulatedAccessApp>();
  const policies = new Map<string, EmulatedAccessPolicy>();
  if (restored) {
    const copy = structuredClone(restored);
    zones.clear();
    for (const z of copy.zones) zones.set(z.id, z);
    for (const t of copy.tunnels) tunnels.set(t.id, t);
    for (const r of copy.dnsRecords) records.set(r.id, r);
    for (const a of copy.accessApps) apps.set(a.id, a);
    for (const p of copy.accessPolicies) policies.set(p.id, p);
  }
  const faultRules: (FaultRule & { remaining: number })[] = [];
  const requestLog: RequestLogEntry[] = [];
  let seq = 0;

  // ---- model helpers -------------------------------------------------------------------------

  function zoneById(id: string): EmulatedZone {
    const z = zones.get(id);
    if (!z) fail(404, 7003, `Could not route to /zones/${id}, perhaps your object identifier is invalid?`);
    return z;
  }

  function checkAccount(id: string): void {
    if (id !== accountId) fail(403, 10000, "Authentication error");
  }

  function liveTunnel(id: string): EmulatedTunnel {
    const t = tunnels.get(id);
    if (!t || t.deletedAt !== null) fail(404, 1003, "Tunnel not found");
    return t;
  }

  function newTunnel(name: string, configSrc: "local" | "cloudflare", secret?: string): EmulatedTunnel {
    const t: EmulatedTunnel = {
      id: randomUUID(),
      name,
      configSrc,
      createdAt: now(),
      deletedAt: null,
      secret: secret ?? randomBytes(32).toString("base64"),
      config: null,
      configVersion: 0,
      connectors: [],
    };
    tunnels.set(t.id, t);
    return t;
  }

  function tunnelJson(t: EmulatedTunnel): Record<string, unknown> {
    const active = t.connectors.length > 0;
    // The schema types these timestamps as strings (not nullable): absent rather than null.
    return {
      id: t.id,
      account_tag: accountId,
      created_at: t.createdAt,
      ...(t.deletedAt === null ? {} : { deleted_at: t.deletedAt }),
      name: t.name,
      connections: [],
      ...(active ? { conns_active_at: t.connectors[0]?.runAt } : { conns_inactive_at: t.createdAt }),
      tun_type: "cfd_tunnel",
      status: active ? "healthy" : "inactive",
      remote_config: t.configSrc === "cloudflare",
      config_src: t.configSrc,
      metadata: {},
    };
  }

  function recordJson(r: EmulatedDnsRecord): Record<string, unknown> {
    const zone = zones.get(r.zoneId);
    return {
      id: r.id,
      zone_id: r.zoneId,
      zone_name: zone?.name,
      name: r.name,
      type: r.type,
      content: r.content,
      proxiable: ADDRESS_TYPES.has(r.type),
      proxied: r.proxied,
      ttl: r.ttl,
      ...(r.comment === null ? {} : { comment: r.comment }),
      tags: r.tags,
      settings: {},
      meta: { auto_added: false, source: "primary" },
      created_on: r.createdOn,
      modified_on: r.modifiedOn,
      ...(r.comment === null ? {} : { comment_modified_on: r.modifiedOn }),
    };
  }

  function appJson(a: EmulatedAccessApp): Record<string, unknown> {
    return {
      ...a.extra,
      id: a.id,
      aud: a.aud,
      name: a.name,
      domain: a.domain,
      type: a.type,
      session_duration: a.sessionDuration,
      policies: a.policies.map((p) => {
        const pol = policies.get(p.id);
        return {
          id: p.id,
          precedence: p.precedence,
          name: pol?.name ?? "",
          decision: pol?.decision ?? "allow",
          include: pol?.include ?? [],
          exclude: pol?.exclude ?? [],
          require: pol?.require ?? [],
          created_at: pol?.createdAt ?? a.createdAt,
          updated_at: pol?.updatedAt ?? a.updatedAt,
        };
      }),
      created_at: a.createdAt,
      updated_at: a.updatedAt,
    };
  }

  function policyJson(p: EmulatedAccessPolicy): Record<string, unknown> {
    let appCount = 0;
    for (const a of apps.values()) if (a.policies.some((x) => x.id === p.id)) appCount++;
    return {
      id: p.id,
      name: p.name,
      decision: p.decision,
      include: p.include,
      exclude: p.exclude,
      require: p.require,
      session_duration: p.sessionDuration,
      app_count: appCount,
      reusable: true,
      created_at: p.createdAt,
      updated_at: p.updatedAt,
    };
  }

  // ---- DNS rules --------------------------------------------------------------------------------

  interface RecordInput {
    name: string;
    type: string;
    content: string;
    proxied: boolean;
    ttl: number;
    comment: string | null;
    tags: string[];
  }

  function normaliseName(zone: EmulatedZone, raw: unknown): string {
    if (typeof raw !== "string" || raw.length === 0) fail(400, 9005, "DNS name is invalid.");
    let name = raw.toLowerCase().replace(/\.$/, "");
    if (name === "@") name = zone.name;
    else if (name !== zone.name && !name.endsWith(`.${zone.name}`)) name = `${name}.${zone.name}`;
    if (!/^(\*\.)?([a-z0-9_]([a-z0-9-_]{0,61}[a-z0-9_])?\.)*[a-z0-9-]+$/.test(name) || name.length > 253) {
      fail(400, 9005, "DNS name is invalid.");
    }
    return name;
  }

  function recordInput(zone: EmulatedZone, body: unknown, base?: EmulatedDnsRecord): RecordInput {
    if (!isObject(body)) fail(400, 9207, "Request body is invalid.");
    const type = typeof body.type === "string" ? body.type.toUpperCase() : base?.type;
    if (!type) fail(400, 9004, "DNS record type is invalid or missing.");
    const name = body.name === undefined && base ? base.name : normaliseName(zone, body.name);
    const content = typeof body.content === "string" ? body.content : base?.content;
    if (content === undefined || content === "") fail(400, 9007, "Content for record is invalid.");
    if (type === "CNAME" && content.toLowerCase() === name) {
      fail(400, 9007, "Content for CNAME record is invalid: it must not match the record's name.");
    }
    const ttl = typeof body.ttl === "number" ? body.ttl : (base?.ttl ?? 1);
    if (ttl !== 1 && (ttl < 60 || ttl > 86400)) fail(400, 9021, "Invalid TTL. Must be between 60 and 86400.");
    const proxied = typeof body.proxied === "boolean" ? body.proxied : (base?.proxied ?? false);
    if (proxied && !ADDRESS_TYPES.has(type)) fail(400, 9004, `${type} records cannot be proxied.`);
    const comment =
      body.comment === undefined ? (base?.comment ?? null) : body.comment === "" ? null : body.comment;
    if (comment !== null && typeof comment !== "string") fail(400, 1004, "DNS Validation Error: comment");
    if (comment !== null && comment.length > commentLimit) {
      fail(400, 9100, `DNS record comment is too long: it has at most ${commentLimit} characters.`);
    }
    if (comment !== null && /[\r\n]/.test(comment)) fail(400, 9100, "DNS record comment is invalid.");
    const tags = Array.isArray(body.tags) ? (body.tags as string[]) : (base?.tags ?? []);
    if (tags.length > 0) fail(400, 9300, "DNS record tags are not available on this zone's plan.");
    return { name, type, content, proxied, ttl, comment, tags };
  }

  function checkConflicts(zoneId: string, input: RecordInput, ignore: Set<string>, pending: RecordInput[]) {
    const others = [...records.values()]
      .filter((r) => r.zoneId === zoneId && !ignore.has(r.id) && r.name === input.name)
      .map((r) => ({ type: r.type, content: r.content }))
      .concat(pending.filter((p) => p.name === input.name));
    // A CNAME stands alone at its name (RFC 1034 §3.6.2), and Cloudflare enforces it for every type:
    // 81053 for a CNAME beside an A/AAAA/CNAME, 81057 for a CNAME beside any other record, 81054 for
    // any record beside a CNAME (codes: shared/reviews/cloudflare-tofu.md, shared/facts/cloudflare.md).
    for (const o of others) {
      if (input.type === "CNAME" && ADDRESS_TYPES.has(o.type)) {
        fail(400, 81053, "An A, AAAA, or CNAME record with that host already exists.");
      }
      if (input.type === "CNAME") fail(400, 81057, "Record already exists.");
      if (o.type === "CNAME") fail(400, 81054, "A CNAME record with that host already exists.");
      if (o.type === input.type && o.content === input.content) {
        fail(400, 81058, "An identical record already exists.");
      }
    }
  }

  function storeRecord(zoneId: string, input: RecordInput, existing?: EmulatedDnsRecord): EmulatedDnsRecord {
    const stamp = now();
    const r: EmulatedDnsRecord = {
      id: existing?.id ?? hex32(),
      zoneId,
      ...input,
      createdOn: existing?.createdOn ?? stamp,
      modifiedOn: stamp,
    };
    records.set(r.id, r);
    return r;
  }

  function recordInZone(zoneId: string, id: string): EmulatedDnsRecord {
    const r = records.get(id);
    if (!r || r.zoneId !== zoneId) fail(404, 81044, "Record does not exist.");
    return r;
  }

  function batch(zone: EmulatedZone, body: unknown): Record<string, unknown> {
    if (!isObject(body)) fail(400, 9207, "Request body is invalid.");
    const list = (key: string): Record<string, unknown>[] => {
      const v = body[key];
      if (v === undefined) return [];
      if (!Array.isArray(v) || !v.every(isObject)) fail(400, 9207, `Request body is invalid: ${key}.`);
      return v;
    };
    const deletes = list("deletes");
    const patches = list("patches");
    const puts = list("puts");
    const posts = list("posts");
    const total = deletes.length + patches.length + puts.length + posts.length;
    if (total > batchLimit) fail(400, 81066, `Batch exceeds the limit of ${batchLimit} records.`);
    // One transaction: work on a copy and commit only when everything succeeded.
    const snapshot = new Map(records);
    try {
      const deleted = deletes.map((d) => {
        const r = recordInZone(zone.id, String(d.id));
        records.delete(r.id);
        return recordJson(r);
      });
      const patched = patches.map((p) => {
        const r = recordInZone(zone.id, String(p.id));
        const input = recordInput(zone, p, r);
        checkConflicts(zone.id, input, new Set([r.id]), []);
        return recordJson(storeRecord(zone.id, input, r));
      });
      const put = puts.map((p) => {
        const r = recordInZone(zone.id, String(p.id));
        const input = recordInput(zone, p);
        checkConflicts(zone.id, input, new Set([r.id]), []);
        return recordJson(storeRecord(zone.id, input, r));
      });
      const posted = posts.map((p) => {
        const input = recordInput(zone, p);
        checkConflicts(zone.id, input, new Set(), []);
        return recordJson(storeRecord(zone.id, input));
      });
      return { deletes: deleted, patches: patched, puts: put, posts: posted };
    } catch (error) {
      records.clear();
      for (const [k, v] of snapshot) records.set(k, v);
      throw error;
    }
  }

  // ---- Access rules -----------------------------------------------------------------------------

  /** Every `host[/path]` an application body covers, lower-cased, without a scheme. */
  function coveredEntries(body: Record<string, unknown>): string[] {
    const out = new Set<string>();
    const add = (value: unknown) => {
      if (typeof value === "string" && value !== "") out.add(value.toLowerCase().replace(/^https?:\/\//, ""));
    };
    add(body.domain);
    if (Array.isArray(body.self_hosted_domains)) for (const d of body.self_hosted_domains) add(d);
    if (Array.isArray(body.destinations)) {
      for (const d of body.destinations) {
        if (isObject(d) && (d.type === undefined || d.type === "public")) add(d.uri);
      }
    }
    return [...out];
  }

  function appInput(body: unknown, base?: EmulatedAccessApp) {
    if (!isObject(body)) fail(400, 12000, "access.api.error.invalid_request: body");
    const type = typeof body.type === "string" ? body.type : "self_hosted";
    const domain = typeof body.domain === "string" ? body.domain.toLowerCase() : "";
    if (type === "self_hosted" && domain === "") fail(400, 12000, "access.api.error.invalid_request: domain");
    const name = typeof body.name === "string" ? body.name : domain;
    const rawPolicies = body.policies;
    const linked: { id: string; precedence: number }[] = [];
    if (rawPolicies !== undefined) {
      if (!Array.isArray(rawPolicies)) fail(400, 12000, "access.api.error.invalid_request: policies");
      rawPolicies.forEach((p, i) => {
        const id = typeof p === "string" ? p : isObject(p) && typeof p.id === "string" ? p.id : undefined;
        if (id === undefined || !policies.has(id)) {
          fail(400, 12000, `access.api.error.invalid_request: policies[${i}] is not a reusable policy`);
        }
        const precedence = isObject(p) && typeof p.precedence === "number" ? p.precedence : i + 1;
        linked.push({ id, precedence });
      });
    }
    // A host (with its optional path) belongs to one application at most, whichever field names it:
    // Cloudflare answers 409 code 11010 (shared/reviews/cloudflare-tofu.md A1). The SDK's
    // ApplicationCreateParams types `domain`, `destinations` and the deprecated `self_hosted_domains`.
    const covered = coveredEntries({ ...body, domain });
    for (const other of apps.values()) {
      if (other.id === base?.id) continue;
      const taken = coveredEntries({ ...other.extra, domain: other.domain });
      const clash = covered.find((entry) => taken.includes(entry));
      if (clash !== undefined) {
        fail(
          409,
          11010,
          `access.api.error.application_already_exists: ${clash} is already used by an application`,
        );
      }
    }
    const {
      type: _t,
      domain: _d,
      name: _n,
      policies: _p,
      session_duration: sd,
      id: _i,
      aud: _a,
      ...extra
    } = body;
    return {
      type,
      domain,
      name,
      policies: linked,
      sessionDuration: typeof sd === "string" ? sd : "24h",
      extra,
    };
  }

  function policyInput(body: unknown) {
    if (!isObject(body)) fail(400, 12000, "access.api.error.invalid_request: body");
    const { name, decision, include } = body;
    if (typeof name !== "string" || name === "") fail(400, 12000, "access.api.error.invalid_request: name");
    if (typeof decision !== "string" || !["allow", "deny", "non_identity", "bypass"].includes(decision)) {
      fail(400, 12000, "access.api.error.invalid_request: decision");
    }
    if (!Array.isArray(include) || include.length === 0) {
      fail(400, 12000, "access.api.error.invalid_request: include must not be empty");
    }
    const sd = body.session_duration;
    return {
      name,
      decision,
      include,
      exclude: Array.isArray(body.exclude) ? body.exclude : [],
      require: Array.isArray(body.require) ? body.require : [],
      sessionDuration: typeof sd === "string" ? sd : "24h",
    };
  }

  // ---- routing ----------------------------------------------------------------------------------

  type Handler = (
    params: string[],
    query: URLSearchParams,
    body: unknown,
  ) => { status?: number; body: unknown; raw?: boolean };
  const routes: { method: string; pattern: RegExp; operation: string; handler: Handler }[] = [];
  const ID = "([^/]+)";
  const route = (method: string, path: string, operation: string, handler: Handler) => {
    routes.push({ method, pattern: new RegExp(`^${path.replaceAll(":id", ID)}$`), operation, handler });
  };

  route("GET", "/zones", "zones.list", (_p, q) => {
    const all = [...zones.values()].filter((z) => {
      const name = q.get("name");
      return name === null || z.name === name.toLowerCase();
    });
    const { slice, info } = paginate(all, q, 20, 50);
    return {
      body: envelope(
        slice.map((z) => ({
          id: z.id,
          name: z.name,
          status: z.status,
          account: { id: accountId, name: "homelab" },
          paused: false,
          type: "full",
          name_servers: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
          plan: { id: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", name: "Free Website" },
        })),
        info,
      ),
    };
  });

  route("GET", "/accounts/:id/cfd_tunnel", "tunnels.list", ([acct], q) => {
    checkAccount(acct!);
    const isDeleted = q.get("is_deleted");
    const all = [...tunnels.values()].filter((t) => {
      if (q.get("name") !== null && t.name !== q.get("name")) return false;
      if (q.get("uuid") !== null && t.id !== q.get("uuid")) return false;
      if (isDeleted === "true" && t.deletedAt === null) return false;
      if (isDeleted === "false" && t.deletedAt !== null) return false;
      const inc = q.get("include_prefix");
      if (inc !== null && !t.name.startsWith(inc)) return false;
      const exc = q.get("exclude_prefix");
      if (exc !== null && t.name.startsWith(exc)) return false;
      const status = q.get("status");
      if (status !== null && tunnelJson(t).status !== status) return false;
      return true;
    });
    const { slice, info } = paginate(all, q, 20, 1000);
    return { body: envelope(slice.map(tunnelJson), info) };
  });

  route("POST", "/accounts/:id/cfd_tunnel", "tunnels.create", ([acct], _q, body) => {
    checkAccount(acct!);
    if (!isObject(body) || typeof body.name !== "string" || body.name === "") {
      fail(400, 1001, "Tunnel name is required");
    }
    const name = body.name;
    for (const t of tunnels.values()) {
      if (t.name === name && t.deletedAt === null) {
        fail(409, 1013, "You already have a tunnel with this name. Choose a different name.");
      }
    }
    const configSrc = body.config_src === "cloudflare" ? "cloudflare" : "local";
    let secret: string | undefined;
    if (typeof body.tunnel_secret === "string") {
      if (Buffer.from(body.tunnel_secret, "base64").length < 32) {
        fail(400, 1002, "Tunnel secret must be at least 32 bytes, base64 encoded");
      }
      secret = body.tunnel_secret;
    }
    return { body: envelope(tunnelJson(newTunnel(name, configSrc, secret))) };
  });

  route("GET", "/accounts/:id/cfd_tunnel/:id", "tunnels.get", ([acct, id]) => {
    checkAccount(acct!);
    const t = tunnels.get(id!);
    if (!t) fail(404, 1003, "Tunnel not found");
    return { body: envelope(tunnelJson(t)) };
  });

  route("PATCH", "/accounts/:id/cfd_tunnel/:id", "tunnels.edit", ([acct, id], _q, body) => {
    checkAccount(acct!);
    const t = liveTunnel(id!);
    if (!isObject(body)) fail(400, 1001, "Request body is invalid");
    if (typeof body.name === "string" && body.name !== "") t.name = body.name;
    if (body.tunnel_secret !== undefined) {
      if (typeof body.tunnel_secret !== "string" || Buffer.from(body.tunnel_secret, "base64").length < 32) {
        fail(400, 1002, "Tunnel secret must be at least 32 bytes, base64 encoded");
      }
      t.secret = body.tunnel_secret;
    }
    return { body: envelope(tunnelJson(t)) };
  });

  route("DELETE", "/accounts/:id/cfd_tunnel/:id", "tunnels.delete", ([acct, id]) => {
    checkAccount(acct!);
    const t = liveTunnel(id!);
    if (t.connectors.length > 0) fail(400, 1022, "Cannot delete a tunnel with active connections");
    t.deletedAt = now();
    return { body: envelope(tunnelJson(t)) };
  });

  route("GET", "/accounts/:id/cfd_tunnel/:id/token", "tunnels.token", ([acct, id]) => {
    checkAccount(acct!);
    return { body: envelope(tunnelToken(accountId, liveTunnel(id!))) };
  });

  const configJson = (t: EmulatedTunnel) => ({
    tunnel_id: t.id,
    account_id: accountId,
    version: t.configVersion,
    source: t.configSrc,
    created_at: t.createdAt,
    config: t.config,
  });

  route("GET", "/accounts/:id/cfd_tunnel/:id/configurations", "tunnels.configurations.get", ([acct, id]) => {
    checkAccount(acct!);
    return { body: envelope(configJson(liveTunnel(id!))) };
  });

  route(
    "PUT",
    "/accounts/:id/cfd_tunnel/:id/configurations",
    "tunnels.configurations.update",
    ([acct, id], _q, body) => {
      checkAccount(acct!);
      const t = liveTunnel(id!);
      if (t.configSrc !== "cloudflare") {
        fail(
          400,
          1056,
          "Tunnel configuration can only be managed remotely for tunnels with config_src cloudflare",
        );
      }
      if (!isObject(body) || !isObject(body.config)) fail(400, 1055, "Invalid tunnel configuration: config");
      const ingress = body.config.ingress;
      if (ingress !== undefined) {
        if (!Array.isArray(ingress) || ingress.length === 0) {
          fail(400, 1055, "Invalid tunnel configuration: the config doesn't contain any ingress rules");
        }
        ingress.forEach((rule, i) => {
          if (!isObject(rule) || typeof rule.service !== "string") {
            fail(400, 1055, `Invalid tunnel configuration: ingress[${i}].service is required`);
          }
          const problem = serviceProblem(rule.service as string);
          if (problem !== undefined) fail(400, 1055, `Invalid tunnel configuration: ${problem}`);
          const host = typeof rule.hostname === "string" ? rule.hostname : "";
          const catchAll = (host === "" || host === "*") && (rule.path ?? "") === "";
          const last = i === ingress.length - 1;
          if (last && !catchAll) {
            fail(400, 1055, "Invalid tunnel configuration: the last ingress rule must match all URLs");
          }
          if (!last && catchAll) {
            fail(400, 1055, `Invalid tunnel configuration: rule #${i + 1} matches every hostname`);
          }
          if (host.includes(":"))
            fail(400, 1055, "Invalid tunnel configuration: hostname cannot contain a port");
          if (host.lastIndexOf("*") > 0) {
            fail(400, 1055, "Invalid tunnel configuration: hostname patterns can have at most one wildcard");
          }
        });
      }
      t.config = body.config as EmulatedTunnel["config"];
      t.configVersion += 1;
      return { body: envelope(configJson(t)) };
    },
  );

  route("GET", "/accounts/:id/cfd_tunnel/:id/connections", "tunnels.connections.get", ([acct, id]) => {
    checkAccount(acct!);
    const t = liveTunnel(id!);
    return {
      body: envelope(
        t.connectors.map((c) => ({
          id: c.id,
          arch: c.arch,
          version: c.version,
          run_at: c.runAt,
          config_version: t.configVersion,
          features: ["ha-origin", "serialized_headers"],
          conns: c.colos.map((colo, i) => ({
            id: randomUUID(),
            client_id: c.id,
            client_version: c.version,
            colo_name: colo,
            is_pending_reconnect: false,
            opened_at: c.runAt,
            origin_ip: c.originIp,
            uuid: `${c.id.slice(0, 34)}${String(i).padStart(2, "0")}`,
          })),
        })),
      ),
    };
  });

  route(
    "DELETE",
    "/accounts/:id/cfd_tunnel/:id/connections",
    "tunnels.connections.delete",
    ([acct, id], q) => {
      checkAccount(acct!);
      const t = liveTunnel(id!);
      const clientId = q.get("client_id");
      t.connectors = clientId === null ? [] : t.connectors.filter((c) => c.id !== clientId);
      return { body: envelope(null) };
    },
  );

  route("GET", "/zones/:id/dns_records", "dns.list", ([zoneId], q) => {
    const zone = zoneById(zoneId!);
    const matchAll = (q.get("match") ?? "all") === "all";
    const all = [...records.values()]
      .filter((r) => r.zoneId === zone.id)
      .filter((r) => {
        const checks: boolean[] = [];
        const type = q.get("type");
        if (type !== null) checks.push(r.type === type.toUpperCase());
        if ([...q.keys()].some((k) => k === "name" || k.startsWith("name."))) {
          checks.push(matchStringFilter(r.name, q, "name"));
        }
        if ([...q.keys()].some((k) => k === "content" || k.startsWith("content."))) {
          checks.push(matchStringFilter(r.content, q, "content"));
        }
        if ([...q.keys()].some((k) => k === "comment" || k.startsWith("comment."))) {
          checks.push(matchStringFilter(r.comment, q, "comment"));
        }
        const proxied = q.get("proxied");
        if (proxied !== null) checks.push(String(r.proxied) === proxied);
        if (checks.length === 0) return true;
        return matchAll ? checks.every(Boolean) : checks.some(Boolean);
      })
      .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type)));
    const { slice, info } = paginate(all, q, 100, 5_000_000);
    return { body: envelope(slice.map(recordJson), info) };
  });

  route("POST", "/zones/:id/dns_records", "dns.create", ([zoneId], _q, body) => {
    const zone = zoneById(zoneId!);
    const input = recordInput(zone, body);
    checkConflicts(zone.id, input, new Set(), []);
    return { body: envelope(recordJson(storeRecord(zone.id, input))) };
  });

  route("POST", "/zones/:id/dns_records/batch", "dns.batch", ([zoneId], _q, body) => {
    return { body: envelope(batch(zoneById(zoneId!), body)) };
  });

  route("GET", "/zones/:id/dns_records/:id", "dns.get", ([zoneId, id]) => {
    zoneById(zoneId!);
    return { body: envelope(recordJson(recordInZone(zoneId!, id!))) };
  });

  route("PATCH", "/zones/:id/dns_records/:id", "dns.edit", ([zoneId, id], _q, body) => {
    const zone = zoneById(zoneId!);
    const r = recordInZone(zone.id, id!);
    const input = recordInput(zone, body, r);
    checkConflicts(zone.id, input, new Set([r.id]), []);
    return { body: envelope(recordJson(storeRecord(zone.id, input, r))) };
  });

  route("PUT", "/zones/:id/dns_records/:id", "dns.update", ([zoneId, id], _q, body) => {
    const zone = zoneById(zoneId!);
    const r = recordInZone(zone.id, id!);
    const input = recordInput(zone, body);
    checkConflicts(zone.id, input, new Set([r.id]), []);
    return { body: envelope(recordJson(storeRecord(zone.id, input, r))) };
  });

  route("DELETE", "/zones/:id/dns_records/:id", "dns.delete", ([zoneId, id]) => {
    zoneById(zoneId!);
    const r = recordInZone(zoneId!, id!);
    records.delete(r.id);
    return { body: envelope({ id: r.id }) };
  });

  // Applications live in an account or in a zone (`/zones/{zone_id}/access/apps`, the SDK's `zone_id`
  // param); one host is covered by one application across both scopes.
  const appScope = (kind: "accounts" | "zones", id: string): string | undefined => {
    if (kind === "accounts") {
      checkAccount(id);
      return undefined;
    }
    return zoneById(id).id;
  };
  const appById = (scope: string | undefined, id: string): EmulatedAccessApp => {
    const a = apps.get(id);
    if (!a || a.zoneId !== scope) fail(404, 12000, "access.api.error.not_found: application not found");
    return a;
  };
  for (const kind of ["accounts", "zones"] as const) {
    const op = kind === "accounts" ? "access.apps" : "access.zone_apps";
    route("GET", `/${kind}/:id/access/apps`, `${op}.list`, ([owner], q) => {
      const scope = appScope(kind, owner!);
      const all = [...apps.values()].filter((a) => {
        if (a.zoneId !== scope) return false;
        if (q.get("name") !== null && a.name !== q.get("name")) return false;
        if (q.get("domain") !== null && a.domain !== q.get("domain")?.toLowerCase()) return false;
        return true;
      });
      const { slice, info } = paginate(all, q, 25, 1000);
      return { body: envelope(slice.map(appJson), info) };
    });

    route("POST", `/${kind}/:id/access/apps`, `${op}.create`, ([owner], _q, body) => {
      const scope = appScope(kind, owner!);
      const input = appInput(body);
      const stamp = now();
      const a: EmulatedAccessApp = {
        id: randomUUID(),
        aud: randomBytes(32).toString("hex"),
        ...input,
        ...(scope === undefined ? {} : { zoneId: scope }),
        createdAt: stamp,
        updatedAt: stamp,
      };
      apps.set(a.id, a);
      return { status: 201, body: envelope(appJson(a)) };
    });

    route("GET", `/${kind}/:id/access/apps/:id`, `${op}.get`, ([owner, id]) => {
      return { body: envelope(appJson(appById(appScope(kind, owner!), id!))) };
    });

    route("PUT", `/${kind}/:id/access/apps/:id`, `${op}.update`, ([owner, id], _q, body) => {
      const a = appById(appScope(kind, owner!), id!);
      const input = appInput(body, a);
      Object.assign(a, input, { updatedAt: now() });
      return { body: envelope(appJson(a)) };
    });

    route("DELETE", `/${kind}/:id/access/apps/:id`, `${op}.delete`, ([owner, id]) => {
      const a = appById(appScope(kind, owner!), id!);
      apps.delete(a.id);
      return { status: 202, body: envelope({ id: a.id }) };
    });
  }

  route("GET", "/accounts/:id/access/policies", "access.policies.list", ([acct], q) => {
    checkAccount(acct!);
    const { slice, info } = paginate([...policies.values()], q, 25, 1000);
    return { body: envelope(slice.map(policyJson), info) };
  });

  route("POST", "/accounts/:id/access/policies", "access.policies.create", ([acct], _q, body) => {
    checkAccount(acct!);
    const input = policyInput(body);
    const stamp = now();
    const p: EmulatedAccessPolicy = { id: randomUUID(), ...input, createdAt: stamp, updatedAt: stamp };
    policies.set(p.id, p);
    return { status: 201, body: envelope(policyJson(p)) };
  });

  const policyById = (id: string): EmulatedAccessPolicy => {
    const p = policies.get(id);
    if (!p) fail(404, 12000, "access.api.error.not_found: policy not found");
    return p;
  };

  route("GET", "/accounts/:id/access/policies/:id", "access.policies.get", ([acct, id]) => {
    checkAccount(acct!);
    return { body: envelope(policyJson(policyById(id!))) };
  });

  route("PUT", "/accounts/:id/access/policies/:id", "access.policies.update", ([acct, id], _q, body) => {
    checkAccount(acct!);
    const p = policyById(id!);
    Object.assign(p, policyInput(body), { updatedAt: now() });
    return { body: envelope(policyJson(p)) };
  });

  route("DELETE", "/accounts/:id/access/policies/:id", "access.policies.delete", ([acct, id]) => {
    checkAccount(acct!);
    const p = policyById(id!);
    for (const a of apps.values()) {
      if (a.policies.some((x) => x.id === p.id)) {
        fail(400, 12000, "access.api.error.policy_in_use: the policy is still used by an application");
      }
    }
    policies.delete(p.id);
    return { status: 202, body: envelope({ id: p.id }) };
  });

  // ---- the core ---------------------------------------------------------------------------------

  function takeFault(method: string, operation: string): (FaultRule & { remaining: number }) | undefined {
    for (const rule of faultRules) {
      if (rule.remaining <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (typeof rule.operation === "string" && rule.operation !== operation) continue;
      if (rule.operation instanceof RegExp && !rule.operation.test(operation)) continue;
      rule.remaining -= 1;
      return rule;
    }
    return undefined;
  }

  function faultResponse(rule: FaultRule): {
    status: number;
    body: unknown;
    headers: Record<string, string>;
  } {
    const status = rule.status ?? 500;
    const headers: Record<string, string> = {};
    if (status === 429) {
      headers["retry-after"] = String(rule.retryAfter ?? 0);
      return {
        status,
        headers,
        body: failure([{ code: 971, message: "Please wait and consider throttling your request speed" }]),
      };
    }
    if (rule.retryAfter !== undefined) headers["retry-after"] = String(rule.retryAfter);
    if (status === 401 || status === 403) {
      return { status, headers, body: failure([{ code: 10000, message: "Authentication error" }]) };
    }
    return { status, headers, body: failure([{ code: 10001, message: "Internal server error" }]) };
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const marker = url.pathname.indexOf("/client/v4");
    const path = (marker >= 0 ? url.pathname.slice(marker + "/client/v4".length) : url.pathname).replace(
      /\/$/,
      "",
    );
    const method = request.method.toUpperCase();
    const text = method === "GET" || method === "HEAD" ? "" : await request.text();
    let requestBody: unknown;
    let status = 200;
    let responseBody: unknown;
    let headers: Record<string, string> = {};
    let operation = "unknown";
    let fault: RequestLogEntry["fault"];
    try {
      if (text !== "") {
        try {
          requestBody = JSON.parse(text);
        } catch {
          fail(400, 6007, "Malformed JSON in request body");
        }
      }
      const match = routes
        .filter((r) => r.method === method)
        .map((r) => ({ r, m: r.pattern.exec(path) }))
        .find((x) => x.m !== null);
      if (match) operation = match.r.operation;
      const auth = request.headers.get("authorization") ?? "";
      const rule = takeFault(method, operation);
      if (rule?.latencyMs) {
        fault = "latency";
        await new Promise((resolve) => setTimeout(resolve, rule.latencyMs));
      }
      if (!auth.startsWith("Bearer ") || auth.length <= "Bearer ".length) {
        fail(401, 10000, "Authentication error");
      }
      if (rule?.status !== undefined && !rule.afterCommit) {
        fault = "status";
        const f = faultResponse(rule);
        status = f.status;
        responseBody = f.body;
        headers = f.headers;
      } else {
        if (!match) fail(404, 7003, `No route for the URI`);
        const out = match.r.handler(match.m!.slice(1).map(decodeURIComponent), url.searchParams, requestBody);
        status = out.status ?? 200;
        responseBody = out.body;
        if (rule?.status !== undefined && rule.afterCommit) {
          fault = "afterCommit";
          const f = faultResponse(rule);
          status = f.status;
          responseBody = f.body;
          headers = f.headers;
        }
      }
    } catch (error) {
      if (error instanceof HttpFailure) {
        status = error.status;
        responseBody = failure(error.errors);
        headers = error.headers;
      } else {
        status = 500;
        responseBody = failure([{ code: 10001, message: "Internal server error" }]);
      }
    }
    const entry: RequestLogEntry = {
      seq: ++seq,
      method,
      path,
      query: url.search,
      operation,
      status,
      requestBody,
      responseBody,
    };
    if (fault) entry.fault = fault;
    requestLog.push(entry);
    return new Response(JSON.stringify(responseBody), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  }

  const state: EmulatorState = {
    accountId,
    zones: () => [...zones.values()].map((z) => ({ ...z })),
    tunnels: () => [...tunnels.values()],
    tunnel: (idOrName) =>
      tunnels.get(idOrName) ?? [...tunnels.values()].find((t) => t.name === idOrName && t.deletedAt === null),
    dnsRecords: (zoneName) => {
      const zone = zoneName === undefined ? undefined : [...zones.values()].find((z) => z.name === zoneName);
      return [...records.values()].filter((r) => zone === undefined || r.zoneId === zone.id);
    },
    accessApps: () => [...apps.values()],
    accessPolicies: () => [...policies.values()],
    seedDnsRecord: (seed) => {
      const zone = [...zones.values()].find((z) => z.name === seed.zone.toLowerCase());
      if (!zone) throw new Error(`unknown zone ${seed.zone}`);
      const input = recordInput(zone, {
        name: seed.name,
        type: seed.type,
        content: seed.content,
        proxied: seed.proxied ?? false,
        ttl: seed.ttl ?? 1,
        comment: seed.comment ?? null,
      });
      checkConflicts(zone.id, input, new Set(), []);
      return storeRecord(zone.id, input);
    },
    snapshot: () =>
      structuredClone({
        version: 1 as const,
        accountId,
        zones: [...zones.values()],
        tunnels: [...tunnels.values()],
        dnsRecords: [...records.values()],
        accessApps: [...apps.values()],
        accessPolicies: [...policies.values()],
      }),
    seedTunnel: (input) => {
      const t = newTunnel(input.name, input.configSrc ?? "cloudflare");
      if (input.deleted) t.deletedAt = now();
      return t;
    },
  };

  const core: EmulatorCore = {
    handle,
    state,
    requestLog,
    faults(rules) {
      for (const r of Array.isArray(rules) ? rules : [rules]) {
        faultRules.push({ ...r, remaining: r.times ?? 1 });
      }
    },
    clearFaults() {
      faultRules.length = 0;
    },
    addConnector(tunnelId, input) {
      const t = tunnels.get(tunnelId);
      if (!t || t.deletedAt !== null) throw new Error(`unknown tunnel ${tunnelId}`);
      if (input.token !== undefined) {
        const claims = tokenClaims(input.token);
        if (claims?.t !== tunnelId || claims.s !== t.secret)
          throw new Error(
            `tunnel ${tunnelId} refused the connector: the token is not the tunnel's current one`,
          );
      }
      const c: EmulatedConnector = {
        id: input.id ?? randomUUID(),
        originIp: input.originIp,
        version: input.version ?? "2026.8.0",
        arch: input.arch ?? "linux_amd64",
        runAt: now(),
        colos: input.colos ?? ["fra06", "ams01", "fra10", "ams08"],
        ...(input.token !== undefined ? { secret: t.secret } : {}),
      };
      t.connectors.push(c);
      return c;
    },
    removeConnector(tunnelId, connectorId) {
      const t = tunnels.get(tunnelId);
      if (t) t.connectors = t.connectors.filter((c) => c.id !== connectorId);
    },
  };
  return core;
}
