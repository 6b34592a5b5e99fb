import type { Writable } from "node:stream";
import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { TalosClientError } from "./errors.js";
import type {
  ContainerInfo,
  EtcdMemberStatus,
  FileInfo,
  MemInfo,
  MountStat,
  ProcessInfo,
  SystemStat,
} from "./gen/machine/machine_pb.js";
import type { Disk } from "./gen/storage/storage_pb.js";
import type { Clock, HealthCheckResult, KubernetesAccess } from "./health.js";
import type { Talosconfig } from "./talosconfig.js";
import type { Transport } from "./transport.js";
import type { UpgradeStep } from "./upgrade.js";

/** A progress event of a long-running call. Plain data, never secrets. */
export interface ProgressEvent {
  type: string;
  message: string;
  [key: string]: unknown;
}

/** Options of {@link createTalosClient}. */
export interface TalosClientOptions {
  /** A talosconfig path, YAML text, or parsed object. */
  talosconfig?: string | Talosconfig | object;
  /** The talosconfig context to use (default: its current context). */
  context?: string;
  /** Endpoints (`host`, `host:port`, URL; port 50000 by default). Overrides the context's. */
  endpoints?: string[];
  /** Default target nodes. Overrides the context's. */
  nodes?: string[];
  /** Maintenance mode: server-only TLS, no client certificate. */
  insecure?: boolean;
  /** With `insecure`: accepted base64 sha256 SPKI fingerprints of the server certificate. */
  spkiPins?: string[];
  /** PEM OS CA certificate (alternative to a talosconfig). */
  ca?: string;
  /** PEM client certificate. */
  cert?: string;
  /** PEM client key (`ED25519 PRIVATE KEY` or PKCS#8). */
  key?: string;
  /** Default deadline of unary calls; default 30 s. */
  timeoutMs?: number;
  /** Injectable transport (tests, custom channels). */
  transport?: Transport;
  /** How many nodes a fan-out queries at once; default 16. */
  concurrency?: number;
  /** Attempts for reads failing with UNAVAILABLE; default 4 (so 3 retries). */
  readAttempts?: number;
  /** Base delay of the read retry backoff; default 200 ms (doubles, with jitter, capped at 3 s). */
  retryBaseDelayMs?: number;
  /** Called before each retry (after an UNAVAILABLE), so a caller can tell the user why it waits. */
  onRetry?: (event: RetryEvent) => void;
}

/** What {@link TalosClientOptions.onRetry} is told before a retry. */
export interface RetryEvent {
  /** The gRPC method, e.g. `/machine.MachineService/ApplyConfiguration`. */
  method: string;
  /** The node (or endpoint) the call went to. */
  node: string;
  /** The attempt that is about to start (2 for the first retry). */
  attempt: number;
  attempts: number;
  /** The wait before it. */
  delayMs: number;
  /** The error of the failed attempt (code and secret-free message). */
  error: TalosClientError;
}

/** One node's outcome of a fan-out call. */
export type NodeResult<T> =
  | { node: string; ok: true; value: T }
  | { node: string; ok: false; error: TalosClientError };

/** Options every call accepts. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Options of a call aimed at one node. */
export interface NodeCallOptions extends CallOptions {
  /** Target node (sent as `node` metadata); default: the only default node, else the endpoint itself. */
  node?: string;
}

/** Options of a call fanned out to several nodes. */
export interface NodesCallOptions extends CallOptions {
  /** Target nodes; default: the client's nodes, else the endpoint itself. */
  nodes?: string[];
  /**
   * Send one call with `nodes` metadata (one-to-many proxying, deprecated in Talos main) instead of one
   * call per node. Default false.
   */
  legacyFanOut?: boolean;
}

/** What `version` returns per node: the build (as `machine.VersionInfo`), platform and features. */
export interface VersionInfo {
  tag: string;
  sha: string;
  built: string;
  goVersion: string;
  os: string;
  arch: string;
  platform: { name: string; mode: string } | undefined;
  features: { rbac: boolean } | undefined;
}

/** Apply modes (Talos `ApplyConfigurationRequest.Mode`). */
export type ApplyMode = "auto" | "no-reboot" | "reboot" | "staged" | "try";

/** Options of `applyConfiguration`. */
export interface ApplyConfigurationOptions extends NodeCallOptions {
  /** The full machine configuration (multi-document YAML). */
  data: string | Uint8Array;
  /**
   * Default `auto`: ≤1.13 applies live when it can and reboots otherwise, ≥1.14 never reboots. `reboot`
   * is refused (UNIMPLEMENTED) by a configured node on ≥1.14; ≤1.12 maintenance accepts only `auto`,
   * `reboot` and `try`.
   */
  mode?: ApplyMode;
  dryRun?: boolean;
  /** TRY mode rollback timeout; Talos defaults to 1 minute. */
  tryModeTimeoutMs?: number;
}

/** What `applyConfiguration` returns. */
export interface ApplyConfigurationResult {
  node: string;
  /** The mode Talos actually used. */
  mode: ApplyMode;
  modeDetails: string;
  warnings: string[];
}

/** A service as `serviceList` reports it. */
export interface ServiceStatus {
  id: string;
  state: string;
  health: { unknown: boolean; healthy: boolean; lastMessage: string; lastChange: Date | undefined };
  events: { message: string; state: string; time: Date | undefined }[];
}

/** An etcd member. */
export interface EtcdMemberInfo {
  id: bigint;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** Options of `logs`. */
export interface LogsOptions extends NodeCallOptions {
  /** Service or container id, e.g. `kubelet`, `etcd`. */
  id: string;
  /** Containerd namespace; default `system` (Talos services), use `k8s.io` with driver `cri` for pods. */
  namespace?: string;
  driver?: "containerd" | "cri";
  follow?: boolean;
  /** Last N lines; default all (-1). */
  tailLines?: number;
}

/** Options of `dmesg`. */
export interface DmesgOptions extends NodeCallOptions {
  follow?: boolean;
  /** Only new messages (skip the buffer). */
  tail?: boolean;
}

/** Options of `events`. */
export interface EventsOptions extends NodeCallOptions {
  tailEvents?: number;
  tailId?: string;
  tailSeconds?: number;
  /** Only the events of one actor (returned by reboot/reset/upgrade). */
  actorId?: string;
}

/** A machine event with its decoded payload. */
export interface TalosEvent {
  node: string;
  id: string;
  actorId: string;
  /** Payload message name, e.g. `machine.SequenceEvent`. */
  type: string;
  /** The decoded payload, or undefined for unknown payload types. */
  payload: unknown;
}

/** Options of `reset`. */
export interface ResetOptions extends NodeCallOptions {
  /** Leave etcd and drain first; default true. */
  graceful?: boolean;
  /** Reboot after reset (to maintenance) instead of halting; default false. */
  reboot?: boolean;
  mode?: "all" | "system-disk" | "user-disks";
  /** System partition labels to wipe (EFI, BOOT, META, STATE, EPHEMERAL); empty = all. */
  systemPartitionsToWipe?: string[];
  userDisksToWipe?: string[];
}

/** Options of `upgrade`. */
export interface UpgradeOptions extends NodeCallOptions {
  /** Installer image reference. */
  image: string;
  /** Legacy flow only: stage the upgrade for the next reboot. */
  stage?: boolean;
  force?: boolean;
  preserve?: boolean;
  /** Reboot mode (legacy flow: `Upgrade.reboot_mode`; 1.13+ flow: the Reboot call's mode). */
  rebootMode?: "default" | "powercycle";
  /** New flow: reboot after a successful install; default true. */
  reboot?: boolean;
  /**
   * New flow: Kubernetes access to cordon and drain the node before the reboot (eviction API, so
   * PodDisruptionBudgets hold) and to see it Ready again before uncordoning.
   */
  kubernetes?: KubernetesAccess;
  /** New flow: cordon and drain first; default true when `kubernetes` is given (`false` skips). */
  drain?: boolean;
  /** The Kubernetes node name; default: the node whose InternalIP is the target address. */
  kubernetesNodeName?: string;
  /** Default 5 minutes (talosctl's). */
  drainTimeoutMs?: number;
  /** New flow: wait until the node answers on the new version (and is Ready); default true. */
  wait?: boolean;
  /** Default 15 minutes. */
  waitTimeoutMs?: number;
  /** Injected time for the drain and wait loops (tests). */
  clock?: Clock;
  onProgress?: (event: ProgressEvent) => void;
}

/** What `upgrade` returns. */
export interface UpgradeResult {
  node: string;
  /** `lifecycle` = ImageService.Pull + LifecycleService.Upgrade (Talos 1.13+), `legacy` = MachineService.Upgrade. */
  flow: "lifecycle" | "legacy";
  actorId: string;
  /** What happened at each step, in order. */
  steps: UpgradeStep[];
}

/** COSI resource metadata. */
export interface ResourceMetadata {
  namespace: string;
  type: string;
  id: string;
  version: string;
  owner: string;
  phase: string;
  created: Date | undefined;
  updated: Date | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers: string[];
}

/** A COSI resource with its decoded spec. */
export interface TalosResource<Spec = unknown> {
  node: string;
  metadata: ResourceMetadata;
  /** The spec decoded from YAML (for MachineConfig: the config YAML text). */
  spec: Spec;
  /** The spec as the server sent it. */
  rawSpec: { yaml: string; proto: Uint8Array };
}

/** Options of COSI reads. */
export interface ResourceQuery extends NodeCallOptions {
  /** Type, its display name or an alias (`members`, `machinestatus`, `Links.net.talos.dev`). */
  type: string;
  /** Namespace; default: the definition's default namespace. */
  namespace?: string;
}

/** A COSI watch event. */
export interface ResourceWatchEvent {
  type: "created" | "updated" | "destroyed" | "bootstrapped" | "errored" | "noop";
  resource: TalosResource | undefined;
  old: TalosResource | undefined;
  error: string | undefined;
}

/** Options of `waitForHealthy`. */
export interface WaitForHealthyOptions {
  controlPlaneNodes: string[];
  workerNodes: string[];
  timeoutMs: number;
  /** Delay between rounds; default 1 s. */
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Kubernetes access for the Kubernetes checks (skipped without it). */
  kubernetes?: KubernetesAccess;
  /** Injected time (tests); default the system clock. */
  clock?: Clock;
}

/** Per-node part of a {@link HealthReport}. */
export interface NodeHealth {
  node: string;
  role: "controlplane" | "worker";
  version: string | undefined;
  /** MachineStatus stage (`running`, `booting`, ...) when the node reports it. */
  stage: string | undefined;
  services: Record<string, { state: string; healthy: boolean }>;
  problems: string[];
}

/** The outcome of `waitForHealthy` and `checkHealth`. */
export interface HealthReport {
  healthy: boolean;
  nodes: NodeHealth[];
  etcdMembers: string[];
  problems: string[];
  /** Each check `talosctl health` runs, in its order. */
  checks: HealthCheckResult[];
  elapsedMs: number;
}

/** A typed client of the Talos machine API. */
export interface TalosClient {
  /** Talos version of each node (MachineService.Version). Read; retried on UNAVAILABLE. */
  version(options?: NodesCallOptions): Promise<NodeResult<VersionInfo>[]>;
  /** Hostname of each node. */
  hostname(options?: NodesCallOptions): Promise<NodeResult<string>[]>;
  /** Applies a full machine config to one node; never retried. @throws INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION */
  applyConfiguration(options: ApplyConfigurationOptions): Promise<ApplyConfigurationResult>;
  /** Bootstraps etcd on one control plane, once per cluster. @throws ALREADY_EXISTS when etcd already has data */
  bootstrap(
    options?: NodeCallOptions & { recoverEtcd?: boolean; recoverSkipHashCheck?: boolean },
  ): Promise<void>;
  /** Reboots one node; `actorId` filters its `events`. */
  reboot(
    options?: NodeCallOptions & { mode?: "default" | "powercycle" | "force" },
  ): Promise<{ node: string; actorId: string }>;
  /** Shuts one node down. */
  shutdown(options?: NodeCallOptions & { force?: boolean }): Promise<{ node: string; actorId: string }>;
  /** Resets (wipes) one node; graceful by default, halts unless `reboot`. */
  reset(options?: ResetOptions): Promise<{ node: string; actorId: string }>;
  /** Upgrades one node: ImageService.Pull + LifecycleService.Upgrade + Reboot on 1.13+, legacy Upgrade otherwise. @throws NODE_ERROR when the installer fails */
  upgrade(options: UpgradeOptions): Promise<UpgradeResult>;
  /** Services of each node with state and health. */
  serviceList(options?: NodesCallOptions): Promise<NodeResult<ServiceStatus[]>[]>;
  /** Starts a service; returns the node's reply text. */
  serviceStart(options: NodeCallOptions & { id: string }): Promise<string>;
  /** Stops a service; returns the node's reply text. */
  serviceStop(options: NodeCallOptions & { id: string }): Promise<string>;
  /** Restarts a service; returns the node's reply text. */
  serviceRestart(options: NodeCallOptions & { id: string }): Promise<string>;
  /** Admin kubeconfig YAML from a control plane (the streamed tar.gz, unpacked). */
  kubeconfig(options?: NodeCallOptions): Promise<string>;
  /** etcd members as seen by one control plane (ids are bigint). @throws FAILED_PRECONDITION when etcd is not running there */
  etcdMemberList(options?: NodeCallOptions & { queryLocal?: boolean }): Promise<EtcdMemberInfo[]>;
  /** Removes an etcd member by id (for members without a live node). */
  etcdRemoveMemberByID(options: NodeCallOptions & { memberId: bigint }): Promise<void>;
  /** Makes the node's etcd member leave the cluster. */
  etcdLeaveCluster(options?: NodeCallOptions): Promise<void>;
  /** Moves etcd leadership away from the node. */
  etcdForfeitLeadership(options?: NodeCallOptions): Promise<{ member: string }>;
  /** etcd member status of each control plane. */
  etcdStatus(options?: NodesCallOptions): Promise<NodeResult<EtcdMemberStatus>[]>;
  /**
   * Uploads an etcd snapshot (client stream) for a later `bootstrap({ recoverEtcd: true })`.
   * Never retried.
   */
  etcdRecover(
    options: NodeCallOptions & { source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> },
  ): Promise<{ node: string; bytes: number }>;
  /** Streams an etcd snapshot into `destination` with backpressure; the destination is not ended. */
  etcdSnapshot(
    options: NodeCallOptions & { destination: NodeJS.WritableStream | Writable | WritableStream<Uint8Array> },
  ): Promise<{ node: string; bytes: number }>;
  /** Log lines of a service or container; `follow` keeps the stream open until aborted or broken out of. */
  logs(options: LogsOptions): AsyncIterable<string>;
  /** Kernel log lines. */
  dmesg(options?: DmesgOptions): AsyncIterable<string>;
  /** Machine events with decoded payloads; the stream follows until aborted or broken out of. */
  events(options?: EventsOptions): AsyncIterable<TalosEvent>;
  /** Processes of each node. */
  processes(options?: NodesCallOptions): Promise<NodeResult<ProcessInfo[]>[]>;
  /** Mounted filesystems of each node with size and free space (bytes, bigint). */
  mounts(options?: NodesCallOptions): Promise<NodeResult<MountStat[]>[]>;
  /** Load averages of each node. */
  loadAvg(
    options?: NodesCallOptions,
  ): Promise<NodeResult<{ load1: number; load5: number; load15: number }>[]>;
  /** Reads one file from a node (admin). */
  readFile(options: NodeCallOptions & { path: string }): Promise<Uint8Array>;
  /** Copies a file or directory out of a node (admin): the streamed tar.gz, unpacked. */
  copy(options: NodeCallOptions & { rootPath: string }): Promise<{ name: string; content: Uint8Array }[]>;
  /** Lists a directory on a node. */
  listFiles(
    options: NodeCallOptions & { root: string; recurse?: boolean; recursionDepth?: number },
  ): Promise<FileInfo[]>;
  /** /proc/meminfo of each node (bigint fields). */
  memory(options?: NodesCallOptions): Promise<NodeResult<MemInfo>[]>;
  /** /proc/stat of each node. */
  systemStat(options?: NodesCallOptions): Promise<NodeResult<SystemStat>[]>;
  /** Containers of each node (`driver: "cri"` lists Kubernetes pods' containers). */
  containers(
    options?: NodesCallOptions & { namespace?: string; driver?: "containerd" | "cri" },
  ): Promise<NodeResult<ContainerInfo[]>[]>;
  /** Block devices of each node (storage.StorageService.Disks). */
  disks(options?: NodesCallOptions): Promise<NodeResult<Disk[]>[]>;
  /** Node time, checked against `server` when given. */
  time(
    options?: NodesCallOptions & { server?: string },
  ): Promise<NodeResult<{ server: string; localTime: Date | undefined; remoteTime: Date | undefined }>[]>;
  /** Issues a client certificate and talosconfig with `roles` (control planes only). The result is secret. */
  generateClientConfiguration(
    options: NodeCallOptions & { roles: string[]; crtTtlMs: number },
  ): Promise<{ ca: string; crt: string; key: string; talosconfig: string }>;
  /** One COSI resource; `type` may be an alias. @throws NOT_FOUND */
  get<Spec = unknown>(options: ResourceQuery & { id: string }): Promise<TalosResource<Spec>>;
  /** All COSI resources of a type in a namespace. */
  list<Spec = unknown>(options: ResourceQuery): Promise<TalosResource<Spec>[]>;
  /** COSI watch: bootstrap contents, then live events, until aborted or broken out of. */
  watch(
    options: ResourceQuery & { id?: string; bootstrapContents?: boolean; tailEvents?: number },
  ): AsyncIterable<ResourceWatchEvent>;
  /** Polls the checks of `talosctl health` (see `checkHealth`) until all pass. @throws HEALTH_TIMEOUT naming what is missing */
  waitForHealthy(options: WaitForHealthyOptions): Promise<HealthReport>;
  /** Any generated unary RPC, typed by its descriptor. */
  call<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options?: NodeCallOptions & { idempotent?: boolean },
  ): Promise<MessageShape<O>>;
  /** Any generated server-streaming RPC, typed by its descriptor. */
  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    options?: NodeCallOptions,
  ): AsyncIterable<MessageShape<O>>;
  /** Closes the channels; later calls fail with CANCELLED. */
  close(): void;
}
