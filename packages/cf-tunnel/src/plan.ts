import { createHash } from "node:crypto";
import type { AccessRuleParam } from "cloudflare/resources/zero-trust/access/applications/policies";
import {
  ACCESS_NAME_PREFIX,
  accessAppName,
  accessCoverage,
  type CurrentState,
  DNS_COMMENT_MARKER,
  type DnsRecordInfo,
  tunnelTarget,
} from "./current.js";
import { CfTunnelError } from "./errors.js";
import { CATCH_ALL_RULE, compareRules, ruleOf } from "./routes.js";
import type { AccessRequirements, DesiredState, IngressRule, TunnelSettings } from "./types.js";

/** Something standing in the way, reported before any change. */
export interface PlanConflict {
  kind: "dns" | "access";
  hostname: string;
  /** Index of the route in the input. */
  routeIndex: number;
  message: string;
  existing: { id: string; type?: string; content?: string; name?: string };
}

/** A CNAME to write. */
export interface DnsWrite {
  /** Set for an update (PUT over this id). */
  id?: string;
  name: string;
  type: "CNAME";
  content: string;
  proxied: true;
  ttl: 1;
  comment: string;
  /** Why: "new", "drift" (proxied/ttl differ), "adopt" (foreign record taken over). */
  reason: "new" | "drift" | "adopt";
}

/** A DNS record to delete. */
export interface DnsDelete {
  id: string;
  name: string;
  type: string;
  content: string;
  reason: "route removed" | "adopt";
}

/** A reusable Access policy to create. */
export interface PolicyCreate {
  name: string;
  decision: "allow" | "non_identity";
  include: AccessRuleParam[];
  sessionDuration: string;
}

/** An Access application to create or update; `policies` are policy names, resolved to ids when applied. */
export interface AppWrite {
  /** Set for an update. */
  id?: string;
  name: string;
  hostname: string;
  sessionDuration: string;
  policies: string[];
  reason: "new" | "drift" | "adopt";
}

/** The exact changes to ingress, DNS and Access, as data. */
export interface Plan {
  version: 1;
  accountId: string;
  zone: { id: string; name: string };
  /** `id` is empty when the tunnel does not exist yet (such a plan can be shown but not applied). */
  tunnel: { id: string; name: string };
  conflicts: PlanConflict[];
  warnings: string[];
  access: {
    createPolicies: PolicyCreate[];
    /** Our policies whose rules were edited outside cf-tunnel: restored. */
    updatePolicies: (PolicyCreate & { id: string })[];
    createApps: AppWrite[];
    updateApps: AppWrite[];
    deleteApps: { id: string; name: string; hostname: string }[];
    deletePolicies: { id: string; name: string }[];
    /** Ids of existing policies the applications to create or update link to, by name. */
    policyIds: Record<string, string>;
  };
  ingress: {
    add: string[];
    update: string[];
    remove: string[];
    current: IngressRule[];
    /** Written first: new and changed rules, plus removed rules whose DNS record still exists. */
    staged: IngressRule[];
    /** Written after DNS: exactly the desired rules. */
    desired: IngressRule[];
    /** The configuration's other top-level settings, written back unchanged with every ingress write. */
    settings: TunnelSettings;
  };
  dns: { create: DnsWrite[]; update: DnsWrite[]; delete: DnsDelete[] };
  /** DNS changes per batch request. */
  batchSize: number;
  hasChanges: boolean;
}

/** Options for {@link plan}. */
export interface PlanOptions {
  /** DNS changes per batch request (default 200, the Free plan's limit). */
  batchSize?: number;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function sameRules(a: IngressRule[], b: IngressRule[]): boolean {
  return canonical(a) === canonical(b);
}

/** The reusable policies a route's Access requirements map to (identity rules, then service tokens). */
export function policiesFor(access: AccessRequirements): PolicyCreate[] {
  const out: PolicyCreate[] = [];
  const identity: AccessRuleParam[] = [
    ...access.emails.map((email) => ({ email: { email } })),
    ...access.emailDomains.map((domain) => ({ email_domain: { domain } })),
    ...access.groups.map((id) => ({ group: { id } })),
  ];
  const tokens = access.serviceTokens.map((token_id) => ({ service_token: { token_id } }));
  for (const [decision, include] of [
    ["allow", identity],
    ["non_identity", tokens],
  ] as const) {
    if (include.length === 0) continue;
    const hash = createHash("sha256")
      .update(canonical({ decision, include, sessionDuration: access.sessionDuration }))
      .digest("hex")
      .slice(0, 12);
    out.push({
      name: `${ACCESS_NAME_PREFIX}${decision}:${hash}`,
      decision,
      include,
      sessionDuration: access.sessionDuration,
    });
  }
  return out;
}

/** True when a hostname rule (possibly `*.x`) matches `host` the way cloudflared does (suffix match). */
export function ruleMatches(ruleHost: string | undefined, host: string): boolean {
  if (ruleHost === undefined || ruleHost === "" || ruleHost === "*") return false;
  if (ruleHost.startsWith("*.")) return host.endsWith(ruleHost.slice(1)) || host.endsWith(ruleHost.slice(2));
  return ruleHost === host;
}

/**
 * Computes the exact changes that make Cloudflare match `desired`: Access policies and applications, the tunnel's
 * ingress (staged so removals wait for their DNS), and DNS records (ownership enforced: foreign records are
 * conflicts unless the route says `adopt: true`, and are never deleted otherwise).
 *
 * @throws CfTunnelError `INVALID_ROUTE` when `desired.zone` differs from the zone read.
 */
export function plan(current: CurrentState, desired: DesiredState, options: PlanOptions = {}): Plan {
  if (desired.zone !== current.zone.name) {
    throw new CfTunnelError(
      "INVALID_ROUTE",
      `zone: desired state is for ${desired.zone}, current for ${current.zone.name}`,
      {
        details: { field: "zone" },
      },
    );
  }
  const tunnelId = current.tunnel?.id ?? "";
  const target = tunnelTarget(tunnelId === "" ? "<new-tunnel>" : tunnelId);
  const conflicts: PlanConflict[] = [];
  const warnings: string[] = [];
  const desiredHosts = new Set(desired.routes.map((r) => r.hostname));

  // ---- DNS ------------------------------------------------------------------------------------------
  const byName = new Map<string, DnsRecordInfo[]>();
  for (const r of current.dnsRecords) {
    const list = byName.get(r.name) ?? [];
    list.push(r);
    byName.set(r.name, list);
  }
  const dns: Plan["dns"] = { create: [], update: [], delete: [] };
  const write = (name: string, reason: DnsWrite["reason"], id?: string): DnsWrite => ({
    ...(id === undefined ? {} : { id }),
    name,
    type: "CNAME",
    content: target,
    proxied: true,
    ttl: 1,
    comment: DNS_COMMENT_MARKER,
    reason,
  });
  for (const route of desired.routes) {
    const atName = byName.get(route.hostname) ?? [];
    const existing = atName.filter((r) => ["A", "AAAA", "CNAME"].includes(r.type));
    // A CNAME stands alone at its name: Cloudflare refuses it beside a TXT, MX... (81057). Such records are
    // never taken over, adopt or not.
    const others = atName.filter((r) => !["A", "AAAA", "CNAME"].includes(r.type));
    if (others.length > 0) {
      for (const r of others) {
        conflicts.push({
          kind: "dns",
          hostname: route.hostname,
          routeIndex: route.index,
          message: `a ${r.type} record ${r.name} exists; a tunnel CNAME cannot share its name with other records, so move or delete it first`,
          existing: { id: r.id, type: r.type, content: r.content },
        });
      }
      continue;
    }
    const owned = existing.find((r) => r.owned);
    if (owned) {
      if (!owned.proxied || owned.ttl !== 1) dns.update.push(write(route.hostname, "drift", owned.id));
      continue;
    }
    if (existing.length === 0) {
      dns.create.push(write(route.hostname, "new"));
      continue;
    }
    if (!route.adopt) {
      for (const r of existing) {
        const hint = r.pointsAtTunnel ? " (it points at this tunnel but lacks the ownership comment)" : "";
        conflicts.push({
          kind: "dns",
          hostname: route.hostname,
          routeIndex: route.index,
          message: `${/^[AEIOU]/.test(r.type) ? "an" : "a"} ${r.type} record ${r.name} -> ${r.content} exists and is not managed by cf-tunnel${hint}; set adopt: true on routes[${route.index}] to take it over`,
          existing: { id: r.id, type: r.type, content: r.content },
        });
      }
      continue;
    }
    const cname = existing.find((r) => r.type === "CNAME");
    if (cname) {
      dns.update.push(write(route.hostname, "adopt", cname.id));
    } else {
      for (const r of existing) {
        dns.delete.push({ id: r.id, name: r.name, type: r.type, content: r.content, reason: "adopt" });
      }
      dns.create.push(write(route.hostname, "adopt"));
    }
  }
  for (const r of current.dnsRecords) {
    if (r.owned && !desiredHosts.has(r.name)) {
      dns.delete.push({ id: r.id, name: r.name, type: r.type, content: r.content, reason: "route removed" });
    }
  }

  // ---- Access ---------------------------------------------------------------------------------------
  const access: Plan["access"] = {
    createPolicies: [],
    updatePolicies: [],
    createApps: [],
    updateApps: [],
    deleteApps: [],
    deletePolicies: [],
    policyIds: {},
  };
  const policyByName = new Map(current.accessPolicies.map((p) => [p.name, p]));
  const policyById = new Map(current.accessPolicies.map((p) => [p.id, p]));
  const neededPolicies = new Set<string>();
  const keptApps = new Set<string>();
  for (const route of desired.routes) {
    const ourName = accessAppName(current.tunnelName, route.hostname);
    const ours = current.accessApps.find((a) => a.owned && a.name === ourName);
    // Every way an application can cover the host counts: domain, destinations, self_hosted_domains, and
    // applications of the zone as well as of the account. Cloudflare refuses a second application for a
    // host (409 code 11010), so such a host is a conflict here, before any write.
    const foreign = current.accessApps.filter(
      (a) => !a.owned && accessCoverage(a, route.hostname) === "exact",
    );
    const wildcard = current.accessApps.filter(
      (a) => !a.owned && accessCoverage(a, route.hostname) === "wildcard",
    );
    if (!route.access) {
      const covering = foreign[0] ?? wildcard[0];
      if (covering) {
        warnings.push(
          `${route.hostname} is public but an Access application ("${covering.name}") still covers it`,
        );
      }
      continue;
    }
    for (const w of wildcard) {
      warnings.push(
        `the Access application "${w.name}" covers ${route.hostname} by wildcard; the application for ${route.hostname} takes precedence`,
      );
    }
    const policies = policiesFor(route.access);
    for (const p of policies) {
      neededPolicies.add(p.name);
      const existing = policyByName.get(p.name);
      if (!existing) {
        if (!access.createPolicies.some((c) => c.name === p.name)) access.createPolicies.push(p);
      } else if (
        (existing.decision !== p.decision || canonical(existing.include) !== canonical(p.include)) &&
        !access.updatePolicies.some((u) => u.name === p.name)
      ) {
        access.updatePolicies.push({ ...p, id: existing.id });
      }
    }
    const names = policies.map((p) => p.name);
    const wanted = {
      name: ourName,
      hostname: route.hostname,
      sessionDuration: route.access.sessionDuration,
      policies: names,
    };
    if (ours) {
      keptApps.add(ours.id);
      const currentNames = ours.policyIds.map((id) => policyById.get(id)?.name ?? id);
      if (
        ours.domain !== route.hostname ||
        ours.sessionDuration !== route.access.sessionDuration ||
        canonical(currentNames) !== canonical(names)
      ) {
        access.updateApps.push({ id: ours.id, ...wanted, reason: "drift" });
      }
      continue;
    }
    const adoptable = foreign[0];
    if (adoptable) {
      // Only an account application covering exactly this host and nothing else can be taken over without
      // changing what it protects elsewhere.
      const soleHost =
        adoptable.zoneId === undefined &&
        adoptable.covers.length === 1 &&
        adoptable.covers[0] === route.hostname;
      if (!route.adopt || !soleHost) {
        const where = adoptable.zoneId === undefined ? "" : " (zone-scoped)";
        const fix = soleHost
          ? `set adopt: true on routes[${route.index}] to take it over`
          : `it also covers ${adoptable.covers.filter((c) => c !== route.hostname).join(", ") || "a path or another scope"}: remove ${route.hostname} from it in Cloudflare first`;
        conflicts.push({
          kind: "access",
          hostname: route.hostname,
          routeIndex: route.index,
          message: `an Access application "${adoptable.name}"${where} already covers ${route.hostname}; ${fix}`,
          existing: { id: adoptable.id, name: adoptable.name },
        });
        continue;
      }
      keptApps.add(adoptable.id);
      access.updateApps.push({ id: adoptable.id, ...wanted, reason: "adopt" });
      continue;
    }
    access.createApps.push({ ...wanted, reason: "new" });
  }
  for (const app of current.accessApps) {
    if (app.owned && !keptApps.has(app.id)) {
      access.deleteApps.push({ id: app.id, name: app.name, hostname: app.domain });
    }
  }
  for (const app of [...access.createApps, ...access.updateApps]) {
    for (const name of app.policies) {
      const existing = policyByName.get(name);
      if (existing) access.policyIds[name] = existing.id;
    }
  }
  const deletedApps = new Set(access.deleteApps.map((a) => a.id));
  const updatedApps = new Set(access.updateApps.map((a) => a.id));
  const stillReferenced = new Set<string>();
  for (const app of current.accessApps) {
    if (deletedApps.has(app.id) || updatedApps.has(app.id)) continue;
    for (const id of app.policyIds) stillReferenced.add(id);
  }
  for (const p of current.accessPolicies) {
    if (p.owned && !neededPolicies.has(p.name) && !stillReferenced.has(p.id)) {
      access.deletePolicies.push({ id: p.id, name: p.name });
    }
  }

  // ---- Ingress --------------------------------------------------------------------------------------
  const currentRules = current.ingress.filter((r) => r.hostname !== undefined && r.hostname !== "*");
  const currentByHost = new Map(currentRules.map((r) => [r.hostname as string, r]));
  const desiredRules = desired.routes.map(ruleOf);
  const add = desiredRules
    .filter((r) => !currentByHost.has(r.hostname as string))
    .map((r) => r.hostname as string);
  const update = desiredRules
    .filter((r) => {
      const c = currentByHost.get(r.hostname as string);
      return c !== undefined && canonical(c) !== canonical(r);
    })
    .map((r) => r.hostname as string);
  const removedRules = currentRules.filter((r) => !desiredHosts.has(r.hostname as string));
  const dnsToTunnel = current.dnsRecords.filter((r) => r.pointsAtTunnel);
  const lingering = removedRules.filter((rule) =>
    dnsToTunnel.some((r) => ruleMatches(rule.hostname, r.name)),
  );
  for (const rule of removedRules) {
    const foreignDns = dnsToTunnel.filter((r) => !r.owned && ruleMatches(rule.hostname, r.name));
    for (const r of foreignDns) {
      warnings.push(
        `${r.name} points at this tunnel without the ownership comment; removing the rule for ${rule.hostname} leaves it answering 503`,
      );
    }
  }
  const staged = [...desiredRules, ...lingering].sort(compareRules).concat({ ...CATCH_ALL_RULE });
  const desiredIngress = desired.ingress;

  const planned: Plan = {
    version: 1,
    accountId: current.accountId,
    zone: current.zone,
    tunnel: { id: tunnelId, name: current.tunnelName },
    conflicts,
    warnings,
    access,
    ingress: {
      add,
      update,
      remove: removedRules.map((r) => r.hostname as string),
      current: current.ingress,
      staged,
      desired: desiredIngress,
      settings: current.settings,
    },
    dns,
    batchSize: options.batchSize ?? 200,
    hasChanges: false,
  };
  planned.hasChanges = countChanges(planned) > 0;
  return planned;
}

/**
 * How many changes a plan makes: Access policies and applications, ingress rules and DNS records; an
 * ingress rewrite that changes no rule (their order) counts as one. `hasChanges` is this above zero.
 */
export function countChanges(p: Pick<Plan, "access" | "ingress" | "dns">): number {
  const { access, ingress, dns } = p;
  const rules = ingress.add.length + ingress.update.length + ingress.remove.length;
  return (
    access.createPolicies.length +
    access.updatePolicies.length +
    access.createApps.length +
    access.updateApps.length +
    access.deleteApps.length +
    access.deletePolicies.length +
    rules +
    (rules === 0 && !sameRules(ingress.current, ingress.desired) ? 1 : 0) +
    dns.create.length +
    dns.update.length +
    dns.delete.length
  );
}

/** @internal Whether two ingress lists are identical. */
export function ingressEqual(a: IngressRule[], b: IngressRule[]): boolean {
  return sameRules(a, b);
}

/** Renders a plan for humans: one line per change, conflicts first. */
export function renderPlan(p: Plan): string {
  const lines: string[] = [];
  const tunnel =
    p.tunnel.id === "" ? `${p.tunnel.name} (to be created)` : `${p.tunnel.name} (${p.tunnel.id})`;
  lines.push(`Tunnel ${tunnel}, zone ${p.zone.name}`);
  if (p.conflicts.length > 0) {
    lines.push("", `Conflicts (${p.conflicts.length}); nothing will be changed until they are resolved:`);
    for (const c of p.conflicts) lines.push(`  ! ${c.hostname}: ${c.message}`);
  }
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push("", `${title}:`);
    for (const item of items) lines.push(`  ${item}`);
  };
  section("Access", [
    ...p.access.createPolicies.map((x) => `+ policy ${x.name} (${x.decision}, ${x.include.length} rule(s))`),
    ...p.access.updatePolicies.map((x) => `~ policy ${x.name} (rules edited outside cf-tunnel: restored)`),
    ...p.access.createApps.map((x) => `+ application ${x.hostname}`),
    ...p.access.updateApps.map((x) => `~ application ${x.hostname} (${x.reason})`),
    ...p.access.deleteApps.map((x) => `- application ${x.hostname}`),
    ...p.access.deletePolicies.map((x) => `- policy ${x.name}`),
  ]);
  const desiredByHost = new Map(p.ingress.desired.map((r) => [r.hostname, r]));
  section("Ingress", [
    ...p.ingress.add.map((h) => `+ ${h} -> ${desiredByHost.get(h)?.service ?? ""}`),
    ...p.ingress.update.map((h) => `~ ${h} -> ${desiredByHost.get(h)?.service ?? ""}`),
    ...p.ingress.remove.map((h) => `- ${h}`),
  ]);
  section("DNS", [
    ...p.dns.create.map((x) => `+ CNAME ${x.name} -> ${x.content}${x.reason === "adopt" ? " (adopt)" : ""}`),
    ...p.dns.update.map((x) => `~ CNAME ${x.name} -> ${x.content} (${x.reason})`),
    ...p.dns.delete.map((x) => `- ${x.type} ${x.name} -> ${x.content} (${x.reason})`),
  ]);
  if (p.warnings.length > 0)
    section(
      "Warnings",
      p.warnings.map((w) => `? ${w}`),
    );
  if (!p.hasChanges && p.conflicts.length === 0) lines.push("", "No changes.");
  else lines.push("", `${countChanges(p)} change(s), ${p.conflicts.length} conflict(s).`);
  return `${lines.join("\n")}\n`;
}

/** The plan as a JSON document (stable key order as built; no secrets are part of a plan). */
export function planToJson(p: Plan): string {
  return `${JSON.stringify(p, null, 2)}\n`;
}
