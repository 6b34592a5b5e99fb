import { describe, it } from "vitest";
import { DNS_COMMENT_MARKER, type RouteInput, readCurrent, reconcile, renderPlan } from "../src/index.js";
import type { RequestLogEntry } from "../src/testing/index.js";
import { routes, setup, TUNNEL, ZONE } from "./support.js";

describe("reconcile", () => {
  it("creates the tunnel, Access, ingress and DNS when nothing exists", async ({ expect }) => {
    const { emulator, base } = setup();
    const result = await reconcile({ ...base, routes: routes(3) });
    expect(result.applied).toBe(true);
    expect(result.tunnel.created).toBe(true);
    const tunnel = emulator.state.tunnel("homelab");
    expect(tunnel?.configSrc).toBe("cloudflare");
    expect(tunnel?.config?.ingress).toEqual([
      { hostname: `app-0.${ZONE}`, service: "http://app-0.apps.svc.cluster.local:80" },
      { hostname: `app-1.${ZONE}`, service: "http://app-1.apps.svc.cluster.local:80" },
      { hostname: `app-2.${ZONE}`, service: "http://app-2.apps.svc.cluster.local:80" },
      { service: "http_status:404" },
    ]);
    const records = emulator.state.dnsRecords(ZONE);
    expect(records.map((r) => [r.name, r.type, r.content, r.proxied, r.comment])).toEqual(
      [0, 1, 2].map((i) => [
        `app-${i}.${ZONE}`,
        "CNAME",
        `${tunnel?.id}.cfargotunnel.com`,
        true,
        DNS_COMMENT_MARKER,
      ]),
    );
    expect(
      emulator.state
        .accessApps()
        .map((a) => a.domain)
        .sort(),
    ).toEqual([0, 1, 2].map((i) => `app-${i}.${ZONE}`));
    expect(emulator.state.accessPolicies()).toHaveLength(1);
    expect(renderPlan(result.plan)).toContain("+ CNAME app-0.example.com");
  });

  it("makes no writes when run again with the same routes", async ({ expect }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(5) });
    const m = mark();
    const again = await reconcile({ ...base, routes: routes(5) });
    expect(again.applied).toBe(false);
    expect(again.plan.hasChanges).toBe(false);
    expect(since(m).filter((e) => e.method !== "GET")).toEqual([]);
    expect(renderPlan(again.plan)).toContain("No changes.");
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(5);
  });
});

type Entry = RequestLogEntry & { requestBody: Record<string, unknown> };

function ingressHosts(entry: Entry): string[] {
  const config = entry.requestBody.config as { ingress: { hostname?: string }[] };
  return config.ingress.map((r) => r.hostname ?? "*");
}

function batchNames(entry: Entry, kind: "posts" | "puts"): string[] {
  return ((entry.requestBody[kind] ?? []) as { name: string }[]).map((p) => p.name);
}

describe("reconcile", () => {
  it("creates Access, then ingress, then DNS when a protected route is added", async ({ expect }) => {
    const { base, writes } = setup();
    await reconcile({ ...base, routes: routes(1) });
    const ops = (writes() as Entry[]).filter((e) => e.operation !== "tunnels.create");
    expect(ops.map((e) => e.operation)).toEqual([
      "access.policies.create",
      "access.apps.create",
      "tunnels.configurations.update",
      "dns.batch",
    ]);
    expect(ingressHosts(ops[2] as Entry)).toEqual([`app-0.${ZONE}`, "*"]);
    expect(batchNames(ops[3] as Entry, "posts")).toEqual([`app-0.${ZONE}`]);
  });

  it("deletes DNS before the ingress rule and Access last when a route is removed", async ({ expect }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(3) });
    const m = mark();
    const result = await reconcile({ ...base, routes: routes(2) });
    expect(result.plan.ingress.remove).toEqual([`app-2.${ZONE}`]);
    const ops = since(m).filter((e) => e.method !== "GET") as Entry[];
    expect(ops.map((e) => e.operation)).toEqual([
      "dns.batch",
      "tunnels.configurations.update",
      "access.apps.delete",
    ]);
    const removed = emulator.state.dnsRecords(ZONE).map((r) => r.name);
    expect(removed).not.toContain(`app-2.${ZONE}`);
    expect(ingressHosts(ops[1] as Entry)).toEqual([`app-0.${ZONE}`, `app-1.${ZONE}`, "*"]);
    expect(
      emulator.state
        .accessApps()
        .map((a) => a.domain)
        .sort(),
    ).toEqual([`app-0.${ZONE}`, `app-1.${ZONE}`]);
    // The shared policy is still used by the remaining apps.
    expect(emulator.state.accessPolicies()).toHaveLength(1);
  });

  it("keeps the removed rule in the staged ingress while its DNS exists when routes are swapped", async ({
    expect,
  }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(2) });
    const m = mark();
    const swapped = [routes(1)[0], { ...routes(3)[2], hostname: `new.${ZONE}` }] as RouteInput[];
    await reconcile({ ...base, routes: swapped });
    const ops = since(m).filter((e) => e.method !== "GET") as Entry[];
    expect(ops.map((e) => e.operation)).toEqual([
      "access.apps.create",
      "tunnels.configurations.update",
      "dns.batch",
      "tunnels.configurations.update",
      "access.apps.delete",
    ]);
    expect(ingressHosts(ops[1] as Entry)).toEqual([`app-0.${ZONE}`, `app-1.${ZONE}`, `new.${ZONE}`, "*"]);
    const batch = ops[2] as Entry;
    expect(batchNames(batch, "posts")).toEqual([`new.${ZONE}`]);
    expect((batch.requestBody.deletes as unknown[]).length).toBe(1);
    expect(ingressHosts(ops[3] as Entry)).toEqual([`app-0.${ZONE}`, `new.${ZONE}`, "*"]);
    expect(
      emulator.state
        .dnsRecords(ZONE)
        .map((r) => r.name)
        .sort(),
    ).toEqual([`app-0.${ZONE}`, `new.${ZONE}`]);
  });

  it("only rewrites the ingress when a route's service changes", async ({ expect }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(2) });
    const m = mark();
    const changed = routes(2);
    (changed[1] as RouteInput).service = "https://app-1.apps.svc.cluster.local:443";
    (changed[1] as RouteInput).originRequest = { noTLSVerify: true };
    const result = await reconcile({ ...base, routes: changed });
    expect(result.plan.ingress.update).toEqual([`app-1.${ZONE}`]);
    expect(
      since(m)
        .filter((e) => e.method !== "GET")
        .map((e) => e.operation),
    ).toEqual(["tunnels.configurations.update"]);
    expect(emulator.state.tunnel(TUNNEL)?.config?.ingress?.[1]).toEqual({
      hostname: `app-1.${ZONE}`,
      service: "https://app-1.apps.svc.cluster.local:443",
      originRequest: { noTLSVerify: true },
    });
  });

  it("creates the new policy before updating the app and deletes the old policy last when access changes", async ({
    expect,
  }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(1) });
    const [oldPolicy] = emulator.state.accessPolicies();
    const m = mark();
    await reconcile({
      ...base,
      routes: routes(1, { access: { emailDomains: ["example.org"], serviceTokens: ["tok-1"] } }),
    });
    expect(
      since(m)
        .filter((e) => e.method !== "GET")
        .map((e) => e.operation),
    ).toEqual([
      "access.policies.create",
      "access.policies.create",
      "access.apps.update",
      "access.policies.delete",
    ]);
    const policies = emulator.state.accessPolicies();
    expect(policies.map((p) => p.decision).sort()).toEqual(["allow", "non_identity"]);
    expect(policies.some((p) => p.id === oldPolicy?.id)).toBe(false);
    expect(emulator.state.accessApps()[0]?.policies.map((p) => p.precedence)).toEqual([1, 2]);
  });

  it("removes the Access app and its policy when a protected route becomes public", async ({ expect }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(1) });
    const m = mark();
    await reconcile({
      ...base,
      routes: [
        { hostname: `app-0.${ZONE}`, service: "http://app-0.apps.svc.cluster.local:80", public: true },
      ],
    });
    expect(
      since(m)
        .filter((e) => e.method !== "GET")
        .map((e) => e.operation),
    ).toEqual(["access.apps.delete", "access.policies.delete"]);
    expect(emulator.state.accessApps()).toEqual([]);
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(1);
  });
});

describe("readCurrent", () => {
  it("reads every page when the server caps per_page below what was asked", async ({ expect }) => {
    const { emulator, base } = setup({ maxPerPage: 3 });
    await reconcile({ ...base, routes: routes(8) });
    const current = await readCurrent({ ...base });
    expect(current.dnsRecords.filter((r) => r.owned)).toHaveLength(8);
    expect(current.accessApps.filter((a) => a.owned)).toHaveLength(8);
    expect(current.ingress).toHaveLength(9);
    const dnsLists = emulator.requestLog.filter((e) => e.operation === "dns.list").slice(-3);
    expect(dnsLists.map((e) => new URLSearchParams(e.query).get("page"))).toEqual(["1", "2", "3"]);
  });
});

describe("reconcile", () => {
  it("reads the same number of times for 10 and 150 routes when nothing changed", async ({ expect }) => {
    const counts: number[] = [];
    for (const n of [10, 150]) {
      const { base, mark, since } = setup();
      await reconcile({ ...base, routes: routes(n) });
      const m = mark();
      await reconcile({ ...base, routes: routes(n) });
      const log = since(m);
      expect(log.filter((e) => e.method !== "GET")).toEqual([]);
      counts.push(log.length);
    }
    expect(counts[0]).toBe(counts[1]);
    // tunnel, zone, ingress, DNS, account Access apps, zone Access apps, policies
    expect(counts[0]).toBeLessThanOrEqual(7);
  });

  it("puts all DNS changes in batch requests chunked at the batch size when many routes are added", async ({
    expect,
  }) => {
    const { emulator, base, writes } = setup();
    await reconcile({ ...base, routes: routes(450) });
    const batches = writes().filter((e) => e.operation === "dns.batch") as Entry[];
    expect(batches.map((b) => batchNames(b, "posts").length)).toEqual([200, 200, 50]);
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(450);
  });

  it("does not write anything when dryRun is set", async ({ expect }) => {
    const { emulator, base } = setup();
    const result = await reconcile({ ...base, routes: routes(2), dryRun: true });
    expect(result.applied).toBe(false);
    expect(result.tunnel).toEqual({ id: "", name: TUNNEL, created: false });
    expect(result.plan.dns.create.map((c) => c.name)).toEqual([`app-0.${ZONE}`, `app-1.${ZONE}`]);
    expect(emulator.requestLog.filter((e) => e.method !== "GET")).toEqual([]);
    expect(renderPlan(result.plan)).toContain("homelab (to be created)");
  });
});

describe("reconcile", () => {
  it("reports progress as plain secret-free events when onProgress is given", async ({ expect }) => {
    const { base } = setup();
    const events: { type: string; message: string }[] = [];
    await reconcile({ ...base, routes: routes(2), onProgress: (e) => events.push(e) });
    expect(events.map((e) => e.type)).toEqual([
      "current.read",
      "tunnel.created",
      "plan",
      "access.policy.created",
      "access.app.created",
      "access.app.created",
      "ingress.updated",
      "dns.batch",
    ]);
    for (const e of events) expect(typeof e.message).toBe("string");
    expect(JSON.stringify(events)).not.toContain("test-token");
  });
});

describe("reconcile", () => {
  it("publishes a protected wildcard after the exact hostnames when routes mix them", async ({ expect }) => {
    const { emulator, base } = setup();
    await reconcile({
      ...base,
      routes: [
        {
          hostname: `*.${ZONE}`,
          service: "https://traefik.kube-system.svc.cluster.local:443",
          access: { groups: ["g-1"] },
          originRequest: { noTLSVerify: true },
        },
        { hostname: `app.${ZONE}`, service: "http://app:80", public: true, path: "^/api(/|$)" },
      ],
    });
    expect(
      emulator.state
        .tunnel(TUNNEL)
        ?.config?.ingress?.map((r) => (r as { hostname?: string }).hostname ?? "*"),
    ).toEqual([`app.${ZONE}`, `*.${ZONE}`, "*"]);
    expect(
      emulator.state
        .dnsRecords(ZONE)
        .map((r) => r.name)
        .sort(),
    ).toEqual([`*.${ZONE}`, `app.${ZONE}`]);
    expect(emulator.state.accessApps().map((a) => a.domain)).toEqual([`*.${ZONE}`]);
    expect(emulator.state.accessPolicies()[0]?.include).toEqual([{ group: { id: "g-1" } }]);
  });
});
