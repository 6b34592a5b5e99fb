import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, it } from "vitest";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { publishLab } from "../src/internal/lab/running.js";
import { EXAMPLES, run, tempDir } from "./helpers.js";

/**
 * `homelab node add` and `homelab node remove` against a lab published in the state directory (as
 * `homelab lab` does), brought up with `up --simulate` first.
 */

const env = { TS_AUTHKEY: "tskey-node" };
let t: { dir: string; cleanup(): Promise<void> } | undefined;
let lab: Lab | undefined;

async function startProject(example: string): Promise<{ dir: string; lab: Lab; cf: Record<string, string> }> {
  t = await tempDir();
  await copyFile(join(EXAMPLES, example), join(t.dir, "homelab.yaml"));
  const { config } = await loadConfig("homelab.yaml", { cwd: t.dir, env });
  lab = await startLab({ config });
  await publishLab(join(t.dir, ".homelab", config.cluster.name, "lab"), lab.info);
  const up = await run(["up", "--simulate", "--json"], { cwd: t.dir, env });
  if (up.code !== 0) throw new Error(`up failed: ${up.stdout}${up.stderr}`);
  return {
    dir: t.dir,
    lab,
    cf: {
      CLOUDFLARE_BASE_URL: lab.info.cloudflare.url,
      CLOUDFLARE_API_TOKEN: lab.info.cloudflare.apiToken,
      HOMELAB_ALLOW_ENDPOINT_OVERRIDE: "1",
    },
  };
}

afterEach(async () => {
  await lab?.close();
  await t?.cleanup();
  lab = undefined;
  t = undefined;
});

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

const etcdMembers = async (dir: string) => {
  const r = await run(["talos", "etcd", "members", "--json", "--nodes", "192.168.50.11"], { cwd: dir, env });
  return (r.json().members as { hostname: string }[]).map((m) => m.hostname).sort();
};

describe("homelab node remove", () => {
  it("wipes a worker and drops it from homelab.yaml (comments kept) and the tunnel", async ({ expect }) => {
    const p = await startProject("ha.yaml");
    const tunnel = () => p.lab.emulators.cloudflare.state.tunnels().find((x) => x.deletedAt === null);
    await waitFor("both connectors", () => tunnel()?.connectors.length === 2);
    const r = await run(["node", "remove", "worker2", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual(
      expect.arrayContaining(["reset", "tunnel", "config"]),
    );
    expect(p.lab.emulators.talos.node("worker2").state()).toBe("maintenance");
    const yaml = await readFile(join(p.dir, "homelab.yaml"), "utf8");
    expect(yaml).not.toContain("worker2");
    expect(yaml).toContain("# A highly available homelab");
    expect(yaml).toContain("# the VIP, announced by whichever control plane leads");
    expect(tunnel()?.connectors.map((c) => c.originIp)).toEqual(["192.168.50.21"]);
    const audit = await run(["tunnel", "audit", "--json"], { cwd: p.dir, env: { ...env, ...p.cf } });
    expect(audit.json().connectors.flatMap((c: { originIps: string[] }) => c.originIps)).toEqual([
      "192.168.50.21",
    ]);
    // the lab keeps the wiped machine; homelab.yaml and the cluster agree
    const again = await run(["up", "--simulate", "--json"], { cwd: p.dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().changed).toBe(0);
  }, 120_000);

  it("makes a control plane leave etcd before wiping it", async ({ expect }) => {
    const p = await startProject("ha.yaml");
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2", "cp3"]);
    const r = await run(["node", "remove", "cp3", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().plan.notes).toEqual([
      expect.stringMatching(/etcd keeps quorum: 2 member\(s\) left, 2 healthy, 2 needed/),
    ]);
    expect(r.json().steps.map((s: { id: string }) => s.id)).toEqual(["etcd-leave", "reset", "config"]);
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2"]);
    expect(p.lab.emulators.talos.node("cp3").state()).toBe("maintenance");
  }, 120_000);

  it("refuses when the remaining etcd members would lose quorum, changing nothing", async ({ expect }) => {
    const p = await startProject("ha.yaml");
    p.lab.emulators.talos.node("cp2").stop();
    const r = await run(["node", "remove", "cp3", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(
      /removing cp3 would lose etcd quorum: 2 member\(s\) would remain, 2 needed, but only 1 \(cp1\) answer/,
    );
    expect(r.json().error.hint).toMatch(/bring cp2 back first/);
    p.lab.emulators.talos.node("cp2").start();
    expect(await etcdMembers(p.dir)).toEqual(["cp1", "cp2", "cp3"]);
    expect(await readFile(join(p.dir, "homelab.yaml"), "utf8")).toContain("name: cp3");
  }, 120_000);

  it("refuses to remove the last control plane", async ({ expect }) => {
    const p = await startProject("homelab.yaml");
    const r = await run(["node", "remove", "node1", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code).toBe(1);
    expect(r.json().error.message).toMatch(/node1 is the last control plane/);
    expect(p.lab.emulators.talos.node("node1").state()).toBe("running");
  }, 60_000);

  it("names the nodes homelab.yaml lists when NAME is not one", async ({ expect }) => {
    const p = await startProject("homelab.yaml");
    const r = await run(["node", "remove", "nodeX", "--yes", "--json"], { cwd: p.dir, env });
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: "USAGE", hint: "nodes: node1" });
  }, 60_000);
});
