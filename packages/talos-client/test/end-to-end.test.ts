import { afterAll, beforeAll, describe, it } from "vitest";
import { createTalosClient, type TalosClient } from "../src/index.js";
import {
  buildMachineConfig,
  buildTalosconfig,
  type CertificateAndKey,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
  type TalosEmulator,
} from "../src/testing/index.js";

const NODES = [
  { name: "cp1", address: "10.5.0.2", type: "controlplane" as const },
  { name: "cp2", address: "10.5.0.3", type: "controlplane" as const },
  { name: "w1", address: "10.5.0.4", type: "worker" as const },
];

describe("createTalosClient against the emulator", () => {
  let emulator: TalosEmulator;
  let ca: CertificateAndKey;
  let client: TalosClient;

  beforeAll(async () => {
    emulator = await createTalosEmulator({
      nodes: NODES,
      kubeconfig: ({ clusterName }) => `cluster: ${clusterName}\n`,
    });
    ca = await generateTalosCa();
  });

  afterAll(async () => {
    client?.close();
    await emulator.close();
  });

  it("reads the version insecurely and applies configs when nodes are in maintenance", async ({ expect }) => {
    for (const spec of NODES) {
      const node = emulator.node(spec.name);
      const insecure = createTalosClient({ endpoints: [node.endpoint], insecure: true });
      const [version] = await insecure.version();
      expect(version).toMatchObject({
        ok: true,
        value: { tag: "v1.13.9", platform: { name: "metal", mode: "metal" } },
      });
      const result = await insecure.applyConfiguration({
        data: buildMachineConfig({ type: spec.type, ca, clusterName: "lab", hostname: spec.name }),
      });
      expect(result.mode).toBe("no-reboot");
      insecure.close();
      expect(node.state()).not.toBe("maintenance");
    }
  });

  it("bootstraps, lists members and services, fetches the kubeconfig and waits for health over mTLS", async ({
    expect,
  }) => {
    const admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
    const talosconfig = buildTalosconfig({
      context: "lab",
      endpoints: [emulator.node("cp1").endpoint],
      ca: ca.crt,
      crt: admin.crt,
      key: admin.key,
    });
    client = createTalosClient({ talosconfig });
    await client.bootstrap({ node: "10.5.0.2" });
    const members = await client.etcdMemberList({ node: "10.5.0.2" });
    expect(members.map((m) => m.hostname).sort()).toEqual(["cp1", "cp2"]);
    expect(typeof members[0]?.id).toBe("bigint");
    const services = await client.serviceList({ nodes: NODES.map((n) => n.address) });
    expect(services.map((s) => s.node)).toEqual(["10.5.0.2", "10.5.0.3", "10.5.0.4"]);
    expect(services.every((s) => s.ok)).toBe(true);
    const worker = services[2];
    expect(worker?.ok && worker.value.map((s) => s.id)).toContain("kubelet");
    expect(await client.kubeconfig({ node: "10.5.0.3" })).toBe("cluster: lab\n");
    const report = await client.waitForHealthy({
      controlPlaneNodes: ["10.5.0.2", "10.5.0.3"],
      workerNodes: ["10.5.0.4"],
      timeoutMs: 5000,
      intervalMs: 50,
    });
    expect(report.healthy).toBe(true);
    expect(report.nodes.map((n) => n.stage)).toEqual(["running", "running", "running"]);
    expect(report.etcdMembers.sort()).toEqual(["cp1", "cp2"]);
    const proxied = emulator.callLog.filter((e) => e.proxied && e.endpoint === "cp1").map((e) => e.node);
    expect(proxied).toContain("w1");
  });
});
