import Cloudflare from "cloudflare";
import { http, passthrough } from "msw";
import { describe, it } from "vitest";
import { createCloudflareEmulator, type RequestLogEntry } from "../src/testing/index.js";
import { createValidator } from "./openapi.js";
import { server as msw } from "./setup.js";
import { ACCOUNT, setup, ZONE } from "./support.js";

describe("createCloudflareEmulator", () => {
  it("serves the SDK over a real HTTP server on 127.0.0.1 when listen() is called", async ({ expect }) => {
    const emulator = createCloudflareEmulator({ accountId: ACCOUNT, zones: [{ name: ZONE }] });
    const server = await emulator.listen();
    msw.use(http.all(`${server.url}/*`, () => passthrough()));
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
      const client = new Cloudflare({ apiToken: "t", baseURL: server.url, maxRetries: 0 });
      const tunnel = await client.zeroTrust.tunnels.cloudflared.create({
        account_id: ACCOUNT,
        name: "lab",
        config_src: "cloudflare",
      });
      const token = await client.zeroTrust.tunnels.cloudflared.token.get(tunnel.id as string, {
        account_id: ACCOUNT,
      });
      expect(JSON.parse(Buffer.from(token, "base64").toString())).toMatchObject({ a: ACCOUNT, t: tunnel.id });
      expect(emulator.requestLog.map((e) => e.operation)).toEqual(["tunnels.create", "tunnels.token"]);
      const validator = createValidator();
      expect(emulator.requestLog.flatMap((e) => validator.validate(e))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("pages DNS records until an empty page when the SDK iterates", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    for (let i = 0; i < 7; i++) {
      emulator.state.seedDnsRecord({ zone: ZONE, name: `r${i}`, type: "A", content: `192.0.2.${i}` });
    }
    const names: string[] = [];
    for await (const r of client.dns.records.list({ zone_id: zoneId, per_page: 3 }))
      names.push(r.name as string);
    expect(names).toHaveLength(7);
    expect(emulator.requestLog.map((e) => new URLSearchParams(e.query).get("page"))).toEqual([
      null,
      "2",
      "3",
      "4",
    ]);
  });

  it("filters DNS records by name.exact and comment.startswith case-insensitively", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    emulator.state.seedDnsRecord({
      zone: ZONE,
      name: "a",
      type: "A",
      content: "192.0.2.1",
      comment: "Managed by X",
    });
    emulator.state.seedDnsRecord({ zone: ZONE, name: "b", type: "A", content: "192.0.2.2" });
    const byName = await client.dns.records.list({ zone_id: zoneId, name: { exact: `A.${ZONE}` } });
    expect(byName.result.map((r) => r.name)).toEqual([`a.${ZONE}`]);
    const byComment = await client.dns.records.list({ zone_id: zoneId, comment: { startswith: "managed" } });
    expect(byComment.result.map((r) => r.name)).toEqual([`a.${ZONE}`]);
  });

  it("refuses a CNAME beside an A record with 81053 when the name is taken", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    emulator.state.seedDnsRecord({ zone: ZONE, name: "x", type: "A", content: "192.0.2.1" });
    const error = await client.dns.records
      .create({ zone_id: zoneId, name: `x.${ZONE}`, type: "CNAME", content: "t.cfargotunnel.com", ttl: 1 })
      .catch((e: unknown) => e as { status: number; errors: { code: number }[] });
    expect(error).toMatchObject({ status: 400, errors: [{ code: 81053 }] });
  });

  it("rolls the whole batch back when one of its operations fails", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    const keep = emulator.state.seedDnsRecord({ zone: ZONE, name: "keep", type: "A", content: "192.0.2.1" });
    emulator.state.seedDnsRecord({ zone: ZONE, name: "taken", type: "A", content: "192.0.2.2" });
    const error = await client.dns.records
      .batch({
        zone_id: zoneId,
        deletes: [{ id: keep.id }],
        posts: [{ name: `taken.${ZONE}`, type: "CNAME", content: "t.cfargotunnel.com", ttl: 1 }],
      })
      .catch((e: unknown) => e as { status: number });
    expect(error).toMatchObject({ status: 400 });
    expect(
      emulator.state
        .dnsRecords(ZONE)
        .map((r) => r.name)
        .sort(),
    ).toEqual([`keep.${ZONE}`, `taken.${ZONE}`]);
  });

  it("answers 429 with Retry-After and logs the fault when a fault rule matches", async ({ expect }) => {
    const { emulator, client } = setup();
    emulator.faults({ operation: "zones.list", status: 429, retryAfter: 3 });
    const error = await client.zones
      .list({ name: ZONE })
      .catch((e: unknown) => e as { status: number; headers: Headers });
    expect(error).toMatchObject({ status: 429 });
    expect((error as { headers: Headers }).headers.get("retry-after")).toBe("3");
    const ok = await client.zones.list({ name: ZONE });
    expect(ok.result.map((z) => z.name)).toEqual([ZONE]);
    expect(emulator.requestLog.map((e) => [e.status, e.fault ?? null])).toEqual([
      [429, "status"],
      [200, null],
    ]);
  });

  it("filters tunnels by name and is_deleted when listing", async ({ expect }) => {
    const { emulator, client } = setup();
    emulator.state.seedTunnel({ name: "lab", deleted: true });
    const live = emulator.state.seedTunnel({ name: "lab" });
    const all = await client.zeroTrust.tunnels.cloudflared.list({ account_id: ACCOUNT, name: "lab" });
    expect(all.result).toHaveLength(2);
    const notDeleted = await client.zeroTrust.tunnels.cloudflared.list({
      account_id: ACCOUNT,
      name: "lab",
      is_deleted: false,
    });
    expect(notDeleted.result.map((t) => t.id)).toEqual([live.id]);
  });

  it("lists registered connectors with their origin IPs when tests add them", async ({ expect }) => {
    const { emulator, client } = setup();
    const t = emulator.state.seedTunnel({ name: "lab" });
    emulator.addConnector(t.id, { originIp: "192.168.1.10" });
    emulator.addConnector(t.id, { originIp: "192.168.1.11" });
    const page = await client.zeroTrust.tunnels.cloudflared.connections.get(t.id, { account_id: ACCOUNT });
    expect(page.result.map((c) => c.conns?.[0]?.origin_ip)).toEqual(["192.168.1.10", "192.168.1.11"]);
    const tunnel = await client.zeroTrust.tunnels.cloudflared.get(t.id, { account_id: ACCOUNT });
    expect(tunnel.status).toBe("healthy");
  });

  it("keeps connectors up across a token rotation but refuses new ones with the old token", async ({
    expect,
  }) => {
    const { emulator, client } = setup();
    const t = emulator.state.seedTunnel({ name: "lab" });
    const oldToken = await client.zeroTrust.tunnels.cloudflared.token.get(t.id, { account_id: ACCOUNT });
    const before = emulator.addConnector(t.id, { originIp: "192.168.1.10", token: oldToken });
    await client.zeroTrust.tunnels.cloudflared.edit(t.id, {
      account_id: ACCOUNT,
      tunnel_secret: Buffer.alloc(32, 7).toString("base64"),
    });
    const newToken = await client.zeroTrust.tunnels.cloudflared.token.get(t.id, { account_id: ACCOUNT });
    expect(() => emulator.addConnector(t.id, { originIp: "192.168.1.11", token: oldToken })).toThrow(
      /not the tunnel's current one/,
    );
    emulator.addConnector(t.id, { originIp: "192.168.1.11", token: newToken });
    const page = await client.zeroTrust.tunnels.cloudflared.connections.get(t.id, { account_id: ACCOUNT });
    expect(page.result.map((c) => c.conns?.[0]?.origin_ip)).toEqual(["192.168.1.10", "192.168.1.11"]);
    await client.zeroTrust.tunnels.cloudflared.connections.delete(t.id, {
      account_id: ACCOUNT,
      client_id: before.id,
    });
    expect(emulator.state.tunnel(t.id)?.connectors.map((c) => c.originIp)).toEqual(["192.168.1.11"]);
  });

  it("answers 401 with code 10000 when no token is sent", async ({ expect }) => {
    const emulator = createCloudflareEmulator({ zones: [{ name: ZONE }] });
    const response = await emulator.handle(new Request("https://api.cloudflare.com/client/v4/zones"));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      success: false,
      errors: [{ code: 10000, message: "Authentication error" }],
      messages: [],
      result: null,
    });
  });
});

describe("createCloudflareEmulator", () => {
  it("patches, replaces and deletes a record when the SDK edits it", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    const created = await client.dns.records.create({
      zone_id: zoneId,
      name: `w.${ZONE}`,
      type: "CNAME",
      content: "a.example.net",
      ttl: 1,
      proxied: true,
      comment: "first",
    });
    const patched = await client.dns.records.edit(created.id, {
      zone_id: zoneId,
      name: `w.${ZONE}`,
      type: "CNAME",
      ttl: 300,
      content: "b.example.net",
    });
    expect(patched).toMatchObject({ content: "b.example.net", ttl: 300, comment: "first", proxied: true });
    const replaced = await client.dns.records.update(created.id, {
      zone_id: zoneId,
      name: `w.${ZONE}`,
      type: "CNAME",
      ttl: 1,
      content: "c.example.net",
    });
    expect(replaced).toMatchObject({ content: "c.example.net", proxied: false });
    expect(replaced.comment).toBeUndefined();
    await client.dns.records.delete(created.id, { zone_id: zoneId });
    expect(emulator.state.dnsRecords(ZONE)).toEqual([]);
    const missing = await client.dns.records
      .delete(created.id, { zone_id: zoneId })
      .catch((e: unknown) => e as { status: number; errors: { code: number }[] });
    expect(missing).toMatchObject({ status: 404, errors: [{ code: 81044 }] });
  });

  it("refuses a record when its comment is longer than the Free plan allows", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    const error = await client.dns.records
      .create({
        zone_id: zoneId,
        name: `c.${ZONE}`,
        type: "A",
        content: "192.0.2.1",
        ttl: 1,
        comment: "x".repeat(101),
      })
      .catch((e: unknown) => e as { status: number });
    expect(error).toMatchObject({ status: 400 });
  });

  it("delays the answer when a latency fault matches", async ({ expect }) => {
    const { emulator, client } = setup();
    emulator.faults({ operation: "zones.list", latencyMs: 50 });
    await Promise.all([
      client.zones.list({ name: ZONE }),
      client.zeroTrust.tunnels.cloudflared.list({ account_id: ACCOUNT }),
    ]);
    expect(emulator.requestLog.map((e) => [e.operation, e.fault ?? null])).toEqual([
      ["tunnels.list", null],
      ["zones.list", "latency"],
    ]);
  });

  it("restores a snapshot into a new emulator with the same tunnels and records", async ({ expect }) => {
    const { emulator } = setup();
    const t = emulator.state.seedTunnel({ name: "lab" });
    emulator.state.seedDnsRecord({ zone: ZONE, name: "s", type: "A", content: "192.0.2.9" });
    const copy = createCloudflareEmulator({
      snapshot: JSON.parse(JSON.stringify(emulator.state.snapshot())),
    });
    expect(copy.state.accountId).toBe(emulator.state.accountId);
    expect(copy.state.tunnel("lab")?.id).toBe(t.id);
    expect(copy.state.dnsRecords(ZONE).map((r) => r.name)).toEqual([`s.${ZONE}`]);
    const response = await copy.handle(
      new Request(`https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/cfd_tunnel/${t.id}/token`, {
        headers: { authorization: "Bearer x" },
      }),
    );
    expect(response.status).toBe(200);
  });
});

describe("createCloudflareEmulator", () => {
  it("refuses to delete a tunnel with connectors until they are cleaned up", async ({ expect }) => {
    const { emulator, client } = setup();
    const t = emulator.state.seedTunnel({ name: "lab" });
    emulator.addConnector(t.id, { originIp: "10.0.0.1" });
    const refused = await client.zeroTrust.tunnels.cloudflared
      .delete(t.id, { account_id: ACCOUNT })
      .catch((e: unknown) => e as { status: number });
    expect(refused).toMatchObject({ status: 400 });
    await client.zeroTrust.tunnels.cloudflared.connections.delete(t.id, { account_id: ACCOUNT });
    const deleted = await client.zeroTrust.tunnels.cloudflared.delete(t.id, { account_id: ACCOUNT });
    expect(deleted.deleted_at).toEqual(expect.any(String));
    const live = await client.zeroTrust.tunnels.cloudflared.list({ account_id: ACCOUNT, is_deleted: false });
    expect(live.result).toEqual([]);
  });

  it("gets, updates and deletes Access objects and refuses to delete a policy in use", async ({ expect }) => {
    const { emulator, client } = setup();
    const policy = await client.zeroTrust.access.policies.create({
      account_id: ACCOUNT,
      name: "p",
      decision: "allow",
      include: [{ email: { email: "a@example.org" } }],
    });
    const app = await client.zeroTrust.access.applications.create({
      account_id: ACCOUNT,
      type: "self_hosted",
      domain: `a.${ZONE}`,
      name: "a",
      policies: [{ id: policy.id as string, precedence: 1 }],
    } as never);
    const fetched = await client.zeroTrust.access.applications.get(app.id as string, { account_id: ACCOUNT });
    expect(fetched).toMatchObject({ domain: `a.${ZONE}`, policies: [{ id: policy.id, precedence: 1 }] });
    const updated = await client.zeroTrust.access.policies.update(policy.id as string, {
      account_id: ACCOUNT,
      name: "p2",
      decision: "allow",
      include: [{ email_domain: { domain: "example.org" } }],
    });
    expect(updated.name).toBe("p2");
    expect(
      (await client.zeroTrust.access.policies.get(policy.id as string, { account_id: ACCOUNT })).app_count,
    ).toBe(1);
    const inUse = await client.zeroTrust.access.policies
      .delete(policy.id as string, { account_id: ACCOUNT })
      .catch((e: unknown) => e as { status: number });
    expect(inUse).toMatchObject({ status: 400 });
    await client.zeroTrust.access.applications.delete(app.id as string, { account_id: ACCOUNT });
    await client.zeroTrust.access.policies.delete(policy.id as string, { account_id: ACCOUNT });
    expect(emulator.state.accessApps()).toEqual([]);
    expect(emulator.state.accessPolicies()).toEqual([]);
  });

  it("gets one DNS record by id", async ({ expect }) => {
    const { emulator, client } = setup();
    const zoneId = emulator.state.zones()[0]?.id as string;
    const seeded = emulator.state.seedDnsRecord({ zone: ZONE, name: "g", type: "TXT", content: "hello" });
    const got = await client.dns.records.get(seeded.id, { zone_id: zoneId });
    expect(got).toMatchObject({
      id: seeded.id,
      name: `g.${ZONE}`,
      type: "TXT",
      content: "hello",
      proxiable: false,
    });
  });
});

describe("createValidator", () => {
  it("reports an error when a response drifted from the schema", ({ expect }) => {
    const validator = createValidator();
    const errors = validator.validate({
      seq: 1,
      method: "GET",
      path: `/zones/${"a".repeat(32)}/dns_records`,
      query: "",
      operation: "dns.list",
      status: 200,
      requestBody: undefined,
      responseBody: { success: true, errors: [], messages: [], result: [{ id: 5, type: "CNAME" }] },
    });
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe("createValidator: fields newer than the OpenAPI snapshot, against the SDK's types", () => {
  const entry = (over: Partial<RequestLogEntry>): RequestLogEntry => ({
    seq: 1,
    method: "POST",
    path: `/accounts/${"a".repeat(32)}/access/apps`,
    query: "",
    operation: "access.apps.create",
    status: 200,
    requestBody: undefined,
    responseBody: { success: true, errors: [], messages: [], result: {} },
    ...over,
  });

  it("accepts destinations, self_hosted_domains and config_src as the SDK types them", ({ expect }) => {
    const validator = createValidator();
    const app = {
      type: "self_hosted",
      name: "a",
      domain: "a.example.com",
      destinations: [{ type: "public", uri: "b.example.com" }],
      self_hosted_domains: ["c.example.com"],
    };
    const sdk = (value: unknown) =>
      validator.validate(entry(value as Partial<RequestLogEntry>)).filter((e) => e.includes("SDK type"));
    expect(sdk({ requestBody: app })).toEqual([]);
    expect(
      sdk({
        method: "GET",
        path: `/accounts/${"a".repeat(32)}/cfd_tunnel`,
        operation: "tunnels.list",
        responseBody: {
          success: true,
          errors: [],
          messages: [],
          result: [{ id: "t", config_src: "cloudflare" }],
        },
      }),
    ).toEqual([]);
  });

  it("reports a destination, a self-hosted domain or a config_src the SDK does not type that way", ({
    expect,
  }) => {
    const validator = createValidator();
    const errors = [
      ...validator.validate(
        entry({
          requestBody: {
            type: "self_hosted",
            domain: "a.example.com",
            destinations: [{ type: "public", url: "b.example.com" }],
            self_hosted_domains: [5],
          },
        }),
      ),
      ...validator.validate(
        entry({
          method: "POST",
          path: `/accounts/${"a".repeat(32)}/cfd_tunnel`,
          operation: "tunnels.create",
          requestBody: { name: "t", config_src: "remote" },
        }),
      ),
      ...validator.validate(
        entry({
          method: "GET",
          path: `/accounts/${"a".repeat(32)}/cfd_tunnel`,
          operation: "tunnels.list",
          responseBody: {
            success: true,
            errors: [],
            messages: [],
            result: [{ id: "t", config_src: "dashboard" }],
          },
        }),
      ),
    ].filter((e) => e.includes("SDK type"));
    expect(
      errors.map((e) => e.replace(/ \(SDK type\).*/, "").replace(/^#1 [A-Z]+ \S+ -> 200: /, "")),
    ).toEqual([
      "request body.destinations",
      "request body.self_hosted_domains",
      "request body.config_src",
      "result[0].config_src",
    ]);
  });
});
