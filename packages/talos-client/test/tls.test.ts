import { afterAll, beforeAll, describe, it } from "vitest";
import { createTalosClient } from "../src/index.js";
import {
  buildTalosconfig,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
} from "../src/testing/index.js";
import { type Cluster, startCluster } from "./helpers.js";

describe("createTalosClient over mutual TLS", () => {
  let cluster: Cluster;
  const cp1 = "10.9.0.2";

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster.close();
  });

  const configWith = (ca: string, crt: string, key: string): string =>
    buildTalosconfig({ endpoints: [cluster.emulator.node("cp1").endpoint], ca, crt, key });

  it("fails with TLS_ERROR when the talosconfig trusts another CA", async ({ expect }) => {
    const other = await generateTalosCa();
    const client = createTalosClient({
      talosconfig: configWith(other.crt, cluster.admin.crt, cluster.admin.key),
      readAttempts: 1,
    });
    const [result] = await client.version();
    client.close();
    expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
  });

  it("fails with TLS_ERROR when the client certificate is signed by another CA", async ({ expect }) => {
    const other = await generateTalosCa();
    const stranger = await issueCertificate({ ca: other, usage: "client", organizations: ["os:admin"] });
    const client = createTalosClient({
      talosconfig: configWith(cluster.ca.crt, stranger.crt, stranger.key),
      readAttempts: 1,
    });
    const [result] = await client.version();
    client.close();
    expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
  });

  it("fails with TLS_ERROR when the client certificate has expired", async ({ expect }) => {
    const expired = await issueCertificate({
      ca: cluster.ca,
      usage: "client",
      organizations: ["os:admin"],
      notBefore: new Date(Date.now() - 48 * 3600_000),
      notAfter: new Date(Date.now() - 24 * 3600_000),
    });
    const client = createTalosClient({
      talosconfig: configWith(cluster.ca.crt, expired.crt, expired.key),
      readAttempts: 1,
    });
    const [result] = await client.version();
    client.close();
    expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
  });

  it("allows reads but denies bootstrap and kubeconfig when the certificate lacks os:admin", async ({
    expect,
  }) => {
    const reader = await issueCertificate({ ca: cluster.ca, usage: "client", organizations: ["os:reader"] });
    const client = createTalosClient({ talosconfig: configWith(cluster.ca.crt, reader.crt, reader.key) });
    const [version] = await client.version({ nodes: [cp1] });
    expect(version?.ok).toBe(true);
    await expect(client.kubeconfig({ node: cp1 })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(client.reset({ node: "10.9.0.3" })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(client.get({ node: cp1, type: "machineconfig", id: "v1alpha1" })).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
    client.close();
  });

  it("refuses an insecure client once the node runs with its OS CA", async ({ expect }) => {
    const client = createTalosClient({
      endpoints: [cluster.emulator.node("cp1").endpoint],
      insecure: true,
      readAttempts: 1,
    });
    const [result] = await client.version();
    client.close();
    expect(result?.ok).toBe(false);
  });

  it("reports CANCELLED and stops the server stream when a followed log is aborted half way", async ({
    expect,
  }) => {
    const controller = new AbortController();
    const seen: string[] = [];
    const read = async (): Promise<void> => {
      for await (const line of cluster.client.logs({
        node: cp1,
        id: "kubelet",
        follow: true,
        tailLines: 2,
        signal: controller.signal,
      })) {
        seen.push(line);
        if (seen.length === 4) controller.abort();
      }
    };
    await expect(read()).rejects.toMatchObject({ code: "CANCELLED" });
    expect(seen).toHaveLength(4);
    expect(seen[0]).toContain("kubelet");
    await new Promise((r) => setTimeout(r, 100));
    const entry = cluster.emulator.callLog.findLast((e) => e.method === "/machine.MachineService/Logs");
    expect(entry?.code).toBe(1);
  });

  it("ends the server stream when the consumer breaks out of the loop", async ({ expect }) => {
    let count = 0;
    for await (const _line of cluster.client.dmesg({ node: cp1, follow: true })) {
      count++;
      if (count === 3) break;
    }
    expect(count).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(cluster.emulator.callLog.findLast((e) => e.method === "/machine.MachineService/Dmesg")?.code).toBe(
      1,
    );
  });

  it("reports the dead node and still returns the others when a node dies during a fan-out", async ({
    expect,
  }) => {
    const client = cluster.clientFor({ readAttempts: 2 });
    cluster.emulator.faults({ node: "w1", methods: ["Version"], latencyMs: 100 });
    const pending = client.version({ nodes: ["10.9.0.2", "10.9.0.3", "10.9.0.4"] });
    setTimeout(() => cluster.emulator.node("w1").stop(), 20);
    const results = await pending;
    cluster.emulator.clearFaults();
    cluster.emulator.node("w1").start();
    expect(results.map((r) => [r.node, r.ok])).toEqual([
      ["10.9.0.2", true],
      ["10.9.0.3", true],
      ["10.9.0.4", false],
    ]);
    expect(results[2]).toMatchObject({
      ok: false,
      error: { code: "UNAVAILABLE", details: { node: "10.9.0.4" } },
    });
  });

  it("refuses a config without a v1alpha1 document on a configured node with Talos's message", async ({
    expect,
  }) => {
    await expect(
      cluster.client.applyConfiguration({
        node: cp1,
        data: "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n",
      }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      rawMessage: expect.stringContaining(
        "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?",
      ),
    });
  });
});

describe("createTalosClient in maintenance mode", () => {
  it("allows only the maintenance RPCs and pins the server key when asked", async ({ expect }) => {
    const emulator = await createTalosEmulator({ nodes: [{ name: "m1", address: "10.8.0.2" }] });
    const node = emulator.node("m1");
    try {
      const client = createTalosClient({
        endpoints: [node.endpoint],
        insecure: true,
        spkiPins: [node.maintenanceSpki],
      });
      expect((await client.version())[0]?.ok).toBe(true);
      expect((await client.disks())[0]).toMatchObject({ ok: true });
      await expect(client.bootstrap()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
      await expect(client.reset()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
      await expect(client.kubeconfig()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
      // A target node is dialled directly in maintenance mode (no routing there).
      const [direct] = await client.version({ nodes: [node.endpoint] });
      expect(direct).toMatchObject({ ok: true, node: node.endpoint });
      client.close();

      const pinned = createTalosClient({ endpoints: [node.endpoint], insecure: true, spkiPins: ["AAAA"] });
      const [result] = await pinned.version();
      pinned.close();
      expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
    } finally {
      await emulator.close();
    }
  });

  it("rejects a machine config without a v1alpha1 document", async ({ expect }) => {
    const emulator = await createTalosEmulator({ nodes: [{ name: "m1", address: "10.8.0.2" }] });
    try {
      const client = createTalosClient({ endpoints: [emulator.node("m1").endpoint], insecure: true });
      await expect(
        client.applyConfiguration({ data: "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n" }),
      ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(emulator.node("m1").state()).toBe("maintenance");
      client.close();
    } finally {
      await emulator.close();
    }
  });
});

describe("createGrpcTransport with SPKI pins", () => {
  it("enforces the pin on the connection the call uses, not only on the probe", async ({ expect }) => {
    const { createServer } = await import("node:tls");
    const { spkiFingerprint } = await import("../src/internal/pem.js");
    const ca = await generateTalosCa();
    const first = await issueCertificate({
      ca,
      usage: "server",
      ipAddresses: ["127.0.0.1"],
      keyLabel: "PRIVATE KEY",
    });
    const second = await issueCertificate({
      ca,
      usage: "server",
      ipAddresses: ["127.0.0.1"],
      keyLabel: "PRIVATE KEY",
    });
    const server = createServer({ cert: first.crt, key: first.key, ALPNProtocols: ["h2"] });
    let connections = 0;
    server.on("secureConnection", (socket) => {
      connections++;
      // After the probe, an impostor takes over the endpoint.
      server.setSecureContext({ cert: second.crt, key: second.key });
      socket.destroy();
    });
    server.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const client = createTalosClient({
        endpoints: [`127.0.0.1:${port}`],
        insecure: true,
        spkiPins: [spkiFingerprint(first.crt)],
        readAttempts: 1,
      });
      const [result] = await client.version();
      client.close();
      expect(connections).toBe(1);
      expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
