import { http } from "msw";
import { describe, it } from "vitest";
import { type CfTunnelError, DNS_COMMENT_MARKER, type RouteInput, reconcile } from "../src/index.js";
import { CLOUDFLARE_API_BASE_URL } from "../src/testing/index.js";
import { server } from "./setup.js";
import { ACCOUNT, routes, setup, TUNNEL, ZONE } from "./support.js";

async function failure(promise: Promise<unknown>): Promise<CfTunnelError> {
  try {
    await promise;
  } catch (error) {
    return error as CfTunnelError;
  }
  throw new Error("expected a rejection");
}

describe("reconcile", () => {
  it("reports a foreign record as a conflict before any change when a route wants its name", async ({
    expect,
  }) => {
    const { emulator, base } = setup();
    emulator.state.seedDnsRecord({ zone: ZONE, name: "app-1", type: "A", content: "203.0.113.7" });
    const error = await failure(reconcile({ ...base, routes: routes(2) }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain(`app-1.${ZONE}`);
    expect(error.message).toContain("adopt: true");
    expect(emulator.requestLog.filter((e) => e.method !== "GET")).toEqual([]);
    expect(emulator.state.tunnels()).toEqual([]);
    expect(emulator.state.dnsRecords(ZONE).map((r) => [r.type, r.content])).toEqual([["A", "203.0.113.7"]]);
  });

  it("reports a conflict on an existing tunnel's reconcile without writing when a foreign CNAME appears", async ({
    expect,
  }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(1) });
    emulator.state.seedDnsRecord({
      zone: ZONE,
      name: "app-1",
      type: "CNAME",
      content: "elsewhere.example.net",
    });
    const m = mark();
    const error = await failure(reconcile({ ...base, routes: routes(2) }));
    expect(error.code).toBe("CONFLICT");
    expect(since(m).filter((e) => e.method !== "GET")).toEqual([]);
    const details = error.details as { conflicts: { hostname: string; kind: string }[] };
    expect(details.conflicts.map((c) => [c.kind, c.hostname])).toEqual([["dns", `app-1.${ZONE}`]]);
  });

  it("takes the record over when the route says adopt: true", async ({ expect }) => {
    const { emulator, base } = setup();
    const foreign = emulator.state.seedDnsRecord({
      zone: ZONE,
      name: "app-0",
      type: "CNAME",
      content: "old.example.net",
    });
    emulator.state.seedDnsRecord({ zone: ZONE, name: "app-1", type: "A", content: "203.0.113.7" });
    emulator.state.seedDnsRecord({ zone: ZONE, name: "app-1", type: "A", content: "203.0.113.8" });
    const result = await reconcile({ ...base, routes: routes(2, { adopt: true }) });
    expect(result.plan.dns.update.map((u) => [u.name, u.reason])).toEqual([[`app-0.${ZONE}`, "adopt"]]);
    const tunnelId = result.tunnel.id;
    const records = emulator.state.dnsRecords(ZONE);
    expect(records.map((r) => [r.name, r.type, r.content, r.comment]).sort()).toEqual([
      [`app-0.${ZONE}`, "CNAME", `${tunnelId}.cfargotunnel.com`, DNS_COMMENT_MARKER],
      [`app-1.${ZONE}`, "CNAME", `${tunnelId}.cfargotunnel.com`, DNS_COMMENT_MARKER],
    ]);
    expect(records.find((r) => r.name === `app-0.${ZONE}`)?.id).toBe(foreign.id);
  });

  it("never deletes foreign records when routes are removed, even ones pointing at the tunnel", async ({
    expect,
  }) => {
    const { emulator, base } = setup();
    const first = await reconcile({ ...base, routes: routes(1) });
    emulator.state.seedDnsRecord({ zone: ZONE, name: "unrelated", type: "A", content: "203.0.113.9" });
    emulator.state.seedDnsRecord({
      zone: ZONE,
      name: "handmade",
      type: "CNAME",
      content: `${first.tunnel.id}.cfargotunnel.com`,
      proxied: true,
    });
    const result = await reconcile({ ...base, routes: [] });
    expect(
      emulator.state
        .dnsRecords(ZONE)
        .map((r) => r.name)
        .sort(),
    ).toEqual([`handmade.${ZONE}`, `unrelated.${ZONE}`]);
    expect(result.plan.dns.delete.map((d) => d.name)).toEqual([`app-0.${ZONE}`]);
    expect(emulator.state.tunnel(TUNNEL)?.config?.ingress).toEqual([{ service: "http_status:404" }]);
  });

  it("reports a foreign Access application on a protected hostname as a conflict unless adopted", async ({
    expect,
  }) => {
    const { emulator, base, client } = setup();
    const policy = await client.zeroTrust.access.policies.create({
      account_id: ACCOUNT,
      name: "team",
      decision: "allow",
      include: [{ everyone: {} }],
    });
    await client.zeroTrust.access.applications.create({
      account_id: ACCOUNT,
      type: "self_hosted",
      domain: `app-0.${ZONE}`,
      name: "hand made",
      policies: [{ id: policy.id as string, precedence: 1 }],
    } as never);
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain('Access application "hand made"');
    const adopted = await reconcile({ ...base, routes: routes(1, { adopt: true }) });
    expect(adopted.plan.access.updateApps.map((a) => a.reason)).toEqual(["adopt"]);
    expect(emulator.state.accessApps().map((a) => a.name)).toEqual([`cf-tunnel:${TUNNEL}:app-0.${ZONE}`]);
    // The user's own policy is not ours: it is left alone.
    expect(emulator.state.accessPolicies().map((p) => p.name)).toContain("team");
  });
});

describe("reconcile", () => {
  it("refuses an unprotected route before sending any request when access is missing", async ({ expect }) => {
    const { emulator, base } = setup();
    const error = await failure(
      reconcile({ ...base, routes: [{ hostname: `admin.${ZONE}`, service: "http://admin:80" }] }),
    );
    expect(error.code).toBe("UNPROTECTED_ROUTE");
    expect(emulator.requestLog).toEqual([]);
  });

  it("writes no ingress or DNS when creating the Access application is forbidden", async ({ expect }) => {
    const { emulator, base } = setup();
    emulator.faults({ operation: "access.apps.create", status: 403 });
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("Access: Apps and Policies Write");
    expect(error.message).not.toContain("test-token");
    expect(emulator.state.dnsRecords(ZONE)).toEqual([]);
    expect(emulator.state.tunnel(TUNNEL)?.config).toBeNull();
  });

  it("names the DNS permission when the token may not write DNS", async ({ expect }) => {
    const { emulator, base } = setup();
    emulator.faults({ operation: "dns.batch", status: 403 });
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain('"DNS Write"');
    expect(error.details).toMatchObject({ status: 403, permission: "DNS Write" });
  });

  it("names the tunnel permission when the token is rejected with 401", async ({ expect }) => {
    const { emulator, base } = setup();
    emulator.faults({ operation: "tunnels.list", status: 401 });
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("401");
    expect(error.message).toContain("cloudflared Read");
  });
});

describe("reconcile", () => {
  it("converges with no duplicate and no lost record when 429 and 500 storms hit every write", async ({
    expect,
  }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults([
      { operation: /list$/, status: 429, retryAfter: 2, times: 3 },
      { operation: "tunnels.create", status: 500, afterCommit: true, times: 1 },
      { operation: "tunnels.list", status: 502, times: 2 },
      { operation: "access.policies.create", status: 500, afterCommit: true, times: 1 },
      { operation: "access.apps.create", status: 503, afterCommit: true, times: 2 },
      { operation: "access.apps.create", status: 429, retryAfter: 1, times: 2 },
      { operation: "tunnels.configurations.update", status: 500, times: 3 },
      { operation: "dns.batch", status: 500, afterCommit: true, times: 1 },
      { operation: "dns.batch", status: 429, retryAfter: 5, times: 2 },
    ]);
    const result = await reconcile({ ...base, routes: routes(12), batchSize: 5 });
    expect(result.applied).toBe(true);
    expect(emulator.state.tunnels()).toHaveLength(1);
    const names = emulator.state.dnsRecords(ZONE).map((r) => r.name);
    expect(names).toHaveLength(12);
    expect(new Set(names).size).toBe(12);
    expect(emulator.state.accessApps()).toHaveLength(12);
    expect(emulator.state.accessPolicies()).toHaveLength(1);
    expect(sleeps).toContain(2000);
    expect(sleeps).toContain(5000);
    const faulted = emulator.requestLog.filter((e) => e.fault !== undefined);
    expect(faulted.length).toBeGreaterThanOrEqual(15);
    emulator.clearFaults();
    const again = await reconcile({ ...base, routes: routes(12) });
    expect(again.plan.hasChanges).toBe(false);
  });

  it("waits as long as Retry-After says and gives up with RATE_LIMITED when 429s never stop", async ({
    expect,
  }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults({
      operation: "tunnels.list",
      status: 429,
      retryAfter: 120,
      times: Number.POSITIVE_INFINITY,
    });
    const error = await failure(
      reconcile({ ...base, routes: routes(1), retry: { ...base.retry, retries: 2 } }),
    );
    expect(error.code).toBe("RATE_LIMITED");
    expect(sleeps).toEqual([120_000, 120_000]);
    expect(emulator.requestLog).toHaveLength(3);
  });

  it("backs off exponentially with a cap when 5xx repeat", async ({ expect }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults({ operation: "zones.list", status: 500, times: 6 });
    await reconcile({ ...base, routes: routes(1) });
    expect(sleeps.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });
});

describe("reconcile", () => {
  it("finishes the work when the previous run died after Access and ingress", async ({ expect }) => {
    const { emulator, base } = setup();
    emulator.faults({ operation: "dns.batch", status: 500, times: Number.POSITIVE_INFINITY });
    const error = await failure(
      reconcile({ ...base, routes: routes(3), retry: { ...base.retry, retries: 1 } }),
    );
    expect(error.code).toBe("API_ERROR");
    expect(emulator.state.accessApps()).toHaveLength(3);
    expect(emulator.state.tunnel(TUNNEL)?.config?.ingress).toHaveLength(4);
    expect(emulator.state.dnsRecords(ZONE)).toEqual([]);
    emulator.clearFaults();
    const resumed = await reconcile({ ...base, routes: routes(3) });
    expect(resumed.plan.access.createApps).toEqual([]);
    expect(resumed.plan.ingress.add).toEqual([]);
    expect(resumed.plan.dns.create).toHaveLength(3);
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(3);
    expect(emulator.state.accessApps()).toHaveLength(3);
  });

  it("removes the lingering ingress rule when a removal stopped after deleting DNS", async ({ expect }) => {
    const { emulator, base, mark, since } = setup();
    await reconcile({ ...base, routes: routes(2) });
    emulator.faults({
      operation: "tunnels.configurations.update",
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const error = await failure(
      reconcile({ ...base, routes: routes(1), retry: { ...base.retry, retries: 0 } }),
    );
    expect(error.code).toBe("API_ERROR");
    expect(emulator.state.dnsRecords(ZONE).map((r) => r.name)).toEqual([`app-0.${ZONE}`]);
    expect(emulator.state.tunnel(TUNNEL)?.config?.ingress).toHaveLength(3);
    expect(emulator.state.accessApps()).toHaveLength(2);
    emulator.clearFaults();
    const m = mark();
    await reconcile({ ...base, routes: routes(1) });
    expect(
      since(m)
        .filter((e) => e.method !== "GET")
        .map((e) => e.operation),
    ).toEqual(["tunnels.configurations.update", "access.apps.delete"]);
    expect(emulator.state.tunnel(TUNNEL)?.config?.ingress).toHaveLength(2);
    expect(emulator.state.accessApps()).toHaveLength(1);
  });

  it("stops with ABORTED when the signal aborts and a later run completes", async ({ expect }) => {
    const { emulator, base } = setup();
    const controller = new AbortController();
    const onProgress = (event: { type: string }) => {
      if (event.type === "ingress.updated") controller.abort();
    };
    const error = await failure(
      reconcile({ ...base, routes: routes(2), signal: controller.signal, onProgress }),
    );
    expect(error.code).toBe("ABORTED");
    expect(emulator.state.dnsRecords(ZONE)).toEqual([]);
    await reconcile({ ...base, routes: routes(2) });
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(2);
  });
});

describe("reconcile", () => {
  it("rejects an unprotected route among valid ones naming its index", async ({ expect }) => {
    const { base } = setup();
    const list: RouteInput[] = [...routes(2), { hostname: `x.${ZONE}`, service: "http://x:80" }];
    const error = await failure(reconcile({ ...base, routes: list }));
    expect(error.details?.field).toBe("routes[2].access");
  });
});

describe("reconcile", () => {
  it("treats an 'already exists' batch answer as success when the records are ours", async ({ expect }) => {
    const { emulator, base } = setup();
    // A replayed batch: the first copy lands, the second one answers 81053.
    server.use(
      http.post(
        `${CLOUDFLARE_API_BASE_URL}/zones/:zone/dns_records/batch`,
        async ({ request }) => {
          await emulator.handle(request.clone());
          return emulator.handle(request);
        },
        { once: true },
      ),
    );
    const result = await reconcile({ ...base, routes: routes(2) });
    expect(result.applied).toBe(true);
    const batches = emulator.requestLog.filter((e) => e.operation === "dns.batch");
    expect(batches.map((b) => b.status)).toEqual([200, 400]);
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(2);
  });

  it("still fails when the existing record is foreign", async ({ expect }) => {
    const { emulator, base } = setup();
    server.use(
      http.post(
        `${CLOUDFLARE_API_BASE_URL}/zones/:zone/dns_records/batch`,
        async ({ request }) => {
          emulator.state.seedDnsRecord({ zone: ZONE, name: "app-0", type: "A", content: "203.0.113.1" });
          return emulator.handle(request);
        },
        { once: true },
      ),
    );
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("API_ERROR");
    expect(error.details?.errors).toEqual([{ code: 81053, message: expect.any(String) }]);
  });

  it("refuses to manage the tunnel when it is locally managed", async ({ expect }) => {
    const { emulator, base } = setup();
    emulator.state.seedTunnel({ name: TUNNEL, configSrc: "local" });
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain("locally managed");
  });
});

describe("reconcile", () => {
  it("restores our policy's rules when someone widened them by hand", async ({ expect }) => {
    const { emulator, base, client, mark, since } = setup();
    await reconcile({ ...base, routes: routes(1) });
    const [policy] = emulator.state.accessPolicies();
    await client.zeroTrust.access.policies.update(policy?.id as string, {
      account_id: ACCOUNT,
      name: policy?.name as string,
      decision: "allow",
      include: [{ everyone: {} }],
    });
    const m = mark();
    const result = await reconcile({ ...base, routes: routes(1) });
    expect(result.plan.access.updatePolicies.map((p) => p.id)).toEqual([policy?.id]);
    expect(
      since(m)
        .filter((e) => e.method !== "GET")
        .map((e) => e.operation),
    ).toEqual(["access.policies.update"]);
    expect(emulator.state.accessPolicies()[0]?.include).toEqual([{ email: { email: "me@example.org" } }]);
  });
});

describe("reconcile", () => {
  it("stops with ABORTED during a backoff when the signal aborts", async ({ expect }) => {
    const { emulator, base } = setup();
    emulator.faults({ operation: "tunnels.list", status: 503, times: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(
      reconcile({ ...base, routes: routes(1), retry: { baseDelayMs: 10_000 }, signal: controller.signal }),
    );
    expect(error.code).toBe("ABORTED");
  });
});
