import { describe, it } from "vitest";
import { createTalosClient } from "../src/index.js";
import {
  buildMachineConfig,
  buildTalosconfig,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
} from "../src/testing/index.js";
import { startCluster } from "./helpers.js";

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe.each(["v1.11.6", "v1.12.11"])(
  "Talos %s in maintenance mode (separate maintenance server)",
  (version) => {
    it("answers only ApplyConfiguration, storage and COSI; Version is UNIMPLEMENTED without SideroLink", async ({
      expect,
    }) => {
      const emulator = await createTalosEmulator({
        nodes: [{ name: "m1", address: "10.6.0.2", talosVersion: version }],
      });
      const client = createTalosClient({ endpoints: [emulator.node("m1").endpoint], insecure: true });
      try {
        const [v] = await client.version();
        expect(v).toMatchObject({ ok: false, error: { code: "UNIMPLEMENTED" } });
        expect(v?.ok === false && v.error.rawMessage).toContain("API is not implemented in maintenance mode");
        const [hostname] = await client.hostname();
        expect(hostname).toMatchObject({ ok: false, error: { code: "UNIMPLEMENTED" } });
        const [time] = await client.time();
        expect(time?.ok === false && time.error.rawMessage).toContain("unknown service time.TimeService");
        expect((await client.disks())[0]).toMatchObject({ ok: true });
        expect((await client.list({ type: "disks" })).length).toBeGreaterThan(0);
        const ca = await generateTalosCa();
        const data = buildMachineConfig({ type: "controlplane", ca });
        await expect(client.applyConfiguration({ data, mode: "no-reboot" })).rejects.toMatchObject({
          code: "UNIMPLEMENTED",
          rawMessage: expect.stringContaining("--mode='no-reboot' is not supported in maintenance mode"),
        });
        await client.applyConfiguration({ data, mode: "auto" });
        expect(emulator.node("m1").state()).not.toBe("maintenance");
      } finally {
        client.close();
        await emulator.close();
      }
    });
  },
);

describe("maintenance mode targeting", () => {
  it("dials the target node directly instead of sending `node` to an endpoint that ignores it", async ({
    expect,
  }) => {
    const emulator = await createTalosEmulator({
      nodes: [
        { name: "m1", address: "10.6.1.2" },
        { name: "m2", address: "10.6.1.3" },
      ],
    });
    const m2 = emulator.node("m2").endpoint;
    const client = createTalosClient({ endpoints: [emulator.node("m1").endpoint], insecure: true });
    try {
      const ca = await generateTalosCa();
      const result = await client.applyConfiguration({
        node: m2,
        data: buildMachineConfig({ type: "controlplane", ca, hostname: "m2" }),
      });
      expect(result.node).toBe(m2);
      expect(emulator.node("m2").state()).not.toBe("maintenance");
      expect(emulator.node("m1").state()).toBe("maintenance");
      expect(
        emulator.callLog.filter((e) => e.method.endsWith("/ApplyConfiguration")).map((e) => e.endpoint),
      ).toEqual(["m2"]);
    } finally {
      client.close();
      await emulator.close();
    }
  });
});

describe("apply and reboot modes per Talos line", () => {
  it("refuses apply mode reboot on 1.14 and resolves auto to no-reboot", async ({ expect }) => {
    const cluster = await startCluster({
      fleet: [{ name: "cp1", address: "10.6.2.2", type: "controlplane", talosVersion: "v1.14.0" }],
    });
    try {
      const data = cluster.emulator.node("cp1").appliedConfig()!;
      await expect(cluster.client.applyConfiguration({ data, mode: "reboot" })).rejects.toMatchObject({
        code: "UNIMPLEMENTED",
        rawMessage: expect.stringContaining("the REBOOT mode is not supported"),
      });
      const changed = data.replace("clusterName: lab", "clusterName: lab2");
      expect((await cluster.client.applyConfiguration({ data: changed, mode: "auto" })).mode).toBe(
        "no-reboot",
      );
    } finally {
      await cluster.close();
    }
  });

  it("resolves auto to reboot on 1.13 when the change cannot apply live", async ({ expect }) => {
    const cluster = await startCluster({
      fleet: [{ name: "cp1", address: "10.6.3.2", type: "controlplane", talosVersion: "v1.13.9" }],
      emulator: { rebootDelayMs: 20 },
    });
    try {
      const data = cluster.emulator.node("cp1").appliedConfig()!;
      expect((await cluster.client.applyConfiguration({ data, mode: "auto" })).mode).toBe("no-reboot");
      const changed = data.replace("clusterName: lab", "clusterName: lab2");
      const result = await cluster.client.applyConfiguration({ data: changed, mode: "auto" });
      expect(result).toMatchObject({ mode: "reboot", modeDetails: "Applied configuration with a reboot" });
    } finally {
      await cluster.close();
    }
  });

  it("refuses reboot mode force on 1.11 (unknown there) without sending it, and sends it on 1.12", async ({
    expect,
  }) => {
    const cluster = await startCluster({
      fleet: [
        { name: "cp1", address: "10.6.4.2", type: "controlplane", talosVersion: "v1.12.11" },
        { name: "old", address: "10.6.4.3", type: "worker", talosVersion: "v1.11.6" },
      ],
      emulator: { rebootDelayMs: 20 },
    });
    try {
      await expect(cluster.client.reboot({ node: "10.6.4.3", mode: "force" })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        rawMessage: expect.stringContaining("needs Talos 1.12"),
      });
      expect(cluster.emulator.callLog.some((e) => e.method.endsWith("/Reboot"))).toBe(false);
      expect((await cluster.client.reboot({ node: "10.6.4.2", mode: "force" })).actorId).not.toBe("");
    } finally {
      await cluster.close();
    }
  });
});

describe("wire details", () => {
  it("skips the hello event, decodes ProcessInfo.label", async ({ expect }) => {
    const cluster = await startCluster({
      fleet: [{ name: "cp1", address: "10.6.5.2", type: "controlplane" }],
    });
    try {
      const controller = new AbortController();
      const seen: string[] = [];
      const following = (async () => {
        for await (const event of cluster.client.events({ signal: controller.signal })) {
          seen.push(event.type);
          controller.abort();
        }
      })().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      await cluster.client.serviceRestart({ id: "kubelet" });
      await following;
      expect(seen).toEqual(["machine.ServiceStateEvent"]);
      const [processes] = await cluster.client.processes();
      expect(processes?.ok && processes.value[0]?.label).toMatch(/^system_u:system_r:/);
    } finally {
      await cluster.close();
    }
  });

  it("reports apid failing to reach the target node as UNAVAILABLE, not as our TLS error", async ({
    expect,
  }) => {
    const emulator = await createTalosEmulator({
      nodes: [
        { name: "a", address: "10.6.6.2" },
        { name: "b", address: "10.6.6.3" },
      ],
    });
    const caA = await generateTalosCa();
    const caB = await generateTalosCa();
    for (const [name, ca] of [
      ["a", caA],
      ["b", caB],
    ] as const) {
      const insecure = createTalosClient({ endpoints: [emulator.node(name).endpoint], insecure: true });
      await insecure.applyConfiguration({
        data: buildMachineConfig({ type: "controlplane", ca, hostname: name }),
      });
      insecure.close();
    }
    await until(() => emulator.node("a").state() === "running");
    const admin = await issueCertificate({ ca: caA, usage: "client", organizations: ["os:admin"] });
    const client = createTalosClient({
      talosconfig: buildTalosconfig({ endpoints: [emulator.node("a").endpoint], ca: caA.crt, ...admin }),
      readAttempts: 1,
    });
    try {
      const [result] = await client.version({ nodes: ["10.6.6.3"] });
      expect(result).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
      expect(result?.ok === false && result.error.rawMessage).toContain("authentication handshake failed");
    } finally {
      client.close();
      await emulator.close();
    }
  });
});
