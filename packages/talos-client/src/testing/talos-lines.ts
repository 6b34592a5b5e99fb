/**
 * What each Talos release line does differently on the API, as data. The emulator reads every
 * version-dependent behaviour from here; `test/talos-lines.test.ts` holds these tables against
 * `shared/facts/talos.md`. Each entry names the upstream file it was read from.
 */

/** A Talos release line the emulator models. */
export type TalosLine = "1.11" | "1.12" | "1.13" | "1.14" | "1.15";

/** `ApplyConfigurationRequest.Mode` names. */
export type ApplyModeName = "REBOOT" | "AUTO" | "NO_REBOOT" | "STAGED" | "TRY";

/** `RebootRequest.Mode` names. */
export type RebootModeName = "DEFAULT" | "POWERCYCLE" | "FORCE";

/** The behaviour of one release line. */
export interface TalosLineBehaviour {
  line: TalosLine;
  /**
   * How maintenance mode is served:
   * - `separate-server` (≤1.12): a gRPC server of its own with MachineService (a few methods), storage
   *   and COSI State, no apid and so no node routing (talos internal/app/maintenance/server.go).
   * - `apid-reader` (≥1.13): the normal apid with routing disabled and role `os:reader` injected
   *   (talos internal/app/apid/service.go, internal/app/apid/pkg/director/director.go `skipRouting`).
   */
  maintenance: "separate-server" | "apid-reader";
  /** Apply modes accepted in maintenance; others fail UNIMPLEMENTED (≤1.12) — ≥1.13 accepts all. */
  maintenanceApplyModes: readonly ApplyModeName[];
  /**
   * What AUTO becomes on a configured node: `live-or-reboot` = NO_REBOOT when the change applies live,
   * else REBOOT (≤1.13); `no-reboot` = always NO_REBOOT (≥1.14).
   */
  auto: "live-or-reboot" | "no-reboot";
  /** Whether REBOOT mode is accepted on a configured node (≥1.14: UNIMPLEMENTED). */
  rebootApplyMode: boolean;
  /** `RebootRequest.Mode` values the line knows (FORCE=2 arrived in 1.12: talos api/machine/machine.proto). */
  rebootModes: readonly RebootModeName[];
  /** gRPC services beyond machine/storage/time/cluster/inspect/COSI (talos api/ at the tag). */
  extraServices: readonly string[];
}

const LINE_1_11: TalosLineBehaviour = {
  line: "1.11",
  maintenance: "separate-server",
  // talos v1.11.6 internal/app/maintenance/server.go ApplyConfiguration: TRY, REBOOT, AUTO only.
  maintenanceApplyModes: ["REBOOT", "AUTO", "TRY"],
  // talos v1.11.6 internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go ApplyConfiguration.
  auto: "live-or-reboot",
  rebootApplyMode: true,
  rebootModes: ["DEFAULT", "POWERCYCLE"],
  extraServices: [],
};
const LINE_1_12: TalosLineBehaviour = {
  ...LINE_1_11,
  line: "1.12",
  rebootModes: ["DEFAULT", "POWERCYCLE", "FORCE"],
};
const LINE_1_13: TalosLineBehaviour = {
  ...LINE_1_12,
  line: "1.13",
  // talos v1.13.9 v1alpha1_server.go ApplyConfiguration: every mode in maintenance, REBOOT → NO_REBOOT there.
  maintenance: "apid-reader",
  maintenanceApplyModes: ["REBOOT", "AUTO", "NO_REBOOT", "STAGED", "TRY"],
  extraServices: ["machine.ImageService", "machine.LifecycleService"],
};
const LINE_1_14: TalosLineBehaviour = {
  ...LINE_1_13,
  line: "1.14",
  // talos v1.14.0-rc.1 v1alpha1_server.go: REBOOT → Unimplemented outside maintenance, AUTO → NO_REBOOT.
  auto: "no-reboot",
  rebootApplyMode: false,
};

/** Per-line behaviour (talos tags v1.11.6, v1.12.11, v1.13.9, v1.14.0-rc.1, main ad88231 for 1.15). */
export const TALOS_LINES: Record<TalosLine, TalosLineBehaviour> = {
  "1.11": LINE_1_11,
  "1.12": LINE_1_12,
  "1.13": LINE_1_13,
  "1.14": LINE_1_14,
  "1.15": { ...LINE_1_14, line: "1.15" },
};

/** The line of a version tag (`v1.13.9` → `1.13`); unknown or newer tags count as the newest line. */
export function talosLine(tag: string): TalosLineBehaviour {
  const match = /^v?1\.(\d+)\./.exec(tag);
  const minor = match === null ? 15 : Number(match[1]);
  if (minor <= 11) return TALOS_LINES["1.11"];
  if (minor >= 15) return TALOS_LINES["1.15"];
  return TALOS_LINES[`1.${minor}` as TalosLine];
}

const ADMIN = ["os:admin"] as const;
const OPERATOR = ["os:admin", "os:operator"] as const;
const READER = ["os:admin", "os:operator", "os:reader"] as const;

/**
 * Roles allowed per method (talos v1.13.9 internal/app/machined/pkg/system/services/machined.go `rules`;
 * a method not listed falls back to os:admin). ApplyConfiguration and BlockDeviceWipe list os:reader
 * for maintenance only; their handlers refuse a reader on a configured node.
 */
export const METHOD_ROLES: Readonly<Record<string, readonly string[]>> = {
  "/cluster.ClusterService/HealthCheck": READER,
  "/inspect.InspectService/ControllerRuntimeDependencies": READER,
  "/machine.ImageService/Import": ADMIN,
  "/machine.ImageService/List": READER,
  "/machine.ImageService/Pull": OPERATOR,
  "/machine.ImageService/Remove": ADMIN,
  "/machine.ImageService/Verify": [...READER, "os:image:verifier"],
  "/machine.LifecycleService/Install": ADMIN,
  "/machine.LifecycleService/Upgrade": ADMIN,
  "/machine.MachineService/ApplyConfiguration": ["os:admin", "os:reader"],
  "/machine.MachineService/Bootstrap": ADMIN,
  "/machine.MachineService/CPUInfo": READER,
  "/machine.MachineService/CPUFreqStats": READER,
  "/machine.MachineService/Containers": READER,
  "/machine.MachineService/Copy": ADMIN,
  "/machine.MachineService/DiskStats": READER,
  "/machine.MachineService/DiskUsage": READER,
  "/machine.MachineService/Dmesg": READER,
  "/machine.MachineService/EtcdAlarmList": [...READER, "os:etcd:backup"],
  "/machine.MachineService/EtcdAlarmDisarm": OPERATOR,
  "/machine.MachineService/EtcdDefragment": OPERATOR,
  "/machine.MachineService/EtcdForfeitLeadership": ADMIN,
  "/machine.MachineService/EtcdLeaveCluster": ADMIN,
  "/machine.MachineService/EtcdMemberList": [...READER, "os:etcd:backup"],
  "/machine.MachineService/EtcdRecover": ADMIN,
  "/machine.MachineService/EtcdRemoveMemberByID": ADMIN,
  "/machine.MachineService/EtcdSnapshot": [...OPERATOR, "os:etcd:backup"],
  "/machine.MachineService/EtcdStatus": [...READER, "os:etcd:backup"],
  "/machine.MachineService/Events": READER,
  "/machine.MachineService/GenerateClientConfiguration": ADMIN,
  "/machine.MachineService/Hostname": READER,
  "/machine.MachineService/Kubeconfig": ADMIN,
  "/machine.MachineService/List": READER,
  "/machine.MachineService/LoadAvg": READER,
  "/machine.MachineService/Logs": READER,
  "/machine.MachineService/LogsContainers": READER,
  "/machine.MachineService/Memory": READER,
  "/machine.MachineService/MetaWrite": ["os:admin", "os:meta:writer"],
  "/machine.MachineService/MetaDelete": ["os:admin", "os:meta:writer"],
  "/machine.MachineService/Mounts": READER,
  "/machine.MachineService/NetworkDeviceStats": READER,
  "/machine.MachineService/Netstat": READER,
  "/machine.MachineService/PacketCapture": OPERATOR,
  "/machine.MachineService/Processes": READER,
  "/machine.MachineService/Read": ADMIN,
  "/machine.MachineService/Reboot": OPERATOR,
  "/machine.MachineService/Reset": ADMIN,
  "/machine.MachineService/Restart": OPERATOR,
  "/machine.MachineService/Rollback": ADMIN,
  "/machine.MachineService/ServiceList": READER,
  "/machine.MachineService/ServiceRestart": OPERATOR,
  "/machine.MachineService/ServiceStart": OPERATOR,
  "/machine.MachineService/ServiceStop": OPERATOR,
  "/machine.MachineService/Shutdown": OPERATOR,
  "/machine.MachineService/Stats": READER,
  "/machine.MachineService/SystemStat": READER,
  "/machine.MachineService/Upgrade": ADMIN,
  "/machine.MachineService/Version": READER,
  "/cosi.resource.State/Create": ADMIN,
  "/cosi.resource.State/Destroy": ADMIN,
  "/cosi.resource.State/Get": READER,
  "/cosi.resource.State/List": READER,
  "/cosi.resource.State/Update": ADMIN,
  "/cosi.resource.State/Watch": READER,
  "/storage.StorageService/Disks": READER,
  "/storage.StorageService/BlockDeviceWipe": ["os:admin", "os:reader"],
  "/time.TimeService/Time": READER,
  "/time.TimeService/TimeCheck": READER,
};

/** Roles allowed to call `path` (unlisted methods: os:admin only, as upstream's fallback). */
export function rolesFor(path: string): readonly string[] {
  return METHOD_ROLES[path] ?? ADMIN;
}

/**
 * Talos ≤1.12 maintenance server (talos v1.12.11 internal/app/maintenance/server.go `Register`):
 * registered services and what a client without SideroLink admin gets from MachineService.
 * `storage.StorageService` and `cosi.resource.State` are served whole; any other service is unknown.
 */
export const SEPARATE_MAINTENANCE = {
  services: ["machine.MachineService", "storage.StorageService", "cosi.resource.State"],
  /** MachineService methods that work for an insecure client. */
  machineMethods: ["ApplyConfiguration", "GenerateConfiguration"],
  /** MachineService methods that need os:admin (SideroLink): "API is not implemented in maintenance mode". */
  adminOnlyMachineMethods: ["Version", "Upgrade", "Reset", "MetaWrite", "MetaDelete"],
  /** Always refused there. */
  refusedMachineMethods: ["GenerateClientConfiguration"],
} as const;

/** Control-plane-only MachineService methods (talos internal/app/internal/machinehelper CheckControlplane callers). */
export const CONTROL_PLANE_ONLY: Readonly<Record<string, string>> = {
  Bootstrap: "bootstrap",
  Kubeconfig: "kubeconfig",
  EtcdMemberList: "member list",
  EtcdRemoveMemberByID: "etcd remove member",
  EtcdLeaveCluster: "etcd leave",
  EtcdForfeitLeadership: "etcd forfeit leadership",
  EtcdSnapshot: "etcd snapshot",
  EtcdRecover: "etcd recover",
  EtcdAlarmList: "etcd alarm list",
  EtcdAlarmDisarm: "etcd alarm disarm",
  EtcdDefragment: "etcd defragment",
  EtcdStatus: "etcd status",
  GenerateClientConfiguration: "generate client configuration",
};
