import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TfvarsInput } from "../src/tofu/index.js";

/** The worktree root (packages/cli/test -> ../../). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** `<repo root>/../shared`, overridable by HOMELAB_SHARED_DIR. */
export const sharedDir: string = process.env.HOMELAB_SHARED_DIR ?? join(repoRoot, "..", "shared");
export const infrastructureDir: string = join(repoRoot, "infrastructure");
export const providersSchemaPath: string = join(sharedDir, "tofu", "providers.schema.json");
export const fixturesDir: string = join(repoRoot, "packages", "cli", "test", "fixtures", "tofu");

/** The single-node example of issue 9's homelab.yaml. */
export const singleNode: TfvarsInput = {
  cluster: {
    name: "homelab",
    talosVersion: "v1.13.9",
    kubernetesVersion: "1.34.1",
    endpoint: "https://192.168.50.200:6443",
    network: { podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] },
    allowSchedulingOnControlPlanes: true,
    nameservers: ["coredns", "1.1.1.1", "1.0.0.1"],
    extensions: ["siderolabs/cloudflared", "siderolabs/tailscale"],
  },
  nodes: [
    {
      name: "node1",
      role: "controlplane",
      address: "192.168.50.200",
      installDisk: "/dev/sda",
      interfaces: [{ name: "eno1", addresses: ["192.168.50.200/24"], gateway: "192.168.50.1" }],
    },
  ],
  tunnel: {
    name: "homelab",
    accountId: "0123456789abcdef0123456789abcdef",
    zone: "example.com",
    routes: [
      {
        hostname: "app1.example.com",
        service: "http://app1.apps.svc.cluster.local:80",
        access: { emails: ["me@example.com"] },
      },
      { hostname: "status.example.com", service: "http://status.apps.svc.cluster.local:80", public: true },
    ],
  },
  tailscale: { authKey: "env:TS_AUTHKEY", routes: ["10.96.0.0/12"] },
  argocd: {
    chartVersion: "9.1.0",
    repoURL: "https://github.com/me/homelab.git",
    path: "cluster/app-of-apps",
  },
};

const haNode = (name: string, role: "controlplane" | "worker", last: number, vip?: string) => ({
  name,
  role,
  address: `192.168.50.${last}`,
  installDisk: "/dev/nvme0n1",
  ...(role === "worker" ? { tunnel: false } : {}),
  interfaces: [
    {
      name: "eno1",
      addresses: [`192.168.50.${last}/24`],
      gateway: "192.168.50.1",
      ...(vip === undefined ? {} : { vip }),
    },
  ],
});

/** 3 control planes sharing a VIP + 2 workers, path routes, service tokens and group access. */
export const highlyAvailable: TfvarsInput = {
  cluster: {
    name: "ha",
    talosVersion: "v1.13.9",
    endpoint: "https://192.168.50.10:6443",
    nameservers: ["coredns", "1.1.1.1"],
    extensions: ["siderolabs/cloudflared", "siderolabs/tailscale"],
    installerImage: "factory.example/installer/abc:v1.13.9",
  },
  nodes: [
    {
      ...haNode("cp1", "controlplane", 11, "192.168.50.10"),
      tailscale: { hostname: "first", extraArgs: ["--ssh"] },
    },
    haNode("cp2", "controlplane", 12, "192.168.50.10"),
    haNode("cp3", "controlplane", 13, "192.168.50.10"),
    haNode("w1", "worker", 21),
    { ...haNode("w2", "worker", 22), tailscale: false },
  ],
  tunnel: {
    name: "ha",
    accountId: "fedcba9876543210fedcba9876543210",
    zone: "example.org",
    routes: [
      {
        hostname: "grafana.example.org",
        service: "http://grafana.monitoring.svc.cluster.local:80",
        access: { groups: ["0f0e0d0c-aaaa-bbbb-cccc-000000000001"] },
      },
      {
        hostname: "grafana.example.org",
        path: "^/api(/|$)",
        service: "http://grafana.monitoring.svc.cluster.local:80",
        access: { serviceTokens: ["0f0e0d0c-aaaa-bbbb-cccc-000000000002"], emailDomains: ["example.org"] },
        originRequest: { noTLSVerify: true, connectTimeout: "30s", httpHostHeader: "grafana" },
      },
      { hostname: "example.org", service: "http://www.web.svc.cluster.local:80", public: true },
    ],
  },
  tailscale: { authKey: "env:TS_AUTHKEY", hostname: "ha", extraArgs: ["--accept-dns=false"] },
  argocd: {
    chartVersion: "9.1.0",
    repoURL: "https://github.com/me/ha.git",
    path: "cluster",
    targetRevision: "main",
  },
};
