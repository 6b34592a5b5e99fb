/** Fields every multi-document kind carries. */
type Header<K extends string> = { apiVersion: "v1alpha1"; kind: K };

/** An address of a link: `address` is a CIDR. */
export type AddressConfig = { address: string; routePriority?: number };

/** A route of a link. An omitted `destination` is the default route. */
export type RouteConfig = {
  destination?: string;
  gateway?: string;
  source?: string;
  metric?: number;
  mtu?: number;
  table?: string;
};

/** HostnameConfig (≥1.12, unnamed singleton). `auto` must be `off` when `hostname` is set. */
export type HostnameConfigDocument = Header<"HostnameConfig"> & {
  auto?: "stable" | "off";
  hostname?: string;
};

/** LinkConfig (≥1.12): `name` is a link name or a link alias. */
export type LinkConfigDocument = Header<"LinkConfig"> & {
  name: string;
  up?: boolean;
  mtu?: number;
  addresses?: AddressConfig[];
  routes?: RouteConfig[];
  multicast?: boolean;
};

/** LinkAliasConfig (≥1.12): names the link matched by a CEL `selector.match`. */
export type LinkAliasConfigDocument = Header<"LinkAliasConfig"> & {
  name: string;
  selector?: { match?: string };
};

/** DHCPv4Config (≥1.12): `name` is the link. `ignoreRoutes` is ≥1.14. */
export type DHCPv4ConfigDocument = Header<"DHCPv4Config"> & {
  name: string;
  routeMetric?: number;
  ignoreHostname?: boolean;
  ignoreRoutes?: boolean;
  clientIdentifier?: "none" | "mac" | "duid";
  duidRaw?: string;
};

/** DHCPv6Config (≥1.12): `name` is the link. */
export type DHCPv6ConfigDocument = Header<"DHCPv6Config"> & { name: string; routeMetric?: number };

/** VLANConfig (≥1.12). */
export type VLANConfigDocument = Header<"VLANConfig"> & {
  name: string;
  vlanID: number;
  parent: string;
  vlanMode?: "802.1q" | "802.1ad";
  up?: boolean;
  mtu?: number;
  addresses?: AddressConfig[];
  routes?: RouteConfig[];
  multicast?: boolean;
};

/** Layer2VIPConfig (≥1.12): `name` is the shared IP, `link` the link that carries it. */
export type Layer2VIPConfigDocument = Header<"Layer2VIPConfig"> & { name: string; link?: string };

/** A resolver entry. `protocol` and `tlsServerName` are ≥1.14. */
export type NameserverConfig = { address: string; protocol?: "Do53" | "DoT" | "DoH"; tlsServerName?: string };

/** ResolverConfig (≥1.12, singleton). `hostDNS` is ≥1.14. */
export type ResolverConfigDocument = Header<"ResolverConfig"> & {
  nameservers?: NameserverConfig[];
  searchDomains?: { domains?: string[]; disableDefault?: boolean };
  hostDNS?: { enabled?: boolean; forwardKubeDNSToHost?: boolean; resolveMemberNames?: boolean };
};

/** TimeSyncConfig (≥1.12, singleton). `ntp.useNTS` is ≥1.14. */
export type TimeSyncConfigDocument = Header<"TimeSyncConfig"> & {
  enabled?: boolean;
  bootTimeout?: string;
  ntp?: { servers?: string[]; useNTS?: boolean };
  ptp?: { devices?: string[] };
};

/** StaticHostConfig (≥1.12): `name` is the IP, `hostnames` its names. */
export type StaticHostConfigDocument = Header<"StaticHostConfig"> & { name: string; hostnames?: string[] };
