import type { ApplicationListResponse } from "cloudflare/resources/zero-trust/access/applications";
import { CfTunnelError } from "./errors.js";
import { type CallSpec, createRetrier, PERMISSIONS, type Retrier } from "./internal/call.js";
import { findTunnel, type TunnelInfo } from "./tunnel.js";
import type { ClientOptions, IngressRule, OriginRequest, TunnelSettings } from "./types.js";

/** The comment that marks a DNS record as written by this library (short and fixed: Free zones allow 100). */
export const DNS_COMMENT_MARKER = "managed by cf-tunnel";
/** Prefix of the names of Access applications and policies this library owns. */
export const ACCESS_NAME_PREFIX = "cf-tunnel:";

/** The CNAME target of a tunnel. */
export function tunnelTarget(tunnelId: string): string {
  return `${tunnelId}.cfargotunnel.com`;
}

/** The Access application name this library uses for a hostname of a tunnel. */
export function accessAppName(tunnelName: string, hostname: string): string {
  return `${ACCESS_NAME_PREFIX}${tunnelName}:${hostname}`;
}

/** A DNS record of the zone, as read. */
export interface DnsRecordInfo {
  id: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  ttl: number;
  comment: string | null;
  /** CNAME to this tunnel carrying {@link DNS_COMMENT_MARKER}. */
  owned: boolean;
  /** CNAME to this tunnel (owned or not). */
  pointsAtTunnel: boolean;
}

/** An Access application of the account or of the zone, as read. */
export interface AccessAppInfo {
  id: string;
  name: string;
  domain: string;
  type: string;
  sessionDuration: string | null;
  /** Linked policy ids in precedence order. */
  policyIds: string[];
  owned: boolean;
  /**
   * Every `host[/path]` the application covers, lower-cased: its `domain`, its public `destinations` and
   * its (deprecated) `self_hosted_domains`.
   */
  covers: string[];
  /** Set for a zone-scoped application (`/zones/{zone_id}/access/apps`). */
  zoneId?: string;
}

/** How an application covers a hostname: exactly (optionally only a path of it), by wildcard, or not. */
export function accessCoverage(
  app: Pick<AccessAppInfo, "covers">,
  hostname: string,
): "exact" | "wildcard" | null {
  let found: "exact" | "wildcard" | null = null;
  for (const entry of app.covers) {
    const host = entry.split("/")[0] ?? "";
    if (host === hostname) return "exact";
    if (host.startsWith("*.") && hostname.endsWith(host.slice(1))) found = "wildcard";
  }
  return found;
}

/** A reusable Access policy of the account, as read. */
export interface AccessPolicyInfo {
  id: string;
  name: string;
  decision: string;
  include: unknown[];
  owned: boolean;
}

/** Everything the planner needs, read in a number of requests independent of the route count. */
export interface CurrentState {
  accountId: string;
  zone: { id: string; name: string };
  /** `null` when the tunnel does not exist yet. */
  tunnel: TunnelInfo | null;
  tunnelName: string;
  /** The tunnel's remote ingress rules (empty when none). */
  ingress: IngressRule[];
  configVersion: number | null;
  /**
   * The tunnel configuration's other top-level settings (`originRequest`, `warp-routing`, anything set in the
   * dashboard): written back unchanged with the ingress.
   */
  settings: TunnelSettings;
  dnsRecords: DnsRecordInfo[];
  accessApps: AccessAppInfo[];
  accessPolicies: AccessPolicyInfo[];
}

/** Options for {@link readCurrent}. */
export interface ReadCurrentOptions extends ClientOptions {
  accountId: string;
  zone: string;
  tunnelName: string;
  /** Skip the lookup by name when the id is known; `null` plans against a tunnel still to be created. */
  tunnel?: TunnelInfo | null;
}

const PAGE = 1000;
const DNS_PAGE = 5000;

type RequestOptions = Parameters<CallSpec<unknown>["run"]>[0];

interface PageLike<T> {
  result: T[];
  result_info?: { page?: number; per_page?: number; total_pages?: number };
}

/**
 * Reads every page as one retried call (a retry starts again from page 1). Stops at `total_pages` when the
 * server reports it, otherwise at a short page (measured against the server's own `per_page`, which may be
 * lower than the one asked for), and always at an empty page.
 */
function readPages<T>(
  retrier: Retrier,
  spec: Pick<CallSpec<T[]>, "what" | "permission"> & { perPage: number },
  fetchPage: (page: number, perPage: number, requestOptions: RequestOptions) => Promise<PageLike<T>>,
): Promise<T[]> {
  const { perPage, ...call } = spec;
  return retrier.call({
    ...call,
    run: async (requestOptions) => {
      const out: T[] = [];
      for (let page = 1; ; page++) {
        const { result, result_info: info } = await fetchPage(page, perPage, requestOptions);
        out.push(...result);
        if (result.length === 0) return out;
        if (typeof info?.total_pages === "number") {
          if (page >= info.total_pages) return out;
        } else if (result.length < (info?.per_page ?? perPage)) {
          return out;
        }
      }
    },
  });
}

/** @internal */
export async function resolveZone(
  retrier: Retrier,
  client: ClientOptions["client"],
  zone: string,
): Promise<{ id: string; name: string }> {
  const name = zone.trim().toLowerCase().replace(/\.$/, "");
  const found = await retrier.call({
    what: `looking up zone ${name}`,
    permission: PERMISSIONS.zoneRead,
    run: async (requestOptions) => {
      const page = await client.zones.list({ name, per_page: 5 }, requestOptions);
      return page.result.find((z) => z.name === name);
    },
  });
  if (!found) {
    throw new CfTunnelError(
      "NOT_FOUND",
      `zone ${name} is not in this account (or the token lacks "Zone Read" on it)`,
      {
        details: { zone: name, permission: PERMISSIONS.zoneRead },
      },
    );
  }
  return { id: found.id, name };
}

/** @internal */
export async function listDnsRecords(
  retrier: Retrier,
  client: ClientOptions["client"],
  zone: { id: string; name: string },
  tunnelId: string | undefined,
): Promise<DnsRecordInfo[]> {
  const raw = await readPages(
    retrier,
    { what: `listing DNS records of ${zone.name}`, permission: PERMISSIONS.dnsRead, perPage: DNS_PAGE },
    (page, perPage, requestOptions) =>
      client.dns.records.list({ zone_id: zone.id, page, per_page: perPage }, requestOptions),
  );
  const target = tunnelId === undefined ? undefined : tunnelTarget(tunnelId);
  return raw.map((r) => {
    const rec = r as {
      id: string;
      name: string;
      type: string;
      content?: string;
      proxied?: boolean;
      ttl?: number;
      comment?: string | null;
    };
    const content = (rec.content ?? "").toLowerCase();
    const pointsAtTunnel = rec.type === "CNAME" && target !== undefined && content === target;
    return {
      id: rec.id,
      name: rec.name.toLowerCase(),
      type: rec.type,
      content: rec.content ?? "",
      proxied: rec.proxied ?? false,
      ttl: rec.ttl ?? 1,
      comment: rec.comment ?? null,
      pointsAtTunnel,
      owned: pointsAtTunnel && rec.comment === DNS_COMMENT_MARKER,
    };
  });
}

/**
 * The fields read from an Access application, typed by the SDK: every kind of application in the
 * list response must fit (a field the SDK retypes on any kind fails the build here).
 */
type AppFields = Partial<
  Pick<
    ApplicationListResponse.SelfHostedApplication,
    "id" | "name" | "domain" | "type" | "session_duration" | "destinations" | "self_hosted_domains"
  >
> & {
  // Each kind types its own policy shape; the two fields read here are common to all of them.
  policies?: { id?: string; precedence?: number }[];
};

/** Every `host[/path]` an application covers (the fields an app can name a host with). */
function coveredEntries(app: AppFields): string[] {
  const entries = new Set<string>();
  const add = (value: string | undefined) => {
    if (value) entries.add(value.toLowerCase().replace(/^https?:\/\//, ""));
  };
  add(app.domain);
  for (const d of app.self_hosted_domains ?? []) add(d);
  for (const d of app.destinations ?? []) {
    if ("uri" in d && (d.type === undefined || d.type === "public")) add(d.uri);
  }
  return [...entries];
}

/**
 * @internal Lists the account's Access applications and, with `zoneId`, the zone's: an application of either
 * scope can cover a hostname of the zone.
 */
export async function listAccessApps(
  retrier: Retrier,
  client: ClientOptions["client"],
  accountId: string,
  tunnelName: string,
  zoneId?: string,
): Promise<AccessAppInfo[]> {
  const read = (scope: { account_id: string } | { zone_id: string }) =>
    readPages(
      retrier,
      {
        what: "zone_id" in scope ? "listing the zone's Access applications" : "listing Access applications",
        permission: PERMISSIONS.accessRead,
        perPage: PAGE,
      },
      (page, perPage, requestOptions) =>
        client.zeroTrust.access.applications.list({ ...scope, page, per_page: perPage }, requestOptions),
    );
  const [accountApps, zoneApps] = await Promise.all([
    read({ account_id: accountId }),
    zoneId === undefined ? Promise.resolve([]) : read({ zone_id: zoneId }),
  ]);
  const prefix = accessAppName(tunnelName, "");
  const info = (app: AppFields, zone?: string): AccessAppInfo => {
    const policies = [...(app.policies ?? [])].sort((x, y) => (x.precedence ?? 0) - (y.precedence ?? 0));
    return {
      id: app.id ?? "",
      name: app.name ?? "",
      domain: (app.domain ?? "").toLowerCase(),
      type: app.type ?? "",
      sessionDuration: app.session_duration ?? null,
      policyIds: policies.map((p) => p.id ?? ""),
      // Only account-scoped applications are written by this library.
      owned: zone === undefined && (app.name ?? "").startsWith(prefix),
      covers: coveredEntries(app),
      ...(zone === undefined ? {} : { zoneId: zone }),
    };
  };
  return [...accountApps.map((a) => info(a)), ...zoneApps.map((a) => info(a, zoneId))];
}

/** @internal */
export async function listAccessPolicies(
  retrier: Retrier,
  client: ClientOptions["client"],
  accountId: string,
): Promise<AccessPolicyInfo[]> {
  const raw = await readPages(
    retrier,
    { what: "listing Access policies", permission: PERMISSIONS.accessRead, perPage: PAGE },
    (page, perPage, requestOptions) =>
      client.zeroTrust.access.policies.list(
        { account_id: accountId, page, per_page: perPage },
        requestOptions,
      ),
  );
  return raw.map((p) => {
    const policy = p as { id?: string; name?: string; decision?: string; include?: unknown[] };
    return {
      id: policy.id ?? "",
      name: policy.name ?? "",
      decision: policy.decision ?? "",
      include: policy.include ?? [],
      owned: (policy.name ?? "").startsWith(ACCESS_NAME_PREFIX),
    };
  });
}

/** @internal */
export async function readIngress(
  retrier: Retrier,
  client: ClientOptions["client"],
  accountId: string,
  tunnelId: string,
): Promise<{ ingress: IngressRule[]; version: number | null; settings: TunnelSettings }> {
  const config = await retrier.call({
    what: "reading the tunnel configuration",
    permission: PERMISSIONS.tunnelRead,
    run: (requestOptions) =>
      client.zeroTrust.tunnels.cloudflared.configurations.get(
        tunnelId,
        { account_id: accountId },
        requestOptions,
      ),
  });
  const rules = (config?.config?.ingress ?? []) as unknown as Record<string, unknown>[];
  const ingress = rules.map((r) => {
    const rule: IngressRule = { service: String(r.service ?? "") };
    if (typeof r.hostname === "string" && r.hostname !== "") rule.hostname = r.hostname;
    if (typeof r.path === "string" && r.path !== "") rule.path = r.path;
    if (r.originRequest && typeof r.originRequest === "object" && Object.keys(r.originRequest).length > 0) {
      rule.originRequest = r.originRequest as OriginRequest;
    }
    return rule;
  });
  const { ingress: _rules, ...settings } = config?.config ?? {};
  return { ingress, version: typeof config?.version === "number" ? config.version : null, settings };
}

/**
 * Reads the current state: zone, tunnel ingress, every DNS record of the zone, Access applications and reusable
 * policies. The number of requests does not depend on the number of routes (pagination aside).
 *
 * @throws CfTunnelError `NOT_FOUND` (zone), `UNAUTHORIZED`, `RATE_LIMITED`, `API_ERROR`, `ABORTED`.
 */
export async function readCurrent(options: ReadCurrentOptions): Promise<CurrentState> {
  const retrier = createRetrier(options);
  const { client, accountId, tunnelName } = options;
  const tunnel =
    options.tunnel === undefined
      ? ((await findTunnel(retrier, { client, accountId, name: tunnelName })) ?? null)
      : options.tunnel;
  const zone = await resolveZone(retrier, client, options.zone);
  const [config, dnsRecords, accessApps, accessPolicies] = await Promise.all([
    tunnel
      ? readIngress(retrier, client, accountId, tunnel.id)
      : Promise.resolve({ ingress: [], version: null, settings: {} }),
    listDnsRecords(retrier, client, zone, tunnel?.id),
    listAccessApps(retrier, client, accountId, tunnelName, zone.id),
    listAccessPolicies(retrier, client, accountId),
  ]);
  retrier.emit({
    type: "current.read",
    message: `read ${dnsRecords.length} DNS record(s), ${config.ingress.length} ingress rule(s), ${accessApps.length} Access application(s)`,
    dnsRecords: dnsRecords.length,
    ingressRules: config.ingress.length,
    accessApps: accessApps.length,
    accessPolicies: accessPolicies.length,
  });
  return {
    accountId,
    zone,
    tunnel,
    tunnelName,
    ingress: config.ingress,
    configVersion: config.version,
    settings: config.settings,
    dnsRecords,
    accessApps,
    accessPolicies,
  };
}
