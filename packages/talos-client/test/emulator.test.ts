import { inspect } from "node:util";
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
      expect(JSON.stringify(emulator.nodes)).not.toContain("PRIVATE KEY");
      expect(inspect(emulator, { depth: 10 })).not.toContain("PRIVATE KEY");
      expect(inspect(emulator.node("cp1"), { depth: 10 })).not.toContain("PRIVATE KEY");
      expect(JSON.parse(JSON.stringify(emulator))).toMatchObject({
        nodes: [{ name: "cp1", state: "running" }],
      });
    } finally {
      await emulator.close();
    }
  });
});

describe("createTalosEmulator machine configs", () => {
  it("runs ext-<name> services for ExtensionServiceConfig documents and reads KubeClusterConfig", async ({
    expect,
  }) => {
    const emulator = await createTalosEmulator({
      nodes: [{ name: "cp1", address: "10.7.2.2" }],
      kubeconfig: ({ clusterName, endpoint }) => `${clusterName} ${endpoint}\n`,
    });
    try {
      const ca = await generateTalosCa();
      const b64 = (s: string): string => Buffer.from(s).toString("base64");
      const config = [
        `version: v1alpha1\nmachine:\n  type: controlplane\n  ca:\n    crt: ${b64(ca.crt)}\n    key: ${b64(ca.key)}\ncluster: {}`,
        "apiVersion: v1alpha1\nkind: KubeClusterConfig\nclusterName: lab14\nendpoint: https://10.7.2.10:6443",
        "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: cloudflared\nenvironment:\n  - TUNNEL_TOKEN=very-secret",
        "apiVersion: v1alpha1\nkind: SomethingNew\nname: ignored",
      ].join("\n---\n");
      const insecure = createTalosClient({ endpoints: [emulator.node("cp1").endpoint], insecure: true });
      await insecure.applyConfiguration({ data: config });
      insecure.close();
      const client = createTalosClient({ talosconfig: await emulator.talosconfig() });
      const [services] = await client.serviceList();
      expect(services?.ok && services.value.find((s) => s.id === "ext-cloudflared")?.state).toBe("Running");
      const ext = await client.get<{ environment: string[] }>({
        type: "extensionserviceconfigs",
        id: "cloudflared",
      });
      expect(ext.spec.environment).toEqual(["TUNNEL_TOKEN=<redacted>"]);
      expect(await client.kubeconfig()).toBe("lab14 https://10.7.2.10:6443\n");
      client.close();
    } finally {
      await emulator.close();
    }
  });
});

describe("the emulator's middleware chain", () => {
  it("runs unary, server-streaming and client-streaming calls through one chain: proxying, faults, auth, log", async ({
    expect,
  }) => {
    const cluster = await startCluster();
    try {
      const { emulator } = cluster;
      const client = cluster.clientFor({ readAttempts: 1 });
      // An injected UNAVAILABLE on the proxied-to node, once per kind of call.
      emulator.faults({ node: "cp2", methods: ["Hostname", "Logs", "EtcdRecover"], unavailable: 3 });
      const [hostname] = await client.hostname({ nodes: ["10.9.0.3"] });
      expect(hostname).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
      await expect(
        (async () => {
          for await (const _ of client.logs({ node: "10.9.0.3", id: "kubelet" })) break;
        })(),
      ).rejects.toMatchObject({ code: "UNAVAILABLE" });
      await expect(
        client.etcdRecover({ node: "10.9.0.3", source: [new Uint8Array(1)] }),
      ).rejects.toMatchObject({ code: "UNAVAILABLE" });
      const proxied = emulator.callLog.filter((e) => e.node === "cp2" && e.proxied);
      expect(proxied.map((e) => [e.method.slice(e.method.lastIndexOf("/") + 1), e.code])).toEqual([
        ["Hostname", 14],
        ["Logs", 14],
        ["EtcdRecover", 14],
      ]);
      expect(proxied.every((e) => e.endpoint === "cp1")).toBe(true);
      // The fault is used up; the role table then refuses a reader the same way for every kind.
      const reader = await issueCertificate({
        ca: cluster.ca,
        usage: "client",
        organizations: ["os:reader"],
      });
      const readerClient = createTalosClient({
        talosconfig: buildTalosconfig({
          endpoints: [emulator.node("cp1").endpoint],
          ca: cluster.ca.crt,
          ...reader,
        }),
        readAttempts: 1,
      });
      try {
        expect((await readerClient.hostname())[0]).toMatchObject({ ok: true, value: "cp1" });
        await expect(readerClient.kubeconfig()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
        await expect(readerClient.etcdRecover({ source: [new Uint8Array(1)] })).rejects.toMatchObject({
          code: "PERMISSION_DENIED",
        });
      } finally {
        readerClient.close();
      }
    } finally {
      await cluster.close();
    }
  });
});
