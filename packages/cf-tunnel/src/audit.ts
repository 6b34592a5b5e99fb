import { accessCoverage, listAccessApps, listDnsRecords, readIngress, resolveZone } from "./current.js";
import { CfTunnelError } from "./errors.js";
import { createRetrier, PERMISSIONS } from "./internal/call.js";
import { ruleMatches } from "./plan.js";
import { findTunnel } from "./tunnel.js";
import type { ClientOptions } from "./types.js";

/** Options for {@link audit}. */
export interface AuditOptions extends ClientOptions {
  accountId: string;
  zone: string;
  /** The tunnel, by name or id (one is required). */
  tunnelName?: string;
  tunnelId?: string;
  /** Hostnames meant to be public (not reported as unprotected). */
  publicHostnames?: string[];
}

/** One finding of {@link audit}. */
export interface AuditFinding {
  code: "DNS_WITHOUT_INGRESS" | "INGRESS_WITHOUT_DNS" | "ROUTE_WITHOUT_ACCESS" | "NO_CONNECTORS";
  severity: "error" | "warning" | "info";
  hostname?: string;
  message: string;
}

/** A live cloudflared connector of the tunnel. */
export interface AuditConnector {
  id: string;
  originIps: string[];
  version: string | null;
  arch: string | null;
  runAt: string | null;
  /** Edge connections (normally 4 per connector). */
  connections: number;
  colos: string[];
}

/** What {@link audit} found. */
export interface AuditReport {
  tunnel: { id: string; name: string };
  zone: { id: string; name: string };
  /** DNS records pointing at the tunnel with no ingress rule: visitors get 503. */
  dnsWithoutIngress: { hostname: string; recordId: string; owned: boolean }[];
  /** Ingress rules no DNS record routes to. */
  ingressWithoutDns: string[];
  /** Ingress hostnames no Access application covers. */
  withoutAccess: string[];
  connectors: AuditConnector[];
  findings: AuditFinding[];
  /** No error findings. */
  ok: boolean;
}

/**
 * Audits a tunnel: hostnames whose DNS points at the tunnel with no ingress rule (the 503 trap), ingress rules
 * with no DNS, ingress hostnames without Access, and the tunnel's live connectors (one per node in HA).
 *
 * @throws CfTunnelError `INVALID_ROUTE` (neither tunnelName nor tunnelId), `NOT_FOUND`, `UNAUTHORIZED`,
 *   `RATE_LIMITED`, `API_ERROR`, `ABORTED`.
 */
export async function audit(options: AuditOptions): Promise<AuditReport> {
  const retrier = createRetrier(options);
  const { client, accountId } = options;
  let tunnel: { id: string; name: string } | undefined;
  if (options.tunnelId) {
    const id = options.tunnelId;
    const t = await retrier.call({
      what: `reading tunnel ${id}`,
      permission: PERMISSIONS.tunnelRead,
      run: (ro) => client.zeroTrust.tunnels.cloudflared.get(id, { account_id: accountId }, ro),
    });
    tunnel = { id, name: t.name ?? options.tunnelName ?? "" };
  } else if (options.tunnelName) {
    tunnel = await findTunnel(retrier, { client, accountId, name: options.tunnelName });
    if (!tunnel) {
      throw new CfTunnelError("NOT_FOUND", `tunnel "${options.tunnelName}" does not exist`, {
        details: { tunnelName: options.tunnelName },
      });
    }
  } else {
    throw new CfTunnelError("INVALID_ROUTE", "tunnelName: give tunnelName or tunnelId", {
      details: { field: "tunnelName" },
    });
  }
  const t = tunnel;
  const zone = await resolveZone(retrier, client, options.zone);
  const [config, records, apps, clients] = await Promise.all([
    readIngress(retrier, client, accountId, t.id),
    listDnsRecords(retrier, client, zone, t.id),
    listAccessApps(retrier, client, accountId, t.name, zone.id),
    retrier.call({
      what: "listing the tunnel's connections",
      permission: PERMISSIONS.tunnelRead,
      run: async (ro) => {
        const page = await client.zeroTrust.tunnels.cloudflared.connections.get(
          t.id,
          { account_id: accountId },
          ro,
        );
        return page.result;
      },
    }),
  ]);
  const rules = config.ingress.filter((r) => r.hostname !== undefined && r.hostname !== "*");
  const toTunnel = records.filter((r) => r.pointsAtTunnel);
  const findings: AuditFinding[] = [];
  const dnsWithoutIngress = toTunnel
    .filter((r) => !rules.some((rule) => ruleMatches(rule.hostname, r.name)))
    .map((r) => ({ hostname: r.name, recordId: r.id, owned: r.owned }));
  for (const d of dnsWithoutIngress) {
    findings.push({
      code: "DNS_WITHOUT_INGRESS",
      severity: "error",
      hostname: d.hostname,
      message: `${d.hostname} points at the tunnel but no ingress rule matches it: visitors get 503`,
    });
  }
  const ingressWithoutDns = rules
    .filter((rule) => !toTunnel.some((r) => ruleMatches(rule.hostname, r.name)))
    .map((rule) => rule.hostname as string)
    .filter((h) => h === zone.name || h.endsWith(`.${zone.name}`));
  for (const h of ingressWithoutDns) {
    findings.push({
      code: "INGRESS_WITHOUT_DNS",
      severity: "warning",
      hostname: h,
      message: `ingress rule ${h} has no DNS record pointing at the tunnel: it is unreachable`,
    });
  }
  const publicHosts = new Set((options.publicHostnames ?? []).map((h) => h.toLowerCase()));
  const withoutAccess = rules
    .map((rule) => rule.hostname as string)
    .filter((h) => !apps.some((a) => accessCoverage(a, h) !== null));
  for (const h of withoutAccess) {
    const intended = publicHosts.has(h);
    findings.push({
      code: "ROUTE_WITHOUT_ACCESS",
      severity: intended ? "info" : "error",
      hostname: h,
      message: intended ? `${h} is public by declaration` : `${h} is reachable without Access`,
    });
  }
  const connectors: AuditConnector[] = clients.map((c) => ({
    id: c.id ?? "",
    originIps: [...new Set((c.conns ?? []).map((x) => x.origin_ip ?? "").filter((ip) => ip !== ""))],
    version: c.version ?? null,
    arch: c.arch ?? null,
    runAt: c.run_at ?? null,
    connections: (c.conns ?? []).length,
    colos: [...new Set((c.conns ?? []).map((x) => x.colo_name ?? "").filter((x) => x !== ""))],
  }));
  if (connectors.length === 0) {
    findings.push({
      code: "NO_CONNECTORS",
      severity: "error",
      message: "no cloudflared connector is running for this tunnel",
    });
  }
  return {
    tunnel: t,
    zone,
    dnsWithoutIngress,
    ingressWithoutDns,
    withoutAccess,
    connectors,
    findings,
    ok: !findings.some((f) => f.severity === "error"),
  };
}
