import type { InstallDiskSelector } from "../model/v1alpha1.js";

/**
 * Selects a link by hardware instead of by name. Several fields must all match; `*` / `?` globs are
 * allowed in the string fields. On 1.11 this becomes a `deviceSelector` (the settings apply to every
 * matching link); from 1.12 a LinkAliasConfig with a CEL match (`match` is a raw CEL expression, 1.12+
 * only, taken to match one link). A selector that may match several links (no exact MAC address or bus
 * path) becomes a pattern alias on 1.13+ (`<name>-%d`; the settings go to `<name>-0`, the first match in
 * hardware-address order) and is refused on 1.12, where Talos would alias none of the matches.
 */
export interface LinkSelectorIntent {
  hardwareAddr?: string;
  permanentAddr?: string;
  busPath?: string;
  pciID?: string;
  driver?: string;
  /** Only physical (Ethernet, not virtual) links. */
  physical?: boolean;
  match?: string;
}

/**
 * A static route. `network` is the destination CIDR (`0.0.0.0/0` / `::/0` = default); `destination` is
 * accepted as another name for it.
 */
export interface RouteIntent {
  network?: string;
  destination?: string;
  gateway?: string;
  source?: string;
  metric?: number;
  mtu?: number;
}

/** A VLAN on top of an interface. */
export interface VlanIntent {
  /** VLAN id 1..4094 (`vlanId` is accepted as another name). */
  id?: number;
  vlanId?: number;
  addresses?: string[];
  gateway?: string;
  routes?: RouteIntent[];
  dhcp?: boolean;
  dhcp6?: boolean;
  mtu?: number;
  vip?: string;
}

/**
 * One network interface, by `name` or by `selector` (with both, `name` becomes the alias of the selected
 * link from 1.12; without a name a selected link is aliased `net<index>`).
 */
export interface InterfaceIntent {
  name?: string;
  selector?: LinkSelectorIntent;
  /** Static addresses as CIDRs (`192.168.50.200/24`). */
  addresses?: string[];
  /** Default gateway; must lie inside one of `addresses` when they are given. */
  gateway?: string;
  routes?: RouteIntent[];
  /** DHCPv4 on the link. */
  dhcp?: boolean;
  /** DHCPv6 on the link (legacy: `dhcpOptions.ipv6`; 1.12+: DHCPv6Config). */
  dhcp6?: boolean;
  /** DHCP route metric. */
  dhcpRouteMetric?: number;
  mtu?: number;
  vlans?: VlanIntent[];
  /** A shared layer-2 VIP (control planes); must lie inside one of `addresses`. */
  vip?: string;
}

/** The CNI: flannel (default of Talos), custom (manifests from `urls`) or none. */
export interface CniIntent {
  name: "flannel" | "custom" | "none";
  urls?: string[];
}

/** A manifest applied at bootstrap from inline text. */
export interface InlineManifestIntent {
  name: string;
  contents: string;
}

/** A manifest fetched from a URL at bootstrap. A missing `name` is derived from the URL's file name. */
export interface ExternalManifestIntent {
  url: string;
  name?: string;
  headers?: Record<string, string>;
}

/** Cluster-wide settings as seen from one node. */
export interface ClusterIntent {
  /** `https://host:port` of the Kubernetes API (a VIP, a DNS name or a control-plane address). */
  endpoint: string;
  /** Cluster name; needed for a complete KubeClusterConfig (1.14+). */
  name?: string;
  podSubnets: string[];
  serviceSubnets: string[];
  dnsDomain?: string;
  allowSchedulingOnControlPlanes?: boolean;
  /** Extra SANs for the Talos API certificate and, on control planes, the Kubernetes API server certificate. */
  certSANs?: string[];
  /** The CNI; a bare name (`"none"`) is accepted for `{ name }`. */
  cni?: CniIntent | CniIntent["name"];
  inlineManifests?: InlineManifestIntent[];
  externalManifests?: (string | ExternalManifestIntent)[];
}

/** Install settings. `disk` and `diskSelector` are alternatives. */
export interface InstallIntent {
  disk?: string;
  diskSelector?: InstallDiskSelector;
  wipe?: boolean;
  /** Installer image, e.g. from {@link installerImage}. */
  image?: string;
}

/** The cloudflared extension: `token` is the tunnel token (secret). */
export interface CloudflaredIntent {
  token: string;
  /** `host:port` for the metrics server, e.g. `localhost:2000`. */
  metrics?: string;
  /** Extra `KEY=value` environment variables. */
  environment?: Record<string, string>;
  /**
   * Nameservers (at most 3 IPs, in order) for cloudflared's own `/etc/resolv.conf`, mounted over the
   * host's through `configFiles`; the machine's nameservers stay as they are. {@link buildNodePatches}
   * fills it from the `coredns` nameserver token: the CoreDNS ClusterIP(s), then the node's other
   * nameservers or else the host DNS 127.0.0.53 (docs/dns.md).
   */
  nameservers?: string[];
}

/** The tailscale extension: `authKey` is secret. */
export interface TailscaleIntent {
  authKey: string;
  /** Log in with the auth key only when the node has no state yet (TS_AUTH_ONCE), so reboots keep the node key. */
  authOnce?: boolean;
  /** Subnets to advertise (e.g. the service subnet). */
  routes?: string[];
  hostname?: string;
  /** Extra `tailscale up` arguments (TS_EXTRA_ARGS). */
  extraArgs?: string[];
  /** Extra `KEY=value` environment variables. */
  environment?: Record<string, string>;
}

/** Extension services to configure. */
export interface ExtensionsIntent {
  cloudflared?: CloudflaredIntent;
  tailscale?: TailscaleIntent;
}

/** A static host entry: an IP and its names. */
export interface StaticHostIntent {
  ip: string;
  hostnames: string[];
}

/** Everything one node needs, independent of the Talos version. */
export interface NodeIntent {
  /** The Talos version the node runs, e.g. `v1.13.9`. */
  target: string;
  role: "controlplane" | "worker";
  hostname: string;
  interfaces: InterfaceIntent[];
  /**
   * Pins the kubelet node IP: `validSubnets`, or a fixed `address` (the kubelet `node-ip` argument). When
   * absent, the subnets of the interface holding the default gateway are used.
   */
  nodeIp?: { validSubnets: string[]; address?: never } | { address: string; validSubnets?: never };
  /**
   * Nameserver IPs for the machine. The token `coredns` does not become a machine nameserver (a CoreDNS
   * ClusterIP there makes CoreDNS and the host DNS forward to each other): it gives cloudflared, when
   * configured, its own resolv.conf that asks CoreDNS first (docs/dns.md). A literal CoreDNS ClusterIP is
   * refused.
   */
  nameservers?: string[];
  searchDomains?: string[];
  /** Static /etc/hosts entries: machine.network.extraHostEntries (≤1.11) or StaticHostConfig (1.12+). */
  extraHosts?: StaticHostIntent[];
  cluster: ClusterIntent;
  install?: InstallIntent;
  timeServers?: string[];
  extensions?: ExtensionsIntent;
  /** Kubernetes node labels (≤1.13 `machine.nodeLabels`, 1.14+ KubeNodeConfig). */
  labels?: Record<string, string>;
  /** Kubernetes node taints, key → `value:Effect` or `:Effect` (≤1.13 `machine.nodeTaints`, 1.14+ KubeNodeConfig). */
  taints?: Record<string, string>;
  /** Kernel parameters (≤1.13 `machine.sysctls`, 1.14+ SysctlConfig). */
  sysctls?: Record<string, string>;
  /** Registry host (e.g. `docker.io`, `*`) → mirror endpoint URLs (≤1.11 `machine.registries`, 1.12+ RegistryMirrorConfig). */
  registryMirrors?: Record<string, string[]>;
  /** KubeSpan (WireGuard mesh between nodes): ≤1.12 `machine.network.kubespan`, 1.13+ KubeSpanConfig. */
  kubespan?: boolean;
  /** User volumes (UserVolumeConfig): a disk picked by a CEL `diskSelector`, mounted at /var/mnt/<name>. */
  userVolumes?: { name: string; diskSelector: string; minSize?: string; maxSize?: string }[];
  /**
   * Control planes: let external load balancers use this node (drops the generated
   * `node.kubernetes.io/exclude-from-external-load-balancers` label), for a single control plane that
   * also runs workloads.
   */
  externalLoadBalancers?: boolean;
}
