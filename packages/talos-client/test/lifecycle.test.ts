import { PassThrough } from "node:stream";
import { afterEach, describe, it } from "vitest";
import type { ProgressEvent } from "../src/index.js";
import { buildMachineConfig } from "../src/testing/index.js";
import { type Cluster, startCluster } from "./helpers.js";

const CP1 = "10.9.0.2";
const CP2 = "10.9.0.3";
const W1 = "10.9.0.4";

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("TalosClient lifecycle operations", () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("upgrades through ImageService and LifecycleService then reboots when the node runs 1.13", async ({
    expect,
  }) => {
    cluster = await startCluster({ emulator: { rebootDelayMs: 20 } });
    const events: ProgressEvent[] = [];
    const result = await cluster.client.upgrade({
      node: W1,
      image: "factory.talos.dev/metal-installer/abc:v1.14.0",
      onProgress: (e) => events.push(e),
      // waiting for the node to come back is covered with an injected clock in upgrade.test.ts
      wait: false,
    });
    expect(result).toMatchObject({ node: W1, flow: "lifecycle" });
    expect(events.map((e) => e.type)).toContain("upgrade.pull.progress");
    expect(events.map((e) => e.type)).toContain("upgrade.reboot");
    await until(() => cluster?.emulator.node("w1").state() === "running");
    const [version] = await cluster.client.version({ nodes: [W1] });
    expect(version?.ok && version.value.tag).toBe("v1.14.0");
  });

  it("keeps a node that hangs on its next boot down after an upgrade, until it is started again", async ({
    expect,
  }) => {
    cluster = await startCluster({ emulator: { rebootDelayMs: 20 } });
    const node = cluster.emulator.node("w1");
    node.hangOnNextBoot();
    await cluster.client.upgrade({
      node: W1,
      image: "factory.talos.dev/metal-installer/abc:v1.14.0",
      wait: false,
    });
    await until(() => node.state() === "down");
    await new Promise((r) => setTimeout(r, 100));
    expect(node.state()).toBe("down");
    const [answer] = await cluster.client.version({ nodes: [W1], timeoutMs: 2_000 });
    expect(answer?.ok).toBe(false);
    node.start();
    await until(() => node.state() === "running");
    expect(node.talosVersion()).toBe("v1.14.0");
  });

  it("falls back to the legacy Upgrade when the node is older than 1.13", async ({ expect }) => {
    cluster = await startCluster({
      fleet: [{ name: "old", address: "10.9.1.2", type: "controlplane", talosVersion: "v1.12.6" }],
      emulator: { rebootDelayMs: 20 },
    });
    const result = await cluster.client.upgrade({
      node: "10.9.1.2",
      image: "ghcr.io/siderolabs/installer:v1.13.9",
    });
    expect(result.flow).toBe("legacy");
    expect(result.actorId).not.toBe("");
    expect(["upgrading", "rebooting"]).toContain(cluster.emulator.node("old").state());
    await until(() => cluster?.emulator.node("old").state() === "running");
    expect(cluster.emulator.node("old").talosVersion()).toBe("v1.13.9");
  });

  it("applies a staged config at the next reboot", async ({ expect }) => {
    cluster = await startCluster({ emulator: { rebootDelayMs: 20 } });
    const data = buildMachineConfig({
      type: "worker",
      ca: cluster.ca,
      clusterName: "lab",
      hostname: "w1-renamed",
    });
    expect((await cluster.client.applyConfiguration({ node: W1, data, mode: "staged" })).mode).toBe("staged");
    expect((await cluster.client.hostname({ nodes: [W1] }))[0]).toMatchObject({ ok: true, value: "w1" });
    await cluster.client.reboot({ node: W1 });
    await until(() => cluster?.emulator.node("w1").state() === "running");
    expect((await cluster.client.hostname({ nodes: [W1] }))[0]).toMatchObject({
      ok: true,
      value: "w1-renamed",
    });
  });

  it("throws NODE_ERROR when the installer exits non-zero", async ({ expect }) => {
    cluster = await startCluster();
    await expect(cluster.client.upgrade({ node: W1, image: "example.com/invalid:v9" })).rejects.toMatchObject(
      {
        code: "NODE_ERROR",
        details: { exitCode: 1 },
      },
    );
    expect(cluster.emulator.node("w1").state()).toBe("running");
  });

  it("resets a node back to maintenance and drops it from etcd when graceful", async ({ expect }) => {
    cluster = await startCluster();
    const result = await cluster.client.reset({
      node: CP2,
      reboot: true,
      systemPartitionsToWipe: ["STATE", "EPHEMERAL"],
    });
    expect(result.actorId).not.toBe("");
    await until(() => cluster?.emulator.node("cp2").state() === "maintenance");
    expect(cluster.emulator.node("cp2").state()).toBe("maintenance");
    const members = await cluster.client.etcdMemberList({ node: CP1 });
    expect(members.map((m) => m.hostname)).toEqual(["cp1"]);
  });

  it("uploads an etcd snapshot with a client stream and rejects an empty one", async ({ expect }) => {
    cluster = await startCluster();
    async function* snapshot(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(6 * 1024 * 1024).fill(1);
      yield new Uint8Array(1000).fill(2);
    }
    expect(await cluster.client.etcdRecover({ node: CP2, source: snapshot() })).toEqual({
      node: CP2,
      bytes: 6 * 1024 * 1024 + 1000,
    });
    await expect(cluster.client.etcdRecover({ node: CP2, source: [] })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { node: CP2 },
    });
    await expect(cluster.client.etcdRecover({ node: W1, source: [new Uint8Array(1)] })).rejects.toMatchObject(
      {
        code: "UNIMPLEMENTED",
      },
    );
  });

  describe("etcd recovery (talos bootstrap --recover-from)", () => {
    const snapshotOf = async (node: string): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      const sink = new PassThrough();
      sink.on("data", (c: Buffer) => chunks.push(c));
      await cluster?.client.etcdSnapshot({ node, destination: sink });
      return Buffer.concat(chunks);
    };
    const wipeEphemeral = async (node: string, name: string) => {
      await cluster?.client.reset({
        node,
        graceful: false,
        reboot: true,
        systemPartitionsToWipe: ["EPHEMERAL"],
      });
      await until(() => cluster?.emulator.node(name).state() === "rebooting");
      await until(() => cluster?.emulator.node(name).state() === "running");
    };
    const etcdState = async (node: string) =>
      (await cluster?.client.serviceList({ nodes: [node] }))
        ?.flatMap((r) => (r.ok ? r.value : []))
        .find((s) => s.id === "etcd")?.state;

    it("refuses to recover onto a node whose etcd data directory is not empty", async ({ expect }) => {
      cluster = await startCluster({ emulator: { rebootDelayMs: 20 } });
      const snapshot = await snapshotOf(CP1);
      await cluster.client.etcdRecover({ node: CP1, source: [snapshot] });
      await expect(cluster.client.bootstrap({ node: CP1, recoverEtcd: true })).rejects.toMatchObject({
        code: "ALREADY_EXISTS",
        rawMessage: expect.stringContaining("etcd data directory is not empty"),
      });
    });

    it("restores the keyspace of the snapshot after EPHEMERAL is wiped on every control plane", async ({
      expect,
    }) => {
      cluster = await startCluster({ emulator: { rebootDelayMs: 20 } });
      cluster.emulator.etcd.put("/registry/namespaces/shop", "{}");
      const snapshot = await snapshotOf(CP1);
      expect(snapshot.length).toBe(1024 * 1024);
      cluster.emulator.etcd.put("/registry/namespaces/later", "{}");
      await wipeEphemeral(CP2, "cp2");
      await wipeEphemeral(CP1, "cp1");
      // the data is gone with the last copy: etcd waits to be bootstrapped, the node config stayed
      expect(cluster.emulator.isBootstrapped()).toBe(false);
      expect(cluster.emulator.etcd.keys()).toEqual([]);
      expect(await etcdState(CP1)).toBe("Preparing");
      await cluster.client.etcdRecover({ node: CP1, source: [snapshot] });
      await cluster.client.bootstrap({ node: CP1, recoverEtcd: true });
      expect(cluster.emulator.etcd.keys()).toEqual(["/registry/namespaces/shop"]);
      expect((await cluster.client.etcdMemberList({ node: CP1 })).map((m) => m.hostname).sort()).toEqual([
        "cp1",
        "cp2",
      ]);
    });

    it("fails etcd (not the call) on a snapshot that fails the hash check, unless the check is skipped", async ({
      expect,
    }) => {
      cluster = await startCluster({ emulator: { rebootDelayMs: 20 } });
      cluster.emulator.etcd.put("/registry/k", "v");
      const snapshot = await snapshotOf(CP1);
      snapshot[snapshot.length - 100] = 1;
      await wipeEphemeral(CP2, "cp2");
      await wipeEphemeral(CP1, "cp1");
      await cluster.client.etcdRecover({ node: CP1, source: [snapshot] });
      await cluster.client.bootstrap({ node: CP1, recoverEtcd: true });
      expect(await etcdState(CP1)).toBe("Failed");
      expect(cluster.emulator.isBootstrapped()).toBe(false);
      await cluster.client.etcdRecover({ node: CP1, source: [snapshot] });
      await cluster.client.bootstrap({ node: CP1, recoverEtcd: true, recoverSkipHashCheck: true });
      expect(cluster.emulator.etcd.get("/registry/k")).toBe("v");
    });
  });

  it("powers on an added machine in maintenance mode", async ({ expect }) => {
    cluster = await startCluster();
    const node = await cluster.emulator.addNode({ name: "w9", address: "10.9.0.9" });
    expect(node.state()).toBe("maintenance");
    expect(cluster.emulator.node("10.9.0.9")).toBe(node);
    await expect(cluster.emulator.addNode({ name: "w9", address: "10.9.0.10" })).rejects.toThrow(/already/);
  });

  it("halts a node on shutdown so that calls to it fail UNAVAILABLE", async ({ expect }) => {
    cluster = await startCluster();
    await cluster.client.shutdown({ node: W1 });
    await until(() => cluster?.emulator.node("w1").state() === "halted");
    const client = cluster.clientFor({ readAttempts: 1 });
    const [result] = await client.version({ nodes: [W1] });
    expect(result).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
  });

  it("removes and leaves etcd members", async ({ expect }) => {
    cluster = await startCluster();
    const members = await cluster.client.etcdMemberList({ node: CP1 });
    const cp2 = members.find((m) => m.hostname === "cp2")!;
    await cluster.client.etcdRemoveMemberByID({ node: CP1, memberId: cp2.id });
    expect((await cluster.client.etcdMemberList({ node: CP1 })).map((m) => m.hostname)).toEqual(["cp1"]);
    await expect(cluster.client.etcdRemoveMemberByID({ node: CP1, memberId: 42n })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await cluster.client.etcdLeaveCluster({ node: CP1 });
    await expect(cluster.client.etcdMemberList({ node: CP1 })).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
    });
  });

  it("times out naming what is missing when a service stays down", async ({ expect }) => {
    cluster = await startCluster();
    cluster.emulator.node("cp2").setService("etcd", "Preparing", false);
    const progress: ProgressEvent[] = [];
    const error = await cluster.client
      .waitForHealthy({
        controlPlaneNodes: [CP1, CP2],
        workerNodes: [W1],
        timeoutMs: 200,
        intervalMs: 20,
        onProgress: (e) => progress.push(e),
      })
      .catch((e: unknown) => e);
    // On a busy machine a probe may also time out: the etcd problem must be named either way.
    expect(error).toMatchObject({
      code: "HEALTH_TIMEOUT",
      details: { missing: expect.arrayContaining([`${CP2}: service etcd is Preparing`]) },
    });
    expect(progress[0]?.type).toBe("health");
  });

  it("waits for etcd until the cluster is bootstrapped", async ({ expect }) => {
    cluster = await startCluster({ bootstrap: false });
    const waiting = cluster.client.waitForHealthy({
      controlPlaneNodes: [CP1, CP2],
      workerNodes: [W1],
      timeoutMs: 5000,
      intervalMs: 20,
    });
    setTimeout(() => void cluster?.client.bootstrap({ node: CP1 }), 100);
    const report = await waiting;
    expect(report.healthy).toBe(true);
    expect(report.nodes.map((n) => n.role)).toEqual(["controlplane", "controlplane", "worker"]);
  });

  it("splits a one-to-many reply per node when legacy fan-out is asked", async ({ expect }) => {
    cluster = await startCluster();
    cluster.emulator.node("w1").stop();
    const before = cluster.emulator.callLog.length;
    const results = await cluster.client.hostname({ nodes: [CP1, CP2, W1], legacyFanOut: true });
    expect(results.map((r) => (r.ok ? r.value : r.error.code))).toEqual(["cp1", "cp2", "UNAVAILABLE"]);
    expect(cluster.emulator.callLog.slice(before).every((e) => e.endpoint === "cp1")).toBe(true);
  });

  it("receives messages larger than the grpc-js 4 MiB default", async ({ expect }) => {
    cluster = await startCluster({
      emulator: { etcdSnapshotBytes: 12 * 1024 * 1024, etcdSnapshotChunkBytes: 6 * 1024 * 1024 },
    });
    const result = await cluster.client.etcdSnapshot({ node: CP1, destination: new PassThrough().resume() });
    expect(result.bytes).toBe(12 * 1024 * 1024);
  });
});
