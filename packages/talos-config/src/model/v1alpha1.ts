/**
 * The legacy `v1alpha1` document (`version: v1alpha1`), limited to the sections this package builds
 * or reads. Sections marked "≤1.11" or "≤1.13" are deprecated from the next line on: the official schema
 * of that line no longer lists them, and the builders emit the replacement documents instead.
 */
export type V1Alpha1Document = {
  version?: "v1alpha1";
  debug?: boolean;
  machine?: V1Alpha1Machine;
  cluster?: V1Alpha1Cluster;
};

/** `machine` of the v1alpha1 document. */
export type V1Alpha1Machine = {
  type?: "controlplane" | "worker";
  token?: string;
  ca?: { crt?: string; key?: string };
  /** Extra SANs for the Talos API (apid) certificate; a live field on every line. */
  certSANs?: string[];
  /** ≤1.11 (deprecated and absent from the schema from 1.12). */
  network?: LegacyNetwork;
  /** ≤1.11 (deprecated and absent from the schema from 1.12). */
  time?: LegacyTime;
  /** ≤1.13. */
  kubelet?: LegacyKubelet;
  /** ≤1.13. */
  install?: LegacyInstall;
  /** ≤1.13. */
  nodeTaints?: Record<string, string>;
  /** ≤1.13. */
  nodeLabels?: Record<string, string>;
  features?: Record<string, unknown>;
};

/** `machine.network` (≤1.11). */
export type LegacyNetwork = {
  hostname?: string;
  interfaces?: LegacyDevice[];
  nameservers?: string[];
  searchDomains?: string[];
  disableSearchDomain?: boolean;
  extraHostEntries?: { ip: string; aliases: string[] }[];
};

/** `machine.network.interfaces[]`: by `interface` name or by `deviceSelector` (one of the two). */
export type LegacyDevice = {
  interface?: string;
  deviceSelector?: LegacyDeviceSelector;
  addresses?: string[];
  routes?: LegacyRoute[];
  vlans?: LegacyVlan[];
  mtu?: number;
  dhcp?: boolean;
  dhcpOptions?: { routeMetric?: number; ipv4?: boolean; ipv6?: boolean; duidv6?: string };
  vip?: { ip: string };
  ignore?: boolean;
};

/** `deviceSelector` of a legacy device. */
export type LegacyDeviceSelector = {
  busPath?: string;
  hardwareAddr?: string;
  permanentAddr?: string;
  pciID?: string;
  driver?: string;
  physical?: boolean;
};

/** A legacy route: `network` is the destination CIDR (`0.0.0.0/0` for the default route). */
export type LegacyRoute = {
  network: string;
  gateway?: string;
  source?: string;
  metric?: number;
  mtu?: number;
};

/** A legacy VLAN nested under its parent device. */
export type LegacyVlan = {
  vlanId: number;
  addresses?: string[];
  routes?: LegacyRoute[];
  dhcp?: boolean;
  dhcpOptions?: { routeMetric?: number; ipv4?: boolean; ipv6?: boolean; duidv6?: string };
  mtu?: number;
  vip?: { ip: string };
};

/** `machine.time` (≤1.11). */
export type LegacyTime = { disabled?: boolean; servers?: string[]; bootTimeout?: string };

/** `machine.kubelet` (≤1.13). */
export type LegacyKubelet = {
  image?: string;
  clusterDNS?: string[];
  extraArgs?: Record<string, string | string[]>;
  extraConfig?: Record<string, unknown>;
  nodeIP?: { validSubnets?: string[] };
  registerWithFQDN?: boolean;
  skipNodeRegistration?: boolean;
};

/** `machine.install` (≤1.13). */
export type LegacyInstall = {
  disk?: string;
  diskSelector?: InstallDiskSelector;
  image?: string;
  wipe?: boolean;
  legacyBIOSSupport?: boolean;
};

/** The legacy install disk selector (also the intent's `install.diskSelector`). */
export type InstallDiskSelector = {
  /** `4GB`, `>= 100GB`, `<= 2TB`. */
  size?: string;
  name?: string;
  model?: string;
  serial?: string;
  modalias?: string;
  uuid?: string;
  wwid?: string;
  type?: "ssd" | "hdd" | "nvme" | "sd";
  busPath?: string;
};

/** `cluster` of the v1alpha1 document. */
export type V1Alpha1Cluster = {
  id?: string;
  secret?: string;
  /** ≤1.13. */
  clusterName?: string;
  /** ≤1.13. */
  controlPlane?: { endpoint?: string; localAPIServerPort?: number };
  /** ≤1.13. */
  network?: LegacyClusterNetwork;
  /** ≤1.13. */
  allowSchedulingOnControlPlanes?: boolean;
  /** ≤1.13. */
  inlineManifests?: { name: string; contents: string }[];
  /** ≤1.13. */
  extraManifests?: string[];
  /** ≤1.13. */
  extraManifestHeaders?: Record<string, string>;
  /** ≤1.13. */
  apiServer?: { certSANs?: string[]; [key: string]: unknown };
  [key: string]: unknown;
};

/** `cluster.network` (≤1.13). */
export type LegacyClusterNetwork = {
  dnsDomain?: string;
  podSubnets?: string[];
  serviceSubnets?: string[];
  cni?: { name: "flannel" | "custom" | "none"; urls?: string[] };
};
