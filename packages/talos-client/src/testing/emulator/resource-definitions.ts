/** A COSI resource type a node serves, as its ResourceDefinition describes it. */
export interface ResourceDef {
  type: string;
  namespace: string;
  display: string;
  aliases: string[];
  sensitive?: boolean;
}

/** The resource types every node serves (seeded as ResourceDefinitions.meta.cosi.dev). */
export const DEFINITIONS: ResourceDef[] = [
  {
    type: "MachineStatuses.runtime.talos.dev",
    namespace: "runtime",
    display: "MachineStatus",
    aliases: ["machinestatus", "machinestatuses", "ms"],
  },
  {
    type: "Members.cluster.talos.dev",
    namespace: "cluster",
    display: "Member",
    aliases: ["member", "members"],
  },
  {
    type: "LinkStatuses.net.talos.dev",
    namespace: "network",
    display: "LinkStatus",
    aliases: ["link", "links", "linkstatus", "linkstatuses"],
  },
  {
    type: "NodeAddresses.net.talos.dev",
    namespace: "network",
    display: "NodeAddress",
    aliases: ["nodeaddress", "nodeaddresses"],
  },
  {
    type: "HostnameStatuses.net.talos.dev",
    namespace: "network",
    display: "HostnameStatus",
    aliases: ["hostname", "hostnames", "hostnamestatus"],
  },
  { type: "Disks.block.talos.dev", namespace: "runtime", display: "Disk", aliases: ["disk", "disks"] },
  {
    // Shares the abbreviation "ms" with MachineStatus: an ambiguous alias.
    type: "MountStatuses.runtime.talos.dev",
    namespace: "runtime",
    display: "MountStatus",
    aliases: ["mountstatus", "mountstatuses", "ms"],
  },
  {
    type: "Versions.runtime.talos.dev",
    namespace: "runtime",
    display: "Version",
    aliases: ["version", "versions"],
  },
  {
    type: "Services.v1alpha1.talos.dev",
    namespace: "runtime",
    display: "Service",
    aliases: ["service", "services", "svc"],
  },
  {
    type: "ExtensionServiceConfigs.runtime.talos.dev",
    namespace: "runtime",
    display: "ExtensionServiceConfig",
    aliases: ["extensionserviceconfig", "extensionserviceconfigs"],
  },
  {
    type: "EtcdMembers.etcd.talos.dev",
    namespace: "etcd",
    display: "EtcdMember",
    aliases: ["etcdmember", "etcdmembers"],
  },
  {
    type: "MachineConfigs.config.talos.dev",
    namespace: "config",
    display: "MachineConfig",
    aliases: ["machineconfig", "machineconfigs", "mc"],
    sensitive: true,
  },
  {
    type: "StaticPodStatuses.kubernetes.talos.dev",
    namespace: "k8s",
    display: "StaticPodStatus",
    aliases: ["staticpodstatus", "staticpodstatuses"],
  },
  {
    type: "Diagnostics.runtime.talos.dev",
    namespace: "runtime",
    display: "Diagnostic",
    aliases: ["diagnostic", "diagnostics"],
  },
  {
    type: "ResourceDefinitions.meta.cosi.dev",
    namespace: "meta",
    display: "ResourceDefinition",
    aliases: ["resourcedefinition", "resourcedefinitions", "rd", "rds"],
  },
];
