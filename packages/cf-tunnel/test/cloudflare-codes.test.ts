import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import {
  accessAppName,
  audit,
  type CfTunnelError,
  ensureTunnel,
  plan,
  readCurrent,
  reconcile,
  validateRoutes,
} from "../src/index.js";
import { CLOUDFLARE_ERROR_CODES } from "../src/testing/codes.js";
import { ACCOUNT, routes, setup, TUNNEL, ZONE } from "./support.js";

async function failure(promise: Promise<unknown>): Promise<CfTunnelError> {
  try {
    await promise;
  } catch (error) {
    return error as CfTunnelError;
  }
  throw new Error("expected a failure");
}

interface SdkError {
  status: number;
  errors: { code: number; message: string }[];
}

async function sdkFailure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error("expected the API to refuse");
}

describe("emulator error codes", () => {
  it("answers 409 code 11010 when a second application covers a host by domain, destinations or self_hosted_domains", async ({
    expect,
  }) => {
    const { client } = setup();
    await client.zeroTrust.access.applications.create({
      account_id: ACCOUNT,
      type: "self_hosted",
      name: "first",
      domain: `a.${ZONE}`,
      destinations: [{ type: "public", uri: `b.${ZONE}` }],
      self_hosted_domains: [`c.${ZONE}`],
    });
    for (const host of ["a", "b", "c"]) {
      const error = await sdkFailure(
        client.zeroTrust.access.applications.create({
          account_id: ACCOUNT,
          type: "self_hosted",
          name: `second-${host}`,
          domain: `other-${host}.${ZONE}`,
          destinations: [{ type: "public", uri: `${host}.${ZONE}` }],
        }),
      );
      expect(error.status).toBe(409);
      expect(error.errors.map((e) => e.code)).toEqual([11010]);
    }
  });

  it("counts a zone-scoped application when another covers the same host", async ({ expect }) => {
    const { client, emulator } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    await client.zeroTrust.access.applications.create({
      zone_id: zoneId,
      type: "self_hosted",
      name: "zone app",
      domain: `z.${ZONE}`,
    });
    const error = await sdkFailure(
      client.zeroTrust.access.applications.create({
        account_id: ACCOUNT,
        type: "self_hosted",
        name: "account app",
        domain: `z.${ZONE}`,
      }),
    );
    expect(error.errors.map((e) => e.code)).toEqual([11010]);
    const listed = await client.zeroTrust.access.applications.list({ zone_id: zoneId });
    expect(listed.result.map((a) => (a as { name?: string }).name)).toEqual(["zone app"]);
  });

  it("answers the API's 429 with code 971", async ({ expect }) => {
    const { emulator, client } = setup();
    emulator.faults({ operation: "zones.list", status: 429, retryAfter: 1 });
    const error = await sdkFailure(client.zones.list({ name: ZONE }));
    expect(error.status).toBe(429);
    expect(error.errors.map((e) => e.code)).toEqual([971]);
  });

  it("refuses an ingress service with a path, even '/', as cloudflared's validateIngress does", async ({
    expect,
  }) => {
    const { client } = setup();
    const tunnel = await client.zeroTrust.tunnels.cloudflared.create({
      account_id: ACCOUNT,
      name: "t",
      config_src: "cloudflare",
    });
    const put = (service: string) =>
      client.zeroTrust.tunnels.cloudflared.configurations.update(tunnel.id as string, {
        account_id: ACCOUNT,
        config: {
          ingress: [
            { hostname: `a.${ZONE}`, service },
            { hostname: "", service: "http_status:404" },
          ],
        },
      });
    for (const service of ["http://web:80/api", "http://web:80/", "https://web/x?y=1", "web:80"]) {
      const error = await sdkFailure(put(service));
      expect(error.status, service).toBe(400);
    }
    for (const service of ["http://web:80", "tcp://db:5432", "http_status:404", "unix:/run/s.sock"]) {
      await expect(put(service)).resolves.toBeDefined();
    }
  });

  it("refuses a CNAME beside any record at its name, and any record beside a CNAME", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    emulator.state.seedDnsRecord({ zone: ZONE, name: `txt.${ZONE}`, type: "TXT", content: "hello" });
    emulator.state.seedDnsRecord({
      zone: ZONE,
      name: `cname.${ZONE}`,
      type: "CNAME",
      content: "x.example.net",
    });
    const cname = await sdkFailure(
      client.dns.records.create({
        zone_id: zoneId,
        name: `txt.${ZONE}`,
        type: "CNAME",
        content: "y.example.net",
        ttl: 1,
      }),
    );
    expect(cname.errors.map((e) => e.code)).toEqual([81057]);
    const txt = await sdkFailure(
      client.dns.records.create({
        zone_id: zoneId,
        name: `cname.${ZONE}`,
        type: "TXT",
        content: "v=1",
        ttl: 1,
      }),
    );
    expect(txt.errors.map((e) => e.code)).toEqual([81054]);
  });

  it("lists where every code comes from, and the library branches only on known codes", async ({
    expect,
  }) => {
    for (const [code, row] of Object.entries(CLOUDFLARE_ERROR_CODES)) {
      expect(row.source, code).not.toBe("");
      expect(row.known || row.source.startsWith("unknown"), code).toBe(true);
    }
    const src = join(import.meta.dirname, "../src");
    const used = readdirSync(src)
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [...readFileSync(join(src, f), "utf8").matchAll(/alreadyExistsCodes: \[([^\]]*)\]/g)])
      .flatMap((m) => (m[1] ?? "").split(",").map((c) => Number(c.trim())));
    expect(used.length).toBeGreaterThan(0);
    for (const code of used) {
      const row = CLOUDFLARE_ERROR_CODES[code as keyof typeof CLOUDFLARE_ERROR_CODES];
      expect(row?.known, `library relies on ${code}`).toBe(true);
    }
  });
});

describe("Access applications that already cover a host", () => {
  it("finishes the apply when another run created our application between plan and apply (409 11010)", async ({
    expect,
  }) => {
    const { emulator, base } = setup();
    const tunnel = await ensureTunnel({ ...base, name: TUNNEL });
    const desired = validateRoutes({ zone: ZONE, routes: routes(1) });
    const stale = plan(await readCurrent({ ...base, tunnel: { id: tunnel.id, name: tunnel.name } }), desired);
    await reconcile({ ...base, routes: routes(1) });
    const { applyPlan } = await import("../src/index.js");
    await applyPlan({ ...base, plan: stale });
    expect(emulator.state.accessApps().map((a) => a.name)).toEqual([accessAppName(TUNNEL, `app-0.${ZONE}`)]);
    expect(emulator.state.dnsRecords(ZONE)).toHaveLength(1);
  });

  for (const [how, body] of [
    [
      "destinations",
      { domain: `elsewhere.${ZONE}`, destinations: [{ type: "public", uri: `app-0.${ZONE}` }] },
    ],
    ["self_hosted_domains", { domain: `elsewhere.${ZONE}`, self_hosted_domains: [`app-0.${ZONE}`] }],
    ["a path of the host", { domain: `app-0.${ZONE}/admin` }],
  ] as const) {
    it(`reports a foreign application covering the host through ${how} as a conflict before any write`, async ({
      expect,
    }) => {
      const { client, base, writes } = setup();
      await client.zeroTrust.access.applications.create({
        account_id: ACCOUNT,
        type: "self_hosted",
        name: "hand made",
        ...body,
      });
      const before = writes().length;
      const error = await failure(reconcile({ ...base, routes: routes(1) }));
      expect(error.code).toBe("CONFLICT");
      expect(error.message).toContain('"hand made"');
      expect(writes().length).toBe(before);
    });
  }

  it("reports a zone-scoped foreign application as a conflict and audits the host as covered", async ({
    expect,
  }) => {
    const { client, base, emulator, writes } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    await client.zeroTrust.access.applications.create({
      zone_id: zoneId,
      type: "self_hosted",
      name: "zone app",
      domain: `app-0.${ZONE}`,
    });
    const before = writes().length;
    const error = await failure(reconcile({ ...base, routes: routes(1) }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain('"zone app"');
    expect(writes().length).toBe(before);

    const tunnel = await ensureTunnel({ ...base, name: TUNNEL });
    await client.zeroTrust.tunnels.cloudflared.configurations.update(tunnel.id, {
      account_id: ACCOUNT,
      config: {
        ingress: [
          { hostname: `app-0.${ZONE}`, service: "http://a:80" },
          { hostname: "", service: "http_status:404" },
        ],
      },
    });
    const report = await audit({ ...base, tunnelId: tunnel.id });
    expect(report.withoutAccess).toEqual([]);
  });

  it("sees a foreign wildcard application as a warning, not a conflict", async ({ expect }) => {
    const { client, base } = setup();
    await client.zeroTrust.access.applications.create({
      account_id: ACCOUNT,
      type: "self_hosted",
      name: "everything",
      domain: `*.${ZONE}`,
    });
    const result = await reconcile({ ...base, routes: routes(1), dryRun: true });
    expect(result.plan.conflicts).toEqual([]);
    expect(result.plan.warnings.join("\n")).toContain('"everything"');
  });
});

describe("rate limits", () => {
  it("honours a 5-minute Retry-After without a cap and reports the wait while waiting", async ({
    expect,
  }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults({ operation: "tunnels.list", status: 429, retryAfter: 300 });
    const events: { type: string; delayMs?: unknown; message: string }[] = [];
    const seenWhileWaiting: number[] = [];
    const result = await reconcile({
      ...base,
      routes: routes(1),
      onProgress: (e) => events.push(e),
      retry: {
        ...base.retry,
        sleep: async (ms) => {
          sleeps.push(ms);
          seenWhileWaiting.push(events.filter((e) => e.type === "retry").length);
        },
      },
    });
    expect(result.applied).toBe(true);
    expect(sleeps).toEqual([300_000]);
    expect(seenWhileWaiting).toEqual([1]);
    const retry = events.find((e) => e.type === "retry");
    expect(retry?.delayMs).toBe(300_000);
    expect(retry?.message).toContain("rate limited (429)");
    expect(retry?.message).toContain("300 s");
  });

  it("adds jitter on top of Retry-After, never below it", async ({ expect }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults({ operation: "tunnels.list", status: 429, retryAfter: 10, times: 2 });
    let n = 0;
    await reconcile({
      ...base,
      routes: routes(1),
      retry: { ...base.retry, random: () => [0.999, 0.5][n++] ?? 0 },
    });
    expect(sleeps).toEqual([10_999, 10_500]);
  });

  it("fails at once with RATE_LIMITED when the wait exceeds the caller's budget", async ({ expect }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults({
      operation: "tunnels.list",
      status: 429,
      retryAfter: 300,
      times: Number.POSITIVE_INFINITY,
    });
    const error = await failure(
      reconcile({ ...base, routes: routes(1), retry: { ...base.retry, budgetMs: 60_000 } }),
    );
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.message).toContain("300 s");
    expect(error.message).toContain("retry budget");
    expect(sleeps).toEqual([]);
    expect(emulator.requestLog).toHaveLength(1);
  });

  it("spends the budget across calls: the second 5-minute block of one run is refused", async ({
    expect,
  }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults([
      { operation: "tunnels.list", status: 429, retryAfter: 300 },
      { operation: "zones.list", status: 429, retryAfter: 300 },
    ]);
    const error = await failure(
      reconcile({ ...base, routes: routes(1), retry: { ...base.retry, budgetMs: 400_000 } }),
    );
    expect(error.code).toBe("RATE_LIMITED");
    expect(sleeps).toEqual([300_000]);
  });

  it("emits one line per burst when parallel reads are rate limited together, and pauses the others", async ({
    expect,
  }) => {
    const { emulator, base } = setup();
    const tunnel = await ensureTunnel({ ...base, name: TUNNEL });
    emulator.faults({
      operation: /^(dns|access\.apps|access\.policies)\.list$/,
      status: 429,
      retryAfter: 2,
      times: 3,
    });
    const events: string[] = [];
    const sleeps: number[] = [];
    await readCurrent({
      ...base,
      tunnel: { id: tunnel.id, name: tunnel.name },
      onProgress: (e) => events.push(e.type),
      retry: {
        random: () => 0,
        // Resolve once all three parallel lists have been answered 429, so the burst is really shared.
        sleep: async (ms) => {
          sleeps.push(ms);
          while (emulator.requestLog.filter((e) => e.status === 429).length < 3) {
            await new Promise((resolve) => setImmediate(resolve));
          }
        },
      },
    });
    expect(events.filter((t) => t === "retry")).toHaveLength(1);
    expect(sleeps).toEqual([2000]);
  });

  it("does not retry a 409", async ({ expect }) => {
    const { emulator, base, sleeps } = setup();
    emulator.faults({ operation: "tunnels.create", status: 409 });
    const error = await failure(ensureTunnel({ ...base, name: TUNNEL }));
    expect(error.code).toBe("CONFLICT");
    expect(sleeps).toEqual([]);
    expect(emulator.requestLog.filter((e) => e.operation === "tunnels.create")).toHaveLength(1);
  });
});

describe("tunnel configuration", () => {
  it("keeps top-level originRequest and warp-routing set outside cf-tunnel when it writes the ingress", async ({
    expect,
  }) => {
    const { emulator, base, client } = setup();
    const tunnel = await ensureTunnel({ ...base, name: TUNNEL });
    // The SDK's Config type lacks `warp-routing`; the dashboard sets it all the same.
    const dashboard = {
      ingress: [{ hostname: "", service: "http_status:404" }],
      originRequest: { connectTimeout: 15, noTLSVerify: true },
      "warp-routing": { enabled: true },
    };
    await client.zeroTrust.tunnels.cloudflared.configurations.update(tunnel.id, {
      account_id: ACCOUNT,
      config: dashboard,
    });
    await reconcile({ ...base, routes: routes(2) });
    const config = emulator.state.tunnel(TUNNEL)?.config as Record<string, unknown>;
    expect(config.originRequest).toEqual({ connectTimeout: 15, noTLSVerify: true });
    expect(config["warp-routing"]).toEqual({ enabled: true });
    expect(config.ingress).toHaveLength(3);
  });
});
