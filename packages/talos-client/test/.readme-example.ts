import { createTalosClient } from "../src/index.js";
import {
  buildMachineConfig,
  buildTalosconfig,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
} from "../src/testing/index.js";

const emulator = await createTalosEmulator({ nodes: [{ name: "cp1", address: "10.0.0.2" }] });
const endpoint = emulator.node("cp1").endpoint;

// Maintenance mode: no client certificate; apply a machine config carrying the OS CA.
const ca = await generateTalosCa();
const maintenance = createTalosClient({ endpoints: [endpoint], insecure: true });
await maintenance.applyConfiguration({
  data: buildMachineConfig({ type: "controlplane", ca, clusterName: "lab", hostname: "cp1" }),
});
maintenance.close();

// Mutual TLS with an os:admin client certificate signed by that CA.
const admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
const talosconfig = buildTalosconfig({ endpoints: [endpoint], nodes: ["10.0.0.2"], ca: ca.crt, ...admin });
const client = createTalosClient({ talosconfig });

await client.bootstrap();
const [version] = await client.version();
const members = await client.etcdMemberList();
const kubeconfig = await client.kubeconfig();
const health = await client.waitForHealthy({
  controlPlaneNodes: ["10.0.0.2"],
  workerNodes: [],
  timeoutMs: 10_000,
});

console.log(
  version?.ok ? version.value.tag : version?.error.code,
  members.length,
  kubeconfig.length,
  health.healthy,
);
client.close();
await emulator.close();
