import { describe, it } from "vitest";
import { DNS_COMMENT_MARKER, reconcile, renderPlan } from "../src/index.js";
import { routes, setup, ZONE } from "./support.js";

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
