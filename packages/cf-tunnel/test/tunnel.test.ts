import { inspect } from "node:util";
import { http } from "msw";
import { describe, it } from "vitest";
import { audit, ensureTunnel, reconcile, rotateTunnelToken } from "../src/index.js";
import { CLOUDFLARE_API_BASE_URL } from "../src/testing/index.js";
import { server } from "./setup.js";
import { ACCOUNT, routes, setup, TUNNEL, ZONE } from "./support.js";

function decode(token: string): { a: string; t: string; s: string } {
  return JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { a: string; t: string; s: string };
}

describe("ensureTunnel", () => {
  it("creates a remotely managed tunnel and returns its token when none exists", async ({ expect }) => {
    const { emulator, client, retry } = setup();
    const result = await ensureTunnel({ client, accountId: ACCOUNT, name: TUNNEL, retry });
    expect(result.created).toBe(true);
    expect(emulator.state.tunnel(TUNNEL)?.configSrc).toBe("cloudflare");
    expect(decode(result.token)).toMatchObject({ a: ACCOUNT, t: result.id });
    const create = emulator.requestLog.find((e) => e.operation === "tunnels.create");
    expect(create?.requestBody).toEqual({ name: TUNNEL, config_src: "cloudflare" });
  });

  it("reuses the live tunnel and ignores a deleted one with the same name", async ({ expect }) => {
    const { emulator, client, retry } = setup();
    emulator.state.seedTunnel({ name: TUNNEL, deleted: true });
    const live = emulator.state.seedTunnel({ name: TUNNEL });
    const result = await ensureTunnel({ client, accountId: ACCOUNT, name: TUNNEL, retry });
    expect(result).toMatchObject({ id: live.id, created: false });
    const list = emulator.requestLog.find((e) => e.operation === "tunnels.list");
    expect(new URLSearchParams(list?.query).get("is_deleted")).toBe("false");
    expect(emulator.requestLog.some((e) => e.operation === "tunnels.create")).toBe(false);
  });

  it("keeps the token out of the output when the result is serialised or inspected", async ({ expect }) => {
    const { client, retry } = setup();
    const result = await ensureTunnel({ client, accountId: ACCOUNT, name: TUNNEL, retry });
    expect(result.token.length).toBeGreaterThan(20);
    expect(JSON.stringify(result)).not.toContain(result.token);
    expect(inspect(result)).not.toContain(result.token);
    expect(inspect(result)).toContain("[redacted]");
    const { token } = result;
    expect(token).toBe(result.token);
  });

  it("creates exactly one tunnel when the create response is lost", async ({ expect }) => {
    const { emulator, client, retry } = setup();
    // The create lands but its response is lost; the recovery lookup is rate limited once.
    emulator.faults([
      { operation: "tunnels.create", status: 500, afterCommit: true },
      { operation: "tunnels.list", status: 429, times: 1 },
    ]);
    const result = await ensureTunnel({ client, accountId: ACCOUNT, name: TUNNEL, retry });
    expect(result.created).toBe(true);
    expect(emulator.state.tunnels()).toHaveLength(1);
    expect(emulator.requestLog.filter((e) => e.operation === "tunnels.create")).toHaveLength(1);
  });

  it("returns the tunnel another run created when the create answers 1013", async ({ expect }) => {
    const { emulator, client, retry } = setup();
    let other = "";
    server.use(
      http.get(
        `${CLOUDFLARE_API_BASE_URL}/accounts/:account/cfd_tunnel`,
        async ({ request }) => {
          const response = await emulator.handle(request);
          other = emulator.state.seedTunnel({ name: TUNNEL }).id;
          return response;
        },
        { once: true },
      ),
    );
    const result = await ensureTunnel({ client, accountId: ACCOUNT, name: TUNNEL, retry });
    expect(result.id).toBe(other);
    const create = emulator.requestLog.find((e) => e.operation === "tunnels.create");
    expect(create?.status).toBe(409);
    expect(emulator.state.tunnels()).toHaveLength(1);
  });
});

describe("rotateTunnelToken", () => {
  it("sets a new secret and returns a token carrying it when rotating", async ({ expect }) => {
    const { emulator, client, retry } = setup();
    const tunnel = await ensureTunnel({ client, accountId: ACCOUNT, name: TUNNEL, retry });
    const rotated = await rotateTunnelToken({ client, accountId: ACCOUNT, tunnelId: tunnel.id, retry });
    expect(rotated.token).not.toBe(tunnel.token);
    expect(decode(rotated.token).s).toBe(emulator.state.tunnel(tunnel.id)?.secret);
    expect(decode(rotated.token).s).not.toBe(decode(tunnel.token).s);
    expect(JSON.stringify(rotated)).not.toContain(rotated.token);
    const edit = emulator.requestLog.filter((e) => e.operation === "tunnels.edit");
    const body = edit[0]?.requestBody as { tunnel_secret: string };
    expect(Buffer.from(body.tunnel_secret, "base64")).toHaveLength(32);
  });

  it("throws NOT_FOUND when the tunnel does not exist", async ({ expect }) => {
    const { client, retry } = setup();
    await expect(
      rotateTunnelToken({
        client,
        accountId: ACCOUNT,
        tunnelId: "6c1f3c1e-0000-4000-8000-000000000000",
        retry,
      }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("audit", () => {
  it("finds the 503 trap, unrouted ingress, unprotected hostnames and connectors when edited by hand", async ({
    expect,
  }) => {
    const { emulator, client, base, retry } = setup();
    const { tunnel } = await reconcile({
      ...base,
      routes: [...routes(2), { hostname: `blog.${ZONE}`, service: "http://blog:80", public: true }],
    });
    const config = emulator.state.tunnel(tunnel.id)?.config;
    // Someone edits things by hand: a CNAME to the tunnel with no rule, a rule with no DNS, a rule with no Access.
    emulator.state.seedDnsRecord({
      zone: ZONE,
      name: "ghost",
      type: "CNAME",
      content: `${tunnel.id}.cfargotunnel.com`,
      proxied: true,
    });
    await client.zeroTrust.tunnels.cloudflared.configurations.update(tunnel.id, {
      account_id: ACCOUNT,
      config: {
        ingress: [
          ...((config?.ingress ?? []).slice(0, -1) as never[]),
          { hostname: `orphan.${ZONE}`, service: "http://orphan:80" },
          { service: "http_status:404" } as never,
        ],
      },
    });
    emulator.addConnector(tunnel.id, { originIp: "192.168.1.10" });
    emulator.addConnector(tunnel.id, { originIp: "192.168.1.11" });
    const report = await audit({
      client,
      accountId: ACCOUNT,
      zone: ZONE,
      tunnelName: TUNNEL,
      publicHostnames: [`blog.${ZONE}`],
      retry,
    });
    expect(report.dnsWithoutIngress).toEqual([
      { hostname: `ghost.${ZONE}`, recordId: expect.any(String), owned: false },
    ]);
    expect(report.ingressWithoutDns).toEqual([`orphan.${ZONE}`]);
    expect(report.withoutAccess.sort()).toEqual([`blog.${ZONE}`, `orphan.${ZONE}`]);
    expect(report.connectors.map((c) => c.originIps)).toEqual([["192.168.1.10"], ["192.168.1.11"]]);
    expect(report.connectors[0]?.connections).toBe(4);
    expect(report.findings.map((f) => [f.code, f.severity, f.hostname])).toEqual([
      ["DNS_WITHOUT_INGRESS", "error", `ghost.${ZONE}`],
      ["INGRESS_WITHOUT_DNS", "warning", `orphan.${ZONE}`],
      ["ROUTE_WITHOUT_ACCESS", "info", `blog.${ZONE}`],
      ["ROUTE_WITHOUT_ACCESS", "error", `orphan.${ZONE}`],
    ]);
    expect(report.ok).toBe(false);
  });

  it("flags a missing connector and reports ok when one runs", async ({ expect }) => {
    const { emulator, client, base, retry } = setup();
    const { tunnel } = await reconcile({ ...base, routes: routes(2) });
    const before = await audit({ client, accountId: ACCOUNT, zone: ZONE, tunnelId: tunnel.id, retry });
    expect(before.findings.map((f) => f.code)).toEqual(["NO_CONNECTORS"]);
    emulator.addConnector(tunnel.id, { originIp: "10.0.0.5" });
    const after = await audit({ client, accountId: ACCOUNT, zone: ZONE, tunnelId: tunnel.id, retry });
    expect(after.ok).toBe(true);
    expect(after.findings).toEqual([]);
  });
});
