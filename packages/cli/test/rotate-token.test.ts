import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { publishLab } from "../src/internal/lab/running.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

/**
 * `homelab tunnel rotate-token` against examples/ha.yaml in a lab published in the state directory:
 * cloudflared runs on worker1 and worker2, each registering its connector with the token its
 * machine config carries (the Cloudflare emulator refuses a token from before a rotation).
 */

const env = { TS_AUTHKEY: "tskey-rotate" };
let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;
let cfEnv: Record<string, string>;

const tunnelOf = () => {
  const tunnel = lab.emulators.cloudflare.state.tunnels().find((x) => x.deletedAt === null);
  if (!tunnel) throw new Error("no tunnel");
  return tunnel;
};
const tokenOf = (node: string) =>
  /TUNNEL_TOKEN=([A-Za-z0-9+/=_-]+)/.exec(lab.emulators.talos.node(node).appliedConfig() ?? "")?.[1];
const secretOf = (token: string | undefined) =>
  JSON.parse(Buffer.from(token ?? "", "base64").toString("utf8")).s as string;
const connectorsFrom = (address: string) => tunnelOf().connectors.filter((c) => c.originIp === address);

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

beforeEach(async () => {
  t = await tempDir();
  await copyFile(join(EXAMPLES, "ha.yaml"), join(t.dir, "homelab.yaml"));
  const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env });
  lab = await startLab({ config });
  await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
  const up = await run(["up", "--simulate", "--json"], { cwd: t.dir, env });
  if (up.code !== 0) throw new Error(`up failed: ${up.stdout}${up.stderr}`);
  cfEnv = {
    CLOUDFLARE_BASE_URL: lab.info.cloudflare.url,
    CLOUDFLARE_API_TOKEN: lab.info.cloudflare.apiToken,
    HOMELAB_ALLOW_ENDPOINT_OVERRIDE: "1",
  };
  await waitFor("both connectors", () => tunnelOf().connectors.length === 2);
}, 60_000);

afterEach(async () => {
  await lab.close();
  await t.cleanup();
});

describe("homelab tunnel rotate-token", () => {
  it("rolls the new token one node at a time and leaves only connectors on the new secret", async ({
    expect,
  }) => {
    const oldToken = tokenOf("worker1") ?? "";
    const r = await run(["tunnel", "rotate-token", "--yes", "--json"], {
      cwd: t.dir,
      env: { ...env, ...cfEnv },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = r.json();
    expect(result.steps.map((s: { id: string }) => s.id)).toEqual([
      "rotate",
      "roll:worker1",
      "roll:worker2",
      "revoke",
    ]);
    // worker2 was touched only once worker1's connector was back
    const events = result.events.map((e: { step: string; status: string }) => `${e.step} ${e.status}`);
    expect(events.indexOf("roll:worker1 done")).toBeLessThan(events.indexOf("roll:worker2 started"));
    const secret = tunnelOf().secret;
    expect(secretOf(tokenOf("worker1"))).toBe(secret);
    expect(secretOf(tokenOf("worker2"))).toBe(secret);
    expect(tunnelOf().connectors.map((c) => [c.originIp, c.secret === secret])).toEqual(
      expect.arrayContaining([
        ["192.168.50.21", true],
        ["192.168.50.22", true],
      ]),
    );
    expect(tunnelOf().connectors).toHaveLength(2);
    // the old token opens no connection any more
    expect(() =>
      lab.emulators.cloudflare.addConnector(tunnelOf().id, { originIp: "192.168.50.99", token: oldToken }),
    ).toThrow(/current/);
    expect(r.stdout + r.stderr).not.toContain(oldToken);
    expect(r.stdout + r.stderr).not.toMatch(/TUNNEL_TOKEN|eyJ/);
  }, 60_000);

  it("stops at a node whose connector does not come back, the next node still connected, and resumes", async ({
    expect,
  }) => {
    const oldSecret = tunnelOf().secret;
    lab.cloudflared.failOnRestart("worker1");
    const r = await run(["tunnel", "rotate-token", "--yes", "--json", "--node-timeout", "1s"], {
      cwd: t.dir,
      env: { ...env, ...cfEnv },
    });
    expect(r.code).toBe(1);
    const error = r.json().error;
    expect(error.code).toBe("COMMAND_FAILED");
    expect(error.message).toMatch(/worker1 did not come back .*worker2 still run the old token/);
    expect(error.hint).toMatch(/rotate-token again|rotate-token` again/);
    // the secret moved on; worker2 kept its old token and its connector
    expect(tunnelOf().secret).not.toBe(oldSecret);
    expect(secretOf(tokenOf("worker2"))).toBe(oldSecret);
    expect(connectorsFrom("192.168.50.22").map((c) => c.secret)).toEqual([oldSecret]);
    expect(connectorsFrom("192.168.50.21")).toEqual([]);
    const journal = JSON.parse(
      await readFile(join(t.dir, ".homelab/homelab-ha/lab/day2/rotate-token.json"), "utf8"),
    );
    expect(journal.steps.rotate.status).toBe("done");
    expect(journal.steps["roll:worker1"].status).toBe("failed");

    // fixed: the rerun does not rotate again, it continues with worker1
    lab.cloudflared.failOnRestart("worker1", false);
    const secretAfterFirst = tunnelOf().secret;
    const again = await run(["tunnel", "rotate-token", "--yes", "--json"], {
      cwd: t.dir,
      env: { ...env, ...cfEnv },
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().resumed).toBe(1);
    expect(tunnelOf().secret).toBe(secretAfterFirst);
    expect(tunnelOf().connectors.map((c) => c.secret)).toEqual([secretAfterFirst, secretAfterFirst]);
  }, 60_000);

  it("refuses before rotating when a node has no connector, changing nothing", async ({ expect }) => {
    const oldSecret = tunnelOf().secret;
    lab.cloudflared.failOnRestart("worker2");
    const [down] = connectorsFrom("192.168.50.22");
    lab.emulators.cloudflare.removeConnector(tunnelOf().id, down?.id ?? "");
    await waitFor("worker2's cloudflared to give up", () => connectorsFrom("192.168.50.22").length === 0);
    const r = await run(["tunnel", "rotate-token", "--yes", "--json"], {
      cwd: t.dir,
      env: { ...env, ...cfEnv },
    });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(/no cloudflared connector from worker2 \(192\.168\.50\.22\)/);
    expect(tunnelOf().secret).toBe(oldSecret);
  }, 60_000);
});
