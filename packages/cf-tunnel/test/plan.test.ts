import { describe, it } from "vitest";
import {
  type CurrentState,
  countChanges,
  type IngressRule,
  plan,
  planToJson,
  renderPlan,
  validateRoutes,
} from "../src/index.js";

const tunnelId = "6c1f3c1e-1111-4222-8333-444455556666";
const target = `${tunnelId}.cfargotunnel.com`;

function current(overrides: Partial<CurrentState> = {}): CurrentState {
  return {
    accountId: "acc",
    zone: { id: "zone-1", name: "example.com" },
    tunnel: { id: tunnelId, name: "homelab" },
    tunnelName: "homelab",
    ingress: [
      { hostname: "keep.example.com", service: "http://keep:80" },
      { hostname: "old.example.com", service: "http://old:80" },
      { service: "http_status:404" },
    ],
    configVersion: 3,
    settings: {},
    dnsRecords: [
      record("r-old", "old.example.com", "CNAME", target, "managed by cf-tunnel"),
      record("r-keep", "keep.example.com", "CNAME", target, "managed by cf-tunnel"),
      record("r-mail", "mail.example.com", "A", "203.0.113.5", null),
    ],
    accessApps: [],
    accessPolicies: [],
    ...overrides,
  };
}

function record(id: string, name: string, type: string, content: string, comment: string | null) {
  const pointsAtTunnel = type === "CNAME" && content === target;
  return {
    id,
    name,
    type,
    content,
    proxied: true,
    ttl: 1,
    comment,
    pointsAtTunnel,
    owned: pointsAtTunnel && comment !== null,
  };
}

const desired = validateRoutes({
  zone: "example.com",
  routes: [
    { hostname: "keep.example.com", service: "http://keep:80", public: true },
    { hostname: "new.example.com", service: "http://new:80", access: { emails: ["me@example.org"] } },
    { hostname: "mail.example.com", service: "http://mail:80", public: true },
  ],
});

describe("plan", () => {
  it("lists conflicts, creates, deletes and staged ingress when the zone holds foreign and stale records", ({
    expect,
  }) => {
    const p = plan(current(), desired);
    expect(p.conflicts.map((c) => [c.kind, c.hostname])).toEqual([["dns", "mail.example.com"]]);
    expect(p.dns.create.map((c) => c.name)).toEqual(["new.example.com"]);
    expect(p.dns.delete.map((d) => d.id)).toEqual(["r-old"]);
    expect(p.ingress.staged.map((r) => r.hostname ?? "*")).toEqual([
      "keep.example.com",
      "mail.example.com",
      "new.example.com",
      "old.example.com",
      "*",
    ]);
    expect(p.ingress.desired.map((r) => r.hostname ?? "*")).toEqual([
      "keep.example.com",
      "mail.example.com",
      "new.example.com",
      "*",
    ]);
    expect(p.access.createApps.map((a) => a.name)).toEqual(["cf-tunnel:homelab:new.example.com"]);
    expect(p.access.createPolicies).toHaveLength(1);
  });

  it("reports no changes when current already matches", ({ expect }) => {
    const same = validateRoutes({
      zone: "example.com",
      routes: [
        { hostname: "old.example.com", service: "http://old:80", public: true },
        { hostname: "keep.example.com", service: "http://keep:80", public: true },
      ],
    });
    const p = plan(current({ dnsRecords: current().dnsRecords.slice(0, 2) }), same);
    expect(p.hasChanges).toBe(false);
    expect(p.conflicts).toEqual([]);
  });

  it("counts the changes; an ingress rewrite that changes no rule (their order) counts as one", ({
    expect,
  }) => {
    expect(countChanges(plan(current(), desired))).toBe(7);
    const same = validateRoutes({
      zone: "example.com",
      routes: [
        { hostname: "old.example.com", service: "http://old:80", public: true },
        { hostname: "keep.example.com", service: "http://keep:80", public: true },
      ],
    });
    const records = current().dnsRecords.slice(0, 2);
    expect(countChanges(plan(current({ dnsRecords: records }), same))).toBe(0);
    const [keep, old, catchAll] = current().ingress as [IngressRule, IngressRule, IngressRule];
    const reordered = plan(current({ dnsRecords: records, ingress: [old, keep, catchAll] }), same);
    expect([reordered.hasChanges, countChanges(reordered)]).toEqual([true, 1]);
  });

  it("plans a drift fix when our record lost its proxy flag", ({ expect }) => {
    const base = current();
    const drifted = current({
      dnsRecords: base.dnsRecords.map((r) => (r.id === "r-keep" ? { ...r, proxied: false } : r)),
    });
    const p = plan(
      drifted,
      validateRoutes({
        zone: "example.com",
        routes: [{ hostname: "keep.example.com", service: "http://keep:80", public: true }],
      }),
    );
    expect(p.dns.update.map((u) => [u.id, u.reason, u.proxied])).toEqual([["r-keep", "drift", true]]);
  });
});

describe("renderPlan", () => {
  it("renders conflicts first and one line per change when the plan has both", ({ expect }) => {
    expect(renderPlan(plan(current(), desired))).toMatchInlineSnapshot(`
      "Tunnel homelab (6c1f3c1e-1111-4222-8333-444455556666), zone example.com

      Conflicts (1); nothing will be changed until they are resolved:
        ! mail.example.com: an A record mail.example.com -> 203.0.113.5 exists and is not managed by cf-tunnel; set adopt: true on routes[2] to take it over

      Access:
        + policy cf-tunnel:allow:c430fc4f7691 (allow, 1 rule(s))
        + application new.example.com

      Ingress:
        + mail.example.com -> http://mail:80
        + new.example.com -> http://new:80
        - old.example.com

      DNS:
        + CNAME new.example.com -> 6c1f3c1e-1111-4222-8333-444455556666.cfargotunnel.com
        - CNAME old.example.com -> 6c1f3c1e-1111-4222-8333-444455556666.cfargotunnel.com (route removed)

      7 change(s), 1 conflict(s).
      "
    `);
  });
});

describe("planToJson", () => {
  it("serialises the plan as data that parses back to the same plan when converted", ({ expect }) => {
    const p = plan(current(), desired);
    expect(JSON.parse(planToJson(p))).toEqual(p);
  });
});
