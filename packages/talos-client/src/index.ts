export { createTalosClient } from "./client.js";
export type { TalosClientErrorOptions } from "./errors.js";
export { isTalosClientError, TalosClientError, TalosClientErrorCode } from "./errors.js";
export type {
  CheckHealthOptions,
  Clock,
  HealthCheckResult,
  KubernetesAccess,
  KubernetesNode,
  KubernetesPod,
} from "./health.js";
export { checkHealth } from "./health.js";
export type { DetectNodeModeOptions, DetectNodeModeResult, NodeMode } from "./probe.js";
export { detectNodeMode } from "./probe.js";
export type {
  FindTalosconfigOptions,
  ResolvedCredentials,
  Talosconfig,
  TalosconfigContext,
} from "./talosconfig.js";
export {
  findTalosconfig,
  loadTalosconfig,
  parseTalosconfig,
  resolveCredentials,
  selectContext,
} from "./talosconfig.js";
export type {
  ApplyConfigurationOptions,
  ApplyConfigurationResult,
  ApplyMode,
  CallOptions,
  DmesgOptions,
  EtcdMemberInfo,
  EventsOptions,
  HealthReport,
  LogsOptions,
  NodeCallOptions,
  NodeHealth,
  NodeResult,
  NodesCallOptions,
  ProgressEvent,
  ResetOptions,
  ResourceMetadata,
  ResourceQuery,
  ResourceWatchEvent,
  RetryEvent,
  ServiceStatus,
  TalosClient,
  TalosClientOptions,
  TalosEvent,
  TalosResource,
  UpgradeOptions,
  UpgradeResult,
  VersionInfo,
  WaitForHealthyOptions,
} from "./types.js";
export type { DrainNodeOptions, UpgradeStep } from "./upgrade.js";
export { drainNode } from "./upgrade.js";

// ---- integration and advanced use

export { ClusterService } from "./gen/cluster/cluster_pb.js";
export { InspectService } from "./gen/inspect/inspect_pb.js";
export { ImageService } from "./gen/machine/image_pb.js";
export { LifecycleService } from "./gen/machine/lifecycle_pb.js";
export type {
  ContainerInfo,
  EtcdMemberStatus,
  FileInfo,
  MemInfo,
  MountStat,
  ProcessInfo,
  SystemStat,
} from "./gen/machine/machine_pb.js";
export { MachineService } from "./gen/machine/machine_pb.js";
export type { Disk } from "./gen/storage/storage_pb.js";
export { StorageService } from "./gen/storage/storage_pb.js";
export { TimeService } from "./gen/time/time_pb.js";
export { State as CosiStateService } from "./gen/v1alpha1/state_pb.js";
export { codeFromGrpcStatus } from "./status.js";
export type {
  Endpoint,
  GrpcTransportOptions,
  Transport,
  TransportCallOptions,
  TransportTls,
} from "./transport.js";
export { createGrpcTransport, parseEndpoint } from "./transport.js";
