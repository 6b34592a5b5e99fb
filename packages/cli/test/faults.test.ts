import { once } from "node:events";
import { copyFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import { createCloudflare, loadCfTunnel } from "../src/internal/adapters/cf-tunnel.js";
import { presentError } from "../src/internal/cli/error-table.js";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { publishLab } from "../src/internal/lab/running.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

/**
 * The fault scenarios of the newcomer-reliability review, driven through the CLI (`homelab up
 * --simulate`) against a lab whose emulators inject the faults. The lab runs in this process and
 * is published in the state directory, so the CLI picks it up as it would a `homelab lab`.
 */

const env = { TS_AUTHKEY: "tskey-faults" };
let t: { dir: string; cleanup(): Promise<void> };
let lab: Lab;

beforeEach(async () => {
  t = await tempDir();
  await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
  const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env });
  lab = await startLab({ config });
  await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
});

afterEach(async () => {
  await lab.close();
  await t.cleanup();
});

const lines = (text: string, pattern: RegExp) => text.split("\n").filter((l) => pattern.test(l));

describe("faults against homelab up --simulate", () => {
  it("shows one line for a burst of Cloudflare 500s, with the reason and the wait, waits on the context's clock and recovers", async ({
    expect,
  }) => {
    lab.emulators.cloudflare.faults({ operation: "tunnels.create", status: 500, times: 3 });
    const waits: number[] = [];
    const clock = {
      now: () => Date.now(),
      // recorded, and shortened so that the test does not wait out a real backoff
      sleep: (ms: number) => {
        waits.push(ms);
        return new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5)));
      },
    };
    const r = await run(["up", "--simulate"], { cwd: t.dir, env, clock });
    expect(r.code).toBe(0);
    expect(lines(r.stderr, /Cloudflare API/)).toEqual([
      expect.stringMatching(
        /^ {2}retrying Cloudflare API: 500 while creating .*; next try in \d+(\.\d)?m?s$/,
      ),
    ]);
    // cf-tunnel's backoff (0.5 s, 1 s, 2 s, each less up to 25 % jitter) went through the injected clock
    expect(waits.filter((ms) => ms > 375 && ms <= 500)).toHaveLength(1);
    expect(waits.filter((ms) => ms > 1500 && ms <= 2000)).toHaveLength(1);
  });

  it("retries ApplyConfiguration on UNAVAILABLE and says so once per node", async ({ expect }) => {
    lab.emulators.talos.faults({ node: "node1", methods: ["ApplyConfiguration"], unavailable: 2 });
    const r = await run(["up", "--simulate"], { cwd: t.dir, env });
    expect(r.code).toBe(0);
    expect(lines(r.stderr, /retrying node1/)).toEqual([
      expect.stringMatching(
        /^ {2}retrying node1 \(192\.168\.50\.200\): UNAVAILABLE on ApplyConfiguration; next try in /,
      ),
    ]);
  });

  it("prints one line, not one per poll, for a Kubernetes API 500 storm", async ({ expect }) => {
    lab.emulators.kube.faults.apiError({ status: 500, method: "GET", path: "/deployments", times: 12 });
    const r = await run(["up", "--simulate"], { cwd: t.dir, env });
    expect(r.code).toBe(0);
    // 12 failed polls of two Deployments: one line (before: one per failed poll)
    expect(lines(r.stderr, /Kubernetes API/)).toEqual([
      expect.stringMatching(
        /^ {2}retrying Kubernetes API: Kubernetes API error while reading Deployment .*HTTP 500/,
      ),
    ]);
  });

  it("names a powered-off node with its address and what to check, after --node-timeout", async ({
    expect,
  }) => {
    // powered off: nothing listens where node1's Talos API was (the lab publishes a closed port)
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const node1 = lab.info.nodes.find((n) => n.name === "node1");
    if (node1) node1.endpoint = `127.0.0.1:${port}`;
    await publishLab(join(t.dir, ".homelab", "homelab", "lab"), lab.info);
    const r = await run(["up", "--simulate", "--node-timeout", "4s"], { cwd: t.dir, env });
    expect(r.code).toBe(1);
    // waited for (one line per burst), then named with its address and what to check
    expect(r.stderr).toMatch(/node1 \(192\.168\.50\.200\) does not answer on the Talos API/);
    expect(r.stderr).toMatch(
      /homelab: error \[UNREACHABLE\]: node1 \(192\.168\.50\.200\) did not answer .* for 4s/,
    );
    expect(r.stderr).toMatch(/hint: check that node1 is powered on and booted/);
    expect(r.stderr).not.toMatch(/\b14 UNAVAILABLE|No connection established|grpc/i);

    const json = await run(["up", "--simulate", "--node-timeout", "4s", "--json"], { cwd: t.dir, env });
    expect(json.code).toBe(1);
    const doc = json.json();
    expect(doc.error.code).toBe("UNREACHABLE");
    // the node failed while planning: nothing was done, so the error lists no steps
    expect(doc.error.stepsDone).toBeUndefined();
  });

  it("gets no cursor escapes with TERM=dumb on a terminal", async ({ expect }) => {
    const r = await run(["up", "--simulate"], { cwd: t.dir, env: { ...env, TERM: "dumb" }, stderrTTY: true });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("\x1b[");
  });
});

describe("errors classified at the edge", () => {
  it("presents an unreachable Cloudflare API as a Cloudflare error with the socket's reason, not INTERNAL", async ({
    expect,
  }) => {
    const cf = await loadCfTunnel();
    // a port that was just free: nothing listens there, the connection is refused
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const baseURL = `http://127.0.0.1:${port}/client/v4`;
    const client = await createCloudflare({ apiToken: "t", baseURL, maxRetries: 0 });
    const error = await cf
      .ensureTunnel({
        client,
        accountId: "0123456789abcdef0123456789abcdef",
        name: "homelab",
        retry: { retries: 0 },
      })
      .catch((e: unknown) => e);
    const p = presentError(error, false, { options: ["--simulate"] });
    expect(p.code).not.toBe("INTERNAL");
    expect(p.source).toBe("cf-tunnel");
    expect(p.message).toMatch(/^could not reach Cloudflare while .* \(connection refused\)$/);
  });

  it("keeps grpc-js text out of a Talos error and hints only at options the command has", ({ expect }) => {
    const error = Object.assign(
      new Error(
        "[UNAVAILABLE] 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 10.0.0.9:50000",
      ),
      {
        name: "TalosClientError",
        code: "UNAVAILABLE",
        rawMessage:
          "14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 10.0.0.9:50000",
        details: { node: "10.0.0.9" },
      },
    );
    const forUp = presentError(error, false, { options: ["--simulate", "--engine", "--node-timeout"] });
    expect(forUp.message).toBe("cannot reach the Talos API (10.0.0.9): connection refused");
    expect(forUp.hint).toBe("check that the node is powered on and that port 50000 is reachable from here");
    const forTalos = presentError(error, false, { options: ["--endpoints", "--nodes"] });
    expect(forTalos.hint).toBe("check --endpoints and that the node is powered on (port 50000)");
  });
});
