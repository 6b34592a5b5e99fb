import { isIP } from "node:net";
import { z } from "zod";

const ip = z.string().refine((v) => isIP(v) !== 0, { error: "expected an IPv4 or IPv6 address" });

export function isCidr(v: string): boolean {
  const [addr, bits, ...rest] = v.split("/");
  if (rest.length > 0 || addr === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(addr);
  const n = Number(bits);
  return (family === 4 && n <= 32) || (family === 6 && n <= 128);
}

const cidr = z
  .string()
  .refine(isCidr, { error: "expected an address in CIDR notation, e.g. 192.168.50.10/24" });
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: "expected a lowercase DNS label (a-z, 0-9, '-')" });
const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, {
    error: "expected a DNS name",
  });
const talosVersion = z
  .string({ error: "expected a Talos version like v1.13.9" })
  .regex(/^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/, { error: "expected a Talos version like v1.13.9" });
const kubernetesVersion = z
  .string({ error: "expected a Kubernetes version like 1.35.0" })
  .regex(/^v?\d+\.\d+\.\d+$/, { error: "expected a Kubernetes version like 1.35.0" });

/** `env:NAME` or `file:PATH`; a literal value is rejected so secrets never live in the file. */
export const secretRef = z
  .string()
  .refine((v) => /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(v) || /^file:.+/.test(v), {
    error:
      "expected a secret reference 'env:NAME' or 'file:PATH' (secret values must not be written in homelab.yaml)",
  });

const route = z.strictObject({
  network: cidr.describe("Destination network in CIDR notation"),
  gateway: ip.optional().describe("Next hop"),
  source: ip.optional(),
  metric: z.int().min(0).optional(),
  mtu: z.int().min(576).max(65535).optional(),
});

const deviceSelector = z
  .strictObject({
    hardwareAddr: z.string().optional().describe("MAC address; '*' globs allowed"),
    permanentAddr: z.string().optional(),
    busPath: z.string().optional(),
    pciID: z.string().optional(),
    driver: z.string().optional(),
    physical: z.boolean().optional(),
  })
  .describe("Select the link by hardware properties instead of by name");

const vlan = z.strictObject({
  vlanId: z.int().min(1).max(4094),
  addresses: z.array(cidr).optional(),
  routes: z.array(route).optional(),
  dhcp: z.boolean().optional(),
  mtu: z.int().min(576).max(65535).optional(),
  vip: ip.optional().describe("Shared virtual IP announced by the control planes on this VLAN"),
});

const iface = z
  .strictObject({
    name: z.string().min(1).optional().describe("Link name, e.g. eno1"),
    selector: deviceSelector.optional(),
    addresses: z.array(cidr).optional(),
    gateway: ip.optional().describe("Default gateway (adds a 0.0.0.0/0 route)"),
    routes: z.array(route).optional(),
    dhcp: z.boolean().optional(),
    mtu: z.int().min(576).max(65535).optional(),
    vlans: z.array(vlan).optional(),
    vip: ip.optional().describe("Shared virtual IP announced by the control planes (Layer 2)"),
  })
  .refine((v) => (v.name === undefined) !== (v.selector === undefined), {
    error: "expected exactly one of 'name' or 'selector'",
  });

const diskSelector = z
  .strictObject({
    size: z.string().optional().describe("e.g. '>= 100GB'"),
    model: z.string().optional(),
    serial: z.string().optional(),
    wwid: z.string().optional(),
    type: z.enum(["ssd", "hdd", "nvme", "sd"]).optional(),
    busPath: z.string().optional(),
  })
  .describe("Pick the install disk by its properties");

const nodeTailscale = z.union([
  z.literal(false),
  z.strictObject({
    hostname: dnsLabel.optional().describe("Tailscale machine name (default: the node name)"),
    extraArgs: z.array(z.string()).optional().describe("Extra `tailscale up` arguments (TS_EXTRA_ARGS)"),
  }),
]);

const node = z
  .strictObject({
    name: dnsLabel.describe("Node name; also its hostname"),
    role: z.enum(["controlplane", "worker"]),
    address: ip.describe("The address the Talos API is reached on"),
    talosVersion: talosVersion.optional().describe("Per-node Talos version (default: cluster.talosVersion)"),
    installDisk: z.string().startsWith("/dev/", { error: "expected a device path like /dev/sda" }).optional(),
    installDiskSelector: diskSelector.optional(),
    wipe: z.boolean().optional(),
    interfaces: z.array(iface).default([]),
    nameservers: z.array(z.string()).optional().describe("Override cluster.nameservers for this node"),
    tunnel: z.boolean().default(true).describe("Run cloudflared on this node (false: no tunnel connector)"),
    tailscale: nodeTailscale.optional().describe("false: no tailscale on this node; or per-node settings"),
  })
  .refine((v) => !(v.installDisk !== undefined && v.installDiskSelector !== undefined), {
    error: "expected only one of 'installDisk' or 'installDiskSelector'",
  });

const access = z.strictObject({
  emails: z.array(z.email()).optional(),
  emailDomains: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  serviceTokens: z.array(z.string()).optional(),
});

const tunnelRoute = z.strictObject({
  hostname: hostname,
  service: z.string().regex(/^(https?|tcp|ssh|rdp|unix|http_status):/, {
    error: "expected a service URL like http://app.ns.svc.cluster.local:80",
  }),
  path: z.string().optional(),
  public: z.boolean().optional().describe("true: no Cloudflare Access in front of this route"),
  access: access.optional(),
  adopt: z.boolean().optional().describe("Take over an existing DNS record for this hostname"),
  originRequest: z.record(z.string(), z.unknown()).optional(),
});

const cluster = z.strictObject({
  name: dnsLabel,
  talosVersion: talosVersion,
  kubernetesVersion: kubernetesVersion.default("1.35.0"),
  endpoint: z
    .url({ protocol: /^https$/, error: "expected an https URL like https://192.168.50.200:6443" })
    .describe("Kubernetes API endpoint"),
  network: z
    .strictObject({
      podSubnets: z.array(cidr).min(1).default(["10.244.0.0/16"]),
      serviceSubnets: z.array(cidr).min(1).default(["10.96.0.0/12"]),
    })
    .default({ podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] }),
  allowSchedulingOnControlPlanes: z.boolean().default(false),
  nameservers: z
    .array(
      z.string().refine((v) => v === "coredns" || isIP(v) !== 0, {
        error: "expected an IP address or 'coredns'",
      }),
    )
    .default(["1.1.1.1", "1.0.0.1"]),
  extensions: z
    .array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { error: "expected e.g. siderolabs/tailscale" }))
    .default([]),
  extraKernelArgs: z.array(z.string()).optional(),
  certSANs: z.array(z.string()).optional(),
  timeServers: z.array(z.string()).optional(),
});

const tunnel = z.strictObject({
  name: z.string().min(1),
  accountId: z.string().min(1),
  zone: hostname,
  routes: z.array(tunnelRoute).default([]),
});

const tailscale = z.strictObject({
  authKey: secretRef.describe("Tailscale auth key, as env:NAME or file:PATH"),
  routes: z.array(cidr).optional().describe("Subnets advertised (TS_ROUTES)"),
  hostname: dnsLabel.optional().describe("Machine name prefix (default: each node's name)"),
  extraArgs: z.array(z.string()).optional(),
});

const argocd = z.strictObject({
  chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/, { error: "expected a chart version like 10.4.0" }),
  repoURL: z.string().min(1),
  path: z.string().min(1),
  targetRevision: z.string().default("HEAD"),
  namespace: dnsLabel.default("argocd"),
  values: z.record(z.string(), z.unknown()).optional().describe("Helm values for the argo-cd chart"),
  clusterSecrets: z
    .array(
      z.strictObject({
        namespace: dnsLabel.describe("Namespace of the Secret (created when missing)"),
        name: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { error: "expected a Kubernetes name" })
          .describe("Secret name an app of the GitOps tree reads"),
        data: z
          .record(z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: "expected a Secret data key" }), secretRef)
          .describe("Key -> secret reference (env:NAME or file:PATH)"),
      }),
    )
    .optional()
    .describe("Secrets the GitOps tree's apps read; `up` creates them before the root app, never from Git"),
});

/** The zod schema of homelab.yaml (cross-field rules are checked by the loader). */
export const homelabSchema = z.strictObject({
  $schema: z.string().optional(),
  cluster,
  nodes: z.array(node).min(1, { error: "expected at least one node" }),
  tunnel: tunnel.optional(),
  tailscale: tailscale.optional(),
  argocd: argocd.optional(),
  engine: z.enum(["tofu", "direct"]).default("tofu").describe("How `homelab up` provisions: tofu or direct"),
});

/** homelab.yaml after validation (secret references still as strings). */
export type HomelabFile = z.infer<typeof homelabSchema>;

/** JSON Schema (draft 2020-12) of homelab.yaml, for editor completion. */
export function homelabJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(homelabSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    title: "homelab.yaml",
    description: "One declarative file describing a bare-metal Talos Kubernetes homelab",
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}
