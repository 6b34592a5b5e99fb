// The files `homelab init` writes. HOMELAB_YAML mirrors examples/homelab.yaml (a test keeps them equal).

/** The commented single-node homelab.yaml. */
export const HOMELAB_YAML: string = `# yaml-language-server: $schema=node_modules/@talos-homelab/cli/schema/homelab.schema.json
# The single-node homelab: one control plane that also runs workloads, published through a
# Cloudflare tunnel behind Cloudflare Access, reachable over Tailscale, managed by Argo CD.
cluster:
  name: homelab
  talosVersion: v1.13.9
  kubernetesVersion: 1.35.0
  endpoint: https://192.168.50.200:6443
  network: { podSubnets: [10.244.0.0/16], serviceSubnets: [10.96.0.0/12] }
  allowSchedulingOnControlPlanes: true
  nameservers: [coredns, 1.1.1.1, 1.0.0.1] # 'coredns' = service subnet base + 10
  extensions: [siderolabs/cloudflared, siderolabs/tailscale]
nodes:
  - name: node1
    role: controlplane
    address: 192.168.50.200 # the address the Talos API is reached on
    installDisk: /dev/sda
    interfaces:
      - { name: eno1, addresses: [192.168.50.200/24], gateway: 192.168.50.1 }
tunnel:
  name: homelab
  accountId: 0123456789abcdef0123456789abcdef
  zone: example.com
  routes:
    - hostname: app1.example.com
      service: http://app1.apps.svc.cluster.local:80
      access: { emails: [me@example.com] } # behind Cloudflare Access
    - hostname: status.example.com
      service: http://status.apps.svc.cluster.local:80
      public: true # no Access in front, on purpose
tailscale: { authKey: env:TS_AUTHKEY, routes: [10.96.0.0/12] }
argocd:
  chartVersion: 10.4.0
  repoURL: https://github.com/me/homelab.git
  path: cluster/app-of-apps
  clusterSecrets: # Secrets the apps of cluster/ read, created by \`homelab up\` (never committed)
    - namespace: external-dns
      name: cloudflare-api-token
      data: { api-token: env:CLOUDFLARE_DNS_API_TOKEN } # a Cloudflare token with Zone:DNS:Edit
`;

/** Lines `homelab init` makes sure are in .gitignore. */
export const GITIGNORE_LINES: readonly string[] = [
  ".homelab/",
  "secrets.yaml",
  "talosconfig",
  "kubeconfig",
  "*.tfstate",
  "*.tfstate.*",
  ".terraform/",
];

/** The GitOps skeleton (relative to the project). */
export const CLUSTER_SKELETON: Record<string, string> = {
  "cluster/app-of-apps/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# One Application per file under ../apps; add them with \`homelab argo add-app\`.
resources: []
`,
  "cluster/apps/.gitkeep": "",
  "cluster/projects/.gitkeep": "",
};

/** The infrastructure skeleton (relative to the project). */
export const INFRASTRUCTURE_SKELETON: Record<string, string> = {
  "infrastructure/files/.gitkeep": "",
};
