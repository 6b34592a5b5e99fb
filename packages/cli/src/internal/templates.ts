// The files `homelab init` writes. HOMELAB_YAML mirrors examples/homelab.yaml (a test keeps them equal).

/** Where `homelab init` writes the JSON schema (next to homelab.yaml, so the modeline resolves anywhere). */
export const SCHEMA_FILE_NAME = "homelab.schema.json";

/** The commented single-node homelab.yaml. */
export const HOMELAB_YAML: string = `# yaml-language-server: $schema=./homelab.schema.json
# The single-node homelab: one control plane that also runs workloads, published through a
# Cloudflare tunnel behind Cloudflare Access, reachable over Tailscale, managed by Argo CD.
# Every key is checked by \`homelab doctor\`; your editor completes them from the $schema above.

# How \`homelab up\` provisions. direct: the CLI applies each step itself (machine configs, etcd
# bootstrap, tunnel, DNS, Access, Argo CD), checks the live state first and keeps its state in
# .homelab/ (git-ignored); nothing else to install. tofu: the same through OpenTofu, which needs
# the OpenTofu layer (the .tf files of the talos-homelab repository's infrastructure/ directory)
# in infrastructure/ next to this file; \`homelab init\` does not write it.
engine: direct
cluster:
  name: homelab # names the talosconfig context, the state directory .homelab/<name>/ and the cluster
  talosVersion: v1.13.9 # the Talos release every node installs (nodes[].talosVersion overrides)
  kubernetesVersion: 1.35.0
  endpoint: https://192.168.50.200:6443 # the Kubernetes API: a control plane's address or a shared VIP
  network: { podSubnets: [10.244.0.0/16], serviceSubnets: [10.96.0.0/12] } # must not overlap your LAN
  allowSchedulingOnControlPlanes: true # with no workers, workloads run on the control plane
  nameservers: [coredns, 1.1.1.1, 1.0.0.1] # 'coredns' (service subnet base + 10): only cloudflared asks it, never the machine (no DNS loop)
  extensions: [siderolabs/cloudflared, siderolabs/tailscale] # system extensions baked into the install image
nodes: # one entry per machine; boot each from \`homelab image urls\` first (maintenance mode)
  - name: node1 # also the node's hostname
    role: controlplane # controlplane or worker
    address: 192.168.50.200 # the address the Talos API is reached on
    installDisk: /dev/sda # or installDiskSelector: { size: ">= 100GB" }
    interfaces:
      - { name: eno1, addresses: [192.168.50.200/24], gateway: 192.168.50.1 } # static LAN address
tunnel: # a Cloudflare tunnel; cloudflared runs on every node (nodes[].tunnel: false opts out)
  name: homelab
  accountId: 0123456789abcdef0123456789abcdef # your Cloudflare account id (dashboard, right column)
  zone: example.com # the DNS zone the hostnames live in
  routes: # each becomes an ingress rule, a proxied CNAME and, unless public, an Access application
    - hostname: app1.example.com
      service: http://app1.apps.svc.cluster.local:80 # where cloudflared sends the traffic
      access: { emails: [me@example.com] } # behind Cloudflare Access
    - hostname: status.example.com
      service: http://status.apps.svc.cluster.local:80
      public: true # no Access in front, on purpose
# Tailscale on every node; authKey is read from the environment (env:NAME) or a file (file:PATH),
# never written here. routes: the subnets advertised to your tailnet.
tailscale: { authKey: env:TS_AUTHKEY, routes: [10.96.0.0/12] }
# Argo CD, installed by Helm at this pinned chart version; its root application syncs \`path\` from
# \`repoURL\` (this repository, pushed), where \`homelab argo add-app\` adds applications.
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
  // `homelab render` writes here by default: generated from homelab.yaml, so not committed
  "infrastructure/.gitignore": `# written by \`homelab render\` from homelab.yaml
/files/*.patch.yaml
/homelab.auto.tfvars.json
/talos/
/talosconfig
`,
};
