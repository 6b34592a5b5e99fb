// talos-config: patch engine throughput on a realistic config, and secrets/config/talosconfig generation
// times. Imports the built package (run `pnpm --filter @talos-homelab/talos-config run build` first, or
// `pnpm bench talos-config-patch`).
import { performance } from "node:perf_hooks";
import {
  applyPatches,
  diffConfigs,
  generateConfig,
  generateSecrets,
  generateTalosconfig,
  parseDocuments,
} from "../packages/talos-config/dist/index.js";

function time(fn, iterations) {
  for (let i = 0; i < Math.min(iterations, 20); i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  return (performance.now() - start) / iterations;
}

const fmt = (n, digits = 2) => n.toFixed(digits);

const t0 = performance.now();
const secrets = generateSecrets();
const firstSecretsMs = performance.now() - t0;
const secretsRuns = 5;
const secretsMs = time(() => generateSecrets(), secretsRuns);

const common = {
  secrets,
  clusterName: "homelab",
  endpoint: "https://192.168.50.200:6443",
  kubernetesVersion: "1.34.1",
};
const modern = generateConfig({ ...common, role: "controlplane", target: "v1.15.0" });
const legacy = generateConfig({ ...common, role: "controlplane", target: "v1.11.6" });

// A node patch of the kind the CLI applies: hostname, link, VIP, resolver, extension services with
// config files, kubelet args, a document delete and a list-element delete.
const modernPatch = parseDocuments(`apiVersion: v1alpha1
kind: HostnameConfig
auto: "off"
hostname: cp1
---
apiVersion: v1alpha1
kind: LinkConfig
name: eno1
addresses:
  - address: 192.168.50.200/24
routes:
  - gateway: 192.168.50.1
mtu: 1500
---
apiVersion: v1alpha1
kind: Layer2VIPConfig
name: 192.168.50.10
link: eno1
---
apiVersion: v1alpha1
kind: ResolverConfig
nameservers:
  - address: 10.96.0.10
  - address: 1.1.1.1
---
apiVersion: v1alpha1
kind: KubeNodeConfig
nodeIP:
  validSubnets: [192.168.50.0/24]
---
apiVersion: v1alpha1
kind: KubeletConfig
extraArgs:
  rotate-server-certificates: "true"
---
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: cloudflared
environment:
  - TUNNEL_TOKEN=fake
  - TUNNEL_METRICS=localhost:2000
---
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: tailscale
environment:
  - TS_AUTHKEY=fake
  - TS_ROUTES=10.96.0.0/12
configFiles:
  - mountPath: /var/lib/tailscale/extra
    content: x
---
apiVersion: v1alpha1
kind: KubeFlannelCNIConfig
$patch: delete
---
apiVersion: v1alpha1
kind: KubeAuthorizerConfig
name: node
type: Node
`);
const legacyPatch = parseDocuments(`version: v1alpha1
machine:
  network:
    hostname: cp1
    nameservers: [10.96.0.10, 1.1.1.1]
    interfaces:
      - interface: eno1
        addresses: [192.168.50.200/24]
        routes:
          - network: 0.0.0.0/0
            gateway: 192.168.50.1
        vip:
          ip: 192.168.50.10
        vlans:
          - vlanId: 20
            dhcp: true
  kubelet:
    extraArgs:
      rotate-server-certificates: "true"
    nodeIP:
      validSubnets: [192.168.50.0/24]
  certSANs: [cp.lab]
cluster:
  network:
    serviceSubnets: [10.43.0.0/16]
  apiServer:
    admissionControl:
      - name: PodSecurity
        $patch: delete
`);
const jsonPatch = [
  { op: "add", path: "/machine/certSANs/-", value: "cp.lab" },
  { op: "replace", path: "/cluster/clusterName", value: "lab" },
];

const iterations = 2_000;
const modernMs = time(() => applyPatches(modern, [modernPatch]), iterations);
const legacyMs = time(() => applyPatches(legacy, [legacyPatch]), iterations);
const jsonMs = time(() => applyPatches(legacy, [jsonPatch]), iterations);
const textMs = time(
  () => applyPatches(legacy, [legacyPatch, jsonPatch, "machine:\n  install:\n    disk: /dev/sda\n"]),
  500,
);
const patched = applyPatches(modern, [modernPatch]);
const diffMs = time(() => diffConfigs(modern, patched), iterations);
const configMs = time(
  (i) => generateConfig({ ...common, role: i % 2 ? "worker" : "controlplane", target: "v1.15.0" }),
  iterations,
);
const talosconfigMs = time(
  () => generateTalosconfig({ secrets, contextName: "homelab", endpoints: ["192.168.50.200"] }),
  200,
);

const modernDocs = modern.length;
const modernPatchDocs = modernPatch.length;
console.log(
  `patch engine, v1.15 control plane (${modernDocs} documents) + ${modernPatchDocs}-document node patch:`,
);
console.log(
  `  ${fmt(modernMs * 1000, 1)} µs per applyPatches → ${fmt(1000 / modernMs, 0)} patches/s (${fmt((1000 / modernMs) * modernPatchDocs, 0)} patch documents/s)`,
);
console.log(`patch engine, v1.11 single v1alpha1 document + interfaces/VLAN/admission merge patch:`);
console.log(`  ${fmt(legacyMs * 1000, 1)} µs → ${fmt(1000 / legacyMs, 0)} patches/s`);
console.log(
  `JSON 6902 (2 ops) on the v1.11 document: ${fmt(jsonMs * 1000, 1)} µs → ${fmt(1000 / jsonMs, 0)} patches/s`,
);
console.log(`three patches incl. YAML text parsing: ${fmt(textMs * 1000, 1)} µs per applyPatches call`);
console.log(`diffConfigs (v1.15 control plane before/after the node patch): ${fmt(diffMs * 1000, 1)} µs`);
console.log(`generateConfig v1.15: ${fmt(configMs * 1000, 1)} µs per config`);
console.log(`generateTalosconfig (Ed25519 key + certificate): ${fmt(talosconfigMs, 3)} ms`);
console.log(
  `generateSecrets: ${fmt(secretsMs, 0)} ms mean of ${secretsRuns} (first call ${fmt(firstSecretsMs, 0)} ms; dominated by the RSA-4096 service-account key)`,
);
console.log(
  `ratios: legacy/modern patch time ${fmt(legacyMs / modernMs)}x, generateSecrets/applyPatches ${fmt(secretsMs / modernMs, 0)}x`,
);
