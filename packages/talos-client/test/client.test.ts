import { PassThrough, Writable } from "node:stream";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createTalosClient, MachineService } from "../src/index.js";
import { buildMachineConfig } from "../src/testing/index.js";
import { type Cluster, startCluster } from "./helpers.js";

const CP1 = "10.9.0.2";
const CP2 = "10.9.0.3";
const W1 = "10.9.0.4";

describe("TalosClient", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ emulator: { etcdSnapshotBytes: 3 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await cluster.close();
  });

  it("returns one hostname per node in order when fanned out", async ({ expect }) => {
    const results = await cluster.client.hostname({ nodes: [W1, CP1] });
    expect(results).toEqual([
      { node: W1, ok: true, value: "w1" },
      { node: CP1, ok: true, value: "cp1" },
    ]);
  });

  it("targets the context's nodes by default when the client has several", async ({ expect }) => {
    const client = cluster.clientFor({ nodes: [CP1, CP2] });
    const versions = await client.version();
    expect(versions.map((v) => v.ok && v.value.tag)).toEqual(["v1.13.9", "v1.13.9"]);
    await expect(client.kubeconfig()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("reports dry-run, staged and try modes when reapplying a config over mTLS", async ({ expect }) => {
    const data = buildMachineConfig({ type: "worker", ca: cluster.ca, clusterName: "lab", hostname: "w1" });
    const dry = await cluster.client.applyConfiguration({ node: W1, data, dryRun: true });
    expect(dry).toMatchObject({ node: W1, mode: "no-reboot" });
    expect(dry.modeDetails).toContain("Dry run");
    const staged = await cluster.client.applyConfiguration({ node: W1, data, mode: "staged" });
    expect(staged.mode).toBe("staged");
    const tried = await cluster.client.applyConfiguration({
      node: W1,
      data,
      mode: "try",
      tryModeTimeoutMs: 60_000,
    });
    expect(tried).toMatchObject({ mode: "try", warnings: [] });
    expect(tried.modeDetails).toContain("60s");
  });

  it("fails with ALREADY_EXISTS when bootstrapping a second time, as Talos does", async ({ expect }) => {
    await expect(cluster.client.bootstrap({ node: CP2 })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
      details: { node: CP2 },
    });
  });

  it("starts, stops and restarts services", async ({ expect }) => {
    expect(await cluster.client.serviceStop({ node: W1, id: "kubelet" })).toContain("stopped");
    let [list] = await cluster.client.serviceList({ nodes: [W1] });
    expect(list?.ok && list.value.find((s) => s.id === "kubelet")?.state).toBe("Finished");
    expect(await cluster.client.serviceStart({ node: W1, id: "kubelet" })).toContain("started");
    expect(await cluster.client.serviceRestart({ node: W1, id: "kubelet" })).toContain("restarted");
    [list] = await cluster.client.serviceList({ nodes: [W1] });
    const kubelet = list?.ok ? list.value.find((s) => s.id === "kubelet") : undefined;
    expect(kubelet).toMatchObject({ state: "Running", health: { healthy: true } });
    expect(kubelet?.events.length).toBeGreaterThan(1);
    await expect(cluster.client.serviceStart({ node: W1, id: "nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("reports etcd status, leadership and streams a snapshot into a Writable and a WritableStream", async ({
    expect,
  }) => {
    const status = await cluster.client.etcdStatus({ nodes: [CP1, CP2, W1] });
    expect(status[0]).toMatchObject({ ok: true, value: { protocolVersion: "3.5.17" } });
    // talos internal/app/internal/machinehelper CheckControlplane: UNIMPLEMENTED on a worker.
    expect(status[2]).toMatchObject({ ok: false, error: { code: "UNIMPLEMENTED" } });
    expect(await cluster.client.etcdForfeitLeadership({ node: CP1 })).toEqual({ member: "cp1" });

    let written = 0;
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        setImmediate(done);
      },
    });
    expect(await cluster.client.etcdSnapshot({ node: CP1, destination: sink })).toEqual({
      node: CP1,
      bytes: 3 * 1024 * 1024,
    });
    expect(written).toBe(3 * 1024 * 1024);

    let streamed = 0;
    const web = new WritableStream<Uint8Array>({
      write(chunk) {
        streamed += chunk.length;
      },
    });
    await cluster.client.etcdSnapshot({ node: CP2, destination: web });
    expect(streamed).toBe(3 * 1024 * 1024);
  });

  it("tails logs and dmesg", async ({ expect }) => {
    const lines: string[] = [];
    for await (const line of cluster.client.logs({ node: W1, id: "kubelet", tailLines: 3 })) lines.push(line);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain("message 19");
    const all: string[] = [];
    for await (const line of cluster.client.dmesg({ node: CP1 })) all.push(line);
    expect(all).toHaveLength(20);
    const missing = async (): Promise<void> => {
      for await (const _ of cluster.client.logs({ node: W1, id: "etcd" })) {
        // drain
      }
    };
    await expect(missing()).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("reads memory, system stats, containers, disks and time with bigint counters", async ({ expect }) => {
    const [memory] = await cluster.client.memory({ nodes: [CP1] });
    expect(memory?.ok && memory.value.memtotal).toBe(16_384_000n);
    const [stat] = await cluster.client.systemStat({ nodes: [CP1] });
    expect(stat?.ok && stat.value.cpu).toHaveLength(2);
    const [containers] = await cluster.client.containers({ nodes: [CP1] });
    expect(containers?.ok && containers.value.map((c) => c.id)).toContain("etcd");
    const [pods] = await cluster.client.containers({ nodes: [CP1], driver: "cri" });
    expect(pods?.ok && pods.value[0]?.namespace).toBe("k8s.io");
    const [disks] = await cluster.client.disks({ nodes: [W1] });
    expect(disks?.ok && disks.value.map((d) => d.deviceName)).toEqual(["/dev/sda", "/dev/nvme0n1"]);
    const [time] = await cluster.client.time({ nodes: [W1], server: "pool.ntp.org" });
    expect(time).toMatchObject({ ok: true, value: { server: "pool.ntp.org" } });
    expect(time?.ok && time.value.localTime instanceof Date).toBe(true);
  });

  it("lists processes, mounts and load averages, reads and lists files", async ({ expect }) => {
    const [processes] = await cluster.client.processes({ nodes: [CP1] });
    expect(processes?.ok && processes.value.map((p) => p.command)).toContain("etcd");
    const [mounts] = await cluster.client.mounts({ nodes: [W1] });
    expect(mounts?.ok && mounts.value[0]).toMatchObject({ mountedOn: "/var", available: 80_000_000_000n });
    const [load] = await cluster.client.loadAvg({ nodes: [W1] });
    expect(load).toMatchObject({ ok: true, value: { load1: 0.25, load5: 0.5, load15: 0.75 } });
    const hostname = await cluster.client.readFile({ node: W1, path: "/etc/hostname" });
    expect(new TextDecoder().decode(hostname)).toBe("w1\n");
    await expect(cluster.client.readFile({ node: W1, path: "/nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const files = await cluster.client.listFiles({ node: W1, root: "/etc" });
    expect(files.map((f) => f.name).sort()).toEqual(["/etc/hostname", "/etc/os-release"]);
    expect((await cluster.client.listFiles({ node: W1, root: "/", recurse: true })).length).toBe(3);
    const copied = await cluster.client.copy({ node: W1, rootPath: "/etc" });
    expect(copied.map((e) => e.name).sort()).toEqual(["etc/hostname", "etc/os-release"]);
  });

  it("generates a client configuration whose talosconfig connects with the requested role", async ({
    expect,
  }) => {
    const generated = await cluster.client.generateClientConfiguration({
      node: CP1,
      roles: ["os:reader"],
      crtTtlMs: 3_600_000,
    });
    expect(generated.crt).toContain("BEGIN CERTIFICATE");
    expect(generated.talosconfig).toContain("os:reader@lab");
    const reader = createTalosClient({
      talosconfig: generated.talosconfig,
      endpoints: [cluster.emulator.node("cp1").endpoint],
    });
    expect((await reader.version({ nodes: [CP2] }))[0]?.ok).toBe(true);
    await expect(reader.reboot({ node: CP2 })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    reader.close();
    await expect(
      cluster.client.generateClientConfiguration({ node: W1, roles: ["os:reader"], crtTtlMs: 1000 }),
    ).rejects.toMatchObject({ code: "UNIMPLEMENTED" });
  });

  it("calls any generated RPC through call and stream", async ({ expect }) => {
    const response = await cluster.client.call(
      MachineService.method.version,
      {},
      { node: CP2, idempotent: true },
    );
    expect(response.messages[0]?.version?.tag).toBe("v1.13.9");
    const chunks: number[] = [];
    for await (const data of cluster.client.stream(MachineService.method.kubeconfig, {}, { node: CP1 })) {
      chunks.push(data.bytes.length);
    }
    expect(chunks.length).toBeGreaterThan(0);
  });

  it("retries reads on UNAVAILABLE and never retries a mutating call", async ({ expect }) => {
    cluster.emulator.faults({ node: "cp2", methods: ["Version"], unavailable: 2 });
    const before = cluster.emulator.callLog.length;
    const [version] = await cluster.client.version({ nodes: [CP2] });
    expect(version?.ok).toBe(true);
    const attempts = cluster.emulator.callLog.slice(before).filter((e) => e.method.endsWith("/Version"));
    expect(attempts.map((e) => e.code)).toEqual([14, 14, 0]);

    cluster.emulator.faults({ node: "cp2", methods: ["Reboot"], unavailable: 1 });
    const mark = cluster.emulator.callLog.length;
    await expect(cluster.client.reboot({ node: CP2 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(cluster.emulator.callLog.slice(mark).filter((e) => e.method.endsWith("/Reboot"))).toHaveLength(1);
    cluster.emulator.clearFaults();
  });

  it("retries ApplyConfiguration on UNAVAILABLE like a read, telling onRetry each time", async ({
    expect,
  }) => {
    const retries: { method: string; node: string; attempt: number; code: string }[] = [];
    const client = cluster.clientFor({
      retryBaseDelayMs: 1,
      onRetry: (e) =>
        retries.push({ method: e.method, node: e.node, attempt: e.attempt, code: e.error.code }),
    });
    const data = buildMachineConfig({ type: "worker", ca: cluster.ca, clusterName: "lab", hostname: "w1" });
    cluster.emulator.faults({ node: "w1", methods: ["ApplyConfiguration"], unavailable: 2 });
    const before = cluster.emulator.callLog.length;
    const applied = await client.applyConfiguration({ node: W1, data, dryRun: true });
    expect(applied.node).toBe(W1);
    const codes = cluster.emulator.callLog
      .slice(before)
      .filter((e) => e.method.endsWith("/ApplyConfiguration"))
      .map((e) => e.code);
    expect(codes).toEqual([14, 14, 0]);
    expect(retries).toEqual([
      { method: "/machine.MachineService/ApplyConfiguration", node: W1, attempt: 2, code: "UNAVAILABLE" },
      { method: "/machine.MachineService/ApplyConfiguration", node: W1, attempt: 3, code: "UNAVAILABLE" },
    ]);
    cluster.emulator.clearFaults();
    client.close();
  });

  it("retries a read stream that fails before its first message and moves to the next endpoint", async ({
    expect,
  }) => {
    cluster.emulator.faults({ node: "cp1", methods: ["Kubeconfig"], unavailable: 1 });
    const before = cluster.emulator.callLog.length;
    expect(await cluster.client.kubeconfig({ node: CP1 })).toContain("kind: Config");
    const codes = cluster.emulator.callLog
      .slice(before)
      .filter((e) => e.method.endsWith("/Kubeconfig"))
      .map((e) => e.code);
    expect(codes).toEqual([14, 0]);
    cluster.emulator.clearFaults();
    const client = cluster.clientFor({ endpoints: ["127.0.0.1:1", cluster.emulator.node("cp2").endpoint] });
    expect(await client.kubeconfig({ node: CP1 })).toContain("kind: Config");
  });

  it("fails over to the next endpoint when the first cannot be reached", async ({ expect }) => {
    const client = cluster.clientFor({
      endpoints: ["127.0.0.1:1", cluster.emulator.node("cp2").endpoint],
      nodes: [CP2],
    });
    const results = await Promise.all([client.hostname(), client.hostname(), client.hostname()]);
    expect(results.flat().map((r) => r.ok && r.value)).toEqual(["cp2", "cp2", "cp2"]);
  });

  it("refuses a call with several endpoints and no target node instead of reaching any of them", async ({
    expect,
  }) => {
    const endpoints = [cluster.emulator.node("cp1").endpoint, cluster.emulator.node("cp2").endpoint];
    const client = cluster.clientFor({ endpoints });
    const before = cluster.emulator.callLog.length;
    await expect(client.bootstrap()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(client.upgrade({ image: "ghcr.io/siderolabs/installer:v1.14.0" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    const [version] = await client.version();
    expect(version).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENT" } });
    expect(cluster.emulator.callLog.length).toBe(before);
    const [pinned] = await client.hostname({ nodes: [CP2] });
    expect(pinned).toMatchObject({ ok: true, node: CP2, value: "cp2" });
  });

  it("maps a deadline to DEADLINE_EXCEEDED and a dropped stream to UNAVAILABLE", async ({ expect }) => {
    cluster.emulator.faults({ node: "cp1", methods: ["Memory"], latencyMs: 300 });
    const [slow] = await cluster.client.memory({ nodes: [CP1], timeoutMs: 50 });
    expect(slow).toMatchObject({ ok: false, error: { code: "DEADLINE_EXCEEDED" } });
    cluster.emulator.clearFaults();
    cluster.emulator.faults({ node: "cp2", methods: ["EtcdSnapshot"], dropStreamAfter: 1 });
    await expect(
      cluster.client.etcdSnapshot({ node: CP2, destination: new PassThrough().resume() }),
    ).rejects.toMatchObject({ code: "UNAVAILABLE" });
    cluster.emulator.clearFaults();
  });
});
