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

/**
 * `env:NAME`, `file:PATH` or `sops:key.path` (a value in the `secrets:` file); a literal value is rejected so
 * secrets never live in the file.
 */
export const secretRef = z
  .string()
  .refine(
    (v) =>
      /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(v) || /^file:.+/.test(v) || /^sops:[^.\s]+(\.[^.\s]+)*$/.test(v),
    {
      error:
        "expected a secret reference 'env:NAME', 'file:PATH' or 'sops:key.path' (secret values must not be written in homelab.yaml)",
    },
  );

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

const labelMap = z.record(z.string(), z.string()).describe("Kubernetes node labels (key: value)");
const taintMap = z
  .record(
    z.string(),
    z.string().regex(/^[^:]*:(NoSchedule|PreferNoSchedule|NoExecute)$/, {
      error: "expected 'value:Effect' or ':Effect' (NoSchedule, PreferNoSchedule, NoExecute)",
    }),
  )
  .describe("Kubernetes node taints (key: 'value:Effect')");
const sysctlMap = z.record(z.string(), z.string()).describe("Kernel parameters (sysctl name: value)");
const talosPatch = z
  .union([z.string().min(1), z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))])
  .describe(
    "A Talos config patch: a strategic-merge document (mapping), a JSON6902 operation list, or either as YAML/JSON text; applied after homelab's own settings and validated strictly",
  );
const talosPatches = z.array(talosPatch);
const userVolume = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,32}[a-z0-9])?$/, { error: "expected a short lower-case name" }),
  diskSelector: z
    .string()
    .min(1)
    .describe('CEL expression over `disk`, e.g. disk.transport == "nvme" && !disk.system_disk'),
  minSize: z.string().optional().describe("e.g. 100GB"),
  maxSize: z.string().optional(),
});

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
    labels: labelMap.optional(),
    taints: taintMap.optional(),
    sysctls: sysctlMap.optional().describe("Kernel parameters for this node (merged over cluster.sysctls)"),
    userVolumes: z
      .array(userVolume)
      .optional()
      .describe("Volumes on extra disks, mounted at /var/mnt/<name>"),
    patches: talosPatches.optional().describe("Talos config patches for this node, applied after the role's"),
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
    .default(["1.1.1.1", "1.0.0.1"])
    .describe(
      "Machine nameservers (IPs). 'coredns' is not a machine nameserver: it gives cloudflared alone a resolver that asks CoreDNS first",
    ),
  extensions: z
    .array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { error: "expected e.g. siderolabs/tailscale" }))
    .default([]),
  extraKernelArgs: z
    .array(z.string())
    .optional()
    .describe("Kernel arguments, baked into the Image Factory schematic (ISO and installer)"),
  certSANs: z.array(z.string()).optional(),
  timeServers: z.array(z.string()).optional(),
  cni: z
    .strictObject({
      name: z.enum(["flannel", "custom", "none"]),
      urls: z.array(z.url()).optional().describe("custom: manifest URLs applied at bootstrap"),
    })
    .optional()
    .describe(
      "CNI: flannel (Talos' default), custom (manifests from urls) or none (install your own, e.g. Cilium, through Argo CD or patches)",
    ),
  kubespan: z.boolean().optional().describe("KubeSpan: a WireGuard mesh between the nodes"),
  registryMirrors: z
    .record(z.string(), z.array(z.url()).min(1))
    .optional()
    .describe("Registry host (e.g. docker.io) -> mirror endpoint URLs"),
  sysctls: sysctlMap.optional(),
  labels: labelMap.optional().describe("Node labels for every node"),
  patches: z
    .strictObject({
      all: talosPatches.optional(),
      controlplane: talosPatches.optional(),
      worker: talosPatches.optional(),
    })
    .optional()
    .describe("Talos config patches by role, applied after homelab's own settings (all, then the role's)"),
});

const tunnel = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
    error: "expected a tunnel name of letters, digits, '.', '_' and '-' (at most 63, no spaces or '/')",
  }),
  accountId: z.string().regex(/^[0-9a-f]{32}$/, {
    error: "expected a Cloudflare account id: 32 lowercase hex characters (dashboard URL or Account Home)",
  }),
  zone: hostname,
  routes: z.array(tunnelRoute).default([]),
  apiToken: secretRef
    .optional()
    .describe(
      "Cloudflare API token as env:NAME, file:PATH or sops:key.path (CLOUDFLARE_API_TOKEN, when set, wins)",
    ),
});

const tailscale = z.strictObject({
  authKey: secretRef.describe("Tailscale auth key, as env:NAME, file:PATH or sops:key.path"),
  routes: z.array(cidr).optional().describe("Subnets advertised (TS_ROUTES)"),
  hostname: dnsLabel.optional().describe("Machine name prefix (default: each node's name)"),
  extraArgs: z.array(z.string()).optional(),
  authOnce: z
    .boolean()
    .optional()
    .describe(
      "TS_AUTH_ONCE: use the auth key only for the first login (the node keeps its identity after reboots)",
    ),
});

const argocd = z.strictObject({
  chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/, { error: "expected a chart version like 10.4.0" }),
  repoURL: z
    .string()
    .regex(/^(?:(?:https?|ssh|git|oci):\/\/[^\s/]+\S*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/, {
      error:
        "expected a Git repository URL like https://github.com/me/homelab.git or git@github.com:me/homelab.git",
    }),
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
          .describe("Key -> secret reference (env:NAME, file:PATH or sops:key.path)"),
      }),
    )
    .optional()
    .describe("Secrets the GitOps tree's apps read; `up` creates them before the root app, never from Git"),
});

const secrets = z.strictObject({
  file: z
    .string()
    .min(1)
    .default("secrets.sops.yaml")
    .describe("SOPS-encrypted file (relative to homelab.yaml) holding every secret; safe to commit"),
  recipients: z
    .array(z.string().regex(/^age1[0-9a-z]+$/, { error: "expected an age recipient (age1...)" }))
    .min(1, { error: "expected at least one age recipient (see `homelab secrets init`)" })
    .describe("age recipients the file is encrypted for"),
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
  secrets: secrets
    .optional()
    .describe(
      "Keep secrets SOPS-encrypted for age recipients in a committable file instead of the state dir",
    ),
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

interface ZodDef {
  type: string;
  shape?: Record<string, { _zod: { def: ZodDef } }>;
  innerType?: { _zod: { def: ZodDef } };
  in?: { _zod: { def: ZodDef } };
  element?: { _zod: { def: ZodDef } };
  options?: { _zod: { def: ZodDef } }[];
}

function unwrap(def: ZodDef): ZodDef {
  let d = def;
  for (;;) {
    if (d.innerType) d = d.innerType._zod.def;
    else if (d.type === "pipe" && d.in) d = d.in._zod.def;
    else if (d.type === "union" && d.options) {
      const object = d.options.map((o) => unwrap(o._zod.def)).find((o) => o.type === "object");
      if (!object) return d;
      d = object;
    } else return d;
  }
}

/** The keys homelab.yaml allows in the mapping at `path` (for "did you mean" on an unknown key). */
export function keysAt(path: readonly (string | number)[], _input?: unknown): string[] {
  let def = unwrap((homelabSchema as unknown as { _zod: { def: ZodDef } })._zod.def);
  for (const key of path) {
    if (typeof key === "number" && def.type === "array" && def.element) def = unwrap(def.element._zod.def);
    else if (typeof key === "string" && def.shape?.[key]) def = unwrap(def.shape[key]._zod.def);
    else return [];
  }
  return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
}
