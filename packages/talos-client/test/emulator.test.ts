import { describe, it } from "vitest";
import { createTalosClient } from "../src/index.js";
import {
  buildMachineConfig,
  buildTalosconfig,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
} from "../src/testing/index.js";

describe("createTalosEmulator", () => {
  it("keeps a worker without the CA key waiting until a control plane of its cluster is configured", async ({
    expect,
  }) => {
    const emulator = await createTalosEmulator({
      nodes: [
        { name: "w1", address: "10.7.0.3" },
        { name: "cp1", address: "10.7.0.2" },
      ],
    });
    try {
      const ca = await generateTalosCa({ keyLabel: "PRIVATE KEY" });
      const apply = async (name: string, type: "worker" | "controlplane"): Promise<void> => {
        const c = createTalosClient({ endpoints: [emulator.node(name).endpoint], insecure: true });
        await c.applyConfiguration({
          data: buildMachineConfig({ type, ca, hostname: name, hostnameStyle: "legacy" }),
        });
        c.close();
      };
      await apply("w1", "worker");
      expect(emulator.node("w1").appliedConfig()).toContain('key: ""');
      expect(emulator.node("w1").state()).toBe("booting");
      await apply("cp1", "controlplane");
      expect(emulator.node("w1").state()).toBe("running");
      const admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
      const client = createTalosClient({
        talosconfig: buildTalosconfig({ endpoints: [emulator.node("w1").endpoint], ca: ca.crt, ...admin }),
      });
      const [hostname] = await client.hostname();
      expect(hostname).toMatchObject({ ok: true, value: "w1" });
      const [forwarded] = await client.hostname({ nodes: ["10.7.0.2"] });
      expect(forwarded).toMatchObject({ ok: false, error: { code: "PERMISSION_DENIED" } });
      client.close();
      expect(emulator.callLog.at(-1)).toMatchObject({ endpoint: "w1", code: 7, roles: ["os:admin"] });
      expect(emulator.isBootstrapped()).toBe(false);
    } finally {
      await emulator.close();
    }
  });

  it("issues an admin talosconfig for the fleet and serializes without secrets", async ({ expect }) => {
    const emulator = await createTalosEmulator({
      nodes: [{ name: "cp1", address: "10.7.1.2", talosVersion: "1.12.2" }],
    });
    try {
      expect(emulator.node("cp1").talosVersion()).toBe("v1.12.2");
      await expect(emulator.talosconfig()).rejects.toThrow("no node has a config yet");
      const ca = await generateTalosCa();
      const c = createTalosClient({ endpoints: [emulator.node("10.7.1.2").endpoint], insecure: true });
      await c.applyConfiguration({ data: buildMachineConfig({ type: "controlplane", ca }) });
      c.close();
      const client = createTalosClient({ talosconfig: await emulator.talosconfig() });
      await client.bootstrap();
      expect((await client.etcdMemberList()).length).toBe(1);
      client.close();
      expect(JSON.stringify(emulator)).not.toContain("PRIVATE KEY");
      expect(JSON.parse(JSON.stringify(emulator))).toMatchObject({
        nodes: [{ name: "cp1", state: "running" }],
      });
    } finally {
      await emulator.close();
    }
  });
});
