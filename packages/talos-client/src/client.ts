import type { Writable } from "node:stream";
import { inspect } from "node:util";
import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { createRegistry, fromBinary } from "@bufbuild/protobuf";
import { anyUnpack, timestampDate } from "@bufbuild/protobuf/wkt";
import { parse as parseYaml } from "yaml";
import { isTalosClientError, TalosClientError } from "./errors.js";
import type { Data, DataSchema, Metadata } from "./gen/common/common_pb.js";
import { ContainerDriver, ContainerdNamespace } from "./gen/common/common_pb.js";
import { ImageService } from "./gen/machine/image_pb.js";
import { LifecycleService } from "./gen/machine/lifecycle_pb.js";
import type {
  ContainerInfo,
  EtcdMemberStatus,
  FileInfo,
  MemInfo,
  MountStat,
  ProcessInfo,
  ServiceInfo as ServiceInfoMessage,
  SystemStat,
} from "./gen/machine/machine_pb.js";
import {
  AddressEventSchema,
  ApplyConfigurationRequest_Mode,
  ConfigLoadErrorEventSchema,
  ConfigValidationErrorEventSchema,
  MachineService,
  MachineStatusEventSchema,
  PhaseEventSchema,
  RebootRequest_Mode,
  ResetRequest_WipeMode,
  RestartEventSchema,
  SequenceEventSchema,
  ServiceStateEventSchema,
  TaskEventSchema,
  UpgradeRequest_RebootMode,
} from "./gen/machine/machine_pb.js";
import { MachineConfigSpecSchema } from "./gen/resource/config/config_pb.js";
import type { Disk } from "./gen/storage/storage_pb.js";
import { StorageService } from "./gen/storage/storage_pb.js";
import { TimeService } from "./gen/time/time_pb.js";
import { ResourceDefinitionSpecSchema } from "./gen/v1alpha1/meta_pb.js";
import type { Resource } from "./gen/v1alpha1/resource_pb.js";
import { EventType, State } from "./gen/v1alpha1/state_pb.js";
import type { Clock, HealthCheckResult, KubernetesAccess } from "./health.js";
import { waitForHealth } from "./health.js";
import { unpackTarGz } from "./internal/tar.js";
import { codeFromGrpcStatus } from "./status.js";
import type { Talosconfig } from "./talosconfig.js";
import { loadTalosconfig, resolveCredentials, selectContext } from "./talosconfig.js";
import type { Transport, TransportCallOptions } from "./transport.js";
import { createGrpcTransport, parseEndpoint } from "./transport.js";
import type { UpgradeStep } from "./upgrade.js";
import { finishUpgrade, imageTag } from "./upgrade.js";

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

/** What `version` returns per node. */
export interface TalosVersion {
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
  version(options?: NodesCallOptions): Promise<NodeResult<TalosVersion>[]>;
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

const APPLY_MODES: Record<ApplyMode, ApplyConfigurationRequest_Mode> = {
  auto: ApplyConfigurationRequest_Mode.AUTO,
  "no-reboot": ApplyConfigurationRequest_Mode.NO_REBOOT,
  reboot: ApplyConfigurationRequest_Mode.REBOOT,
  staged: ApplyConfigurationRequest_Mode.STAGED,
  try: ApplyConfigurationRequest_Mode.TRY,
};

const EVENT_TYPES: Record<number, ResourceWatchEvent["type"]> = {
  [EventType.CREATED]: "created",
  [EventType.UPDATED]: "updated",
  [EventType.DESTROYED]: "destroyed",
  [EventType.BOOTSTRAPPED]: "bootstrapped",
  [EventType.ERRORED]: "errored",
  [EventType.NOOP]: "noop",
};

const eventRegistry = createRegistry(
  SequenceEventSchema,
  PhaseEventSchema,
  TaskEventSchema,
  ServiceStateEventSchema,
  RestartEventSchema,
  ConfigLoadErrorEventSchema,
  ConfigValidationErrorEventSchema,
  AddressEventSchema,
  MachineStatusEventSchema,
);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new TalosClientError("CANCELLED", "the operation was cancelled"));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TalosClientError("CANCELLED", "the operation was cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function checkMetadata(metadata: Metadata | undefined, node: string): void {
  if (metadata !== undefined && metadata.error !== "") {
    throw new TalosClientError("NODE_ERROR", `${node}: ${metadata.error}`, {
      details: { node, grpcCode: metadata.status?.code },
    });
  }
}

/** The per-node reply message of a unary Talos RPC (its response's `messages` element). */
type Reply<O extends DescMessage> =
  MessageShape<O> extends { messages: (infer M extends { metadata?: Metadata | undefined })[] } ? M : never;

function first<T extends { metadata?: Metadata | undefined }>(messages: T[], node: string, what: string): T {
  const message = messages[0];
  if (message === undefined) {
    throw new TalosClientError("INTERNAL", `${node} returned no ${what} message`, { details: { node } });
  }
  checkMetadata(message.metadata, node);
  return message;
}

/** Unpacks a node's tar.gz payload; `what` names it in the error ("a kubeconfig"). */
function untar(archive: Uint8Array, node: string, what: string): ReturnType<typeof unpackTarGz> {
  try {
    return unpackTarGz(archive);
  } catch (cause) {
    throw new TalosClientError("INTERNAL", `${node} sent ${what} that is not a tar.gz`, {
      cause,
      details: { node },
    });
  }
}

/** An AsyncIterable that starts a fresh generator on each iteration (nothing runs until iterated). */
function iterable<T>(generate: () => AsyncGenerator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: generate };
}

/** The first reply if there is one, checked for a node error (a mutation may reply with no message). */
function firstIfAny<T extends { metadata?: Metadata | undefined }>(
  messages: T[],
  node: string,
): T | undefined {
  const message = messages[0];
  if (message !== undefined) checkMetadata(message.metadata, node);
  return message;
}

function toDate(ts: Parameters<typeof timestampDate>[0] | undefined): Date | undefined {
  return ts === undefined ? undefined : timestampDate(ts);
}

function toServiceStatus(info: ServiceInfoMessage): ServiceStatus {
  return {
    id: info.id,
    state: info.state,
    health: {
      unknown: info.health?.unknown ?? true,
      healthy: info.health?.healthy ?? false,
      lastMessage: info.health?.lastMessage ?? "",
      lastChange: toDate(info.health?.lastChange),
    },
    events: (info.events?.events ?? []).map((e) => ({ message: e.msg, state: e.state, time: toDate(e.ts) })),
  };
}

function applyModeName(mode: ApplyConfigurationRequest_Mode): ApplyMode {
  for (const [name, value] of Object.entries(APPLY_MODES)) if (value === mode) return name as ApplyMode;
  return "auto";
}

async function* lines(chunks: AsyncIterable<Data>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of chunks) {
    checkMetadata(chunk.metadata, chunk.metadata?.hostname ?? "node");
    buffer += decoder.decode(chunk.bytes, { stream: true });
    let index = buffer.indexOf("\n");
    while (index >= 0) {
      yield buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      index = buffer.indexOf("\n");
    }
  }
  buffer += decoder.decode();
  if (buffer !== "") yield buffer;
}

function decodeResource(resource: Resource | undefined, node: string): TalosResource | undefined {
  if (resource === undefined) return undefined;
  const m = resource.metadata;
  const yaml = resource.spec?.yamlSpec ?? "";
  const proto = resource.spec?.protoSpec ?? new Uint8Array();
  let spec: unknown;
  if (m?.type === "MachineConfigs.config.talos.dev" && proto.length > 0) {
    spec = new TextDecoder().decode(fromBinary(MachineConfigSpecSchema, proto).yamlMarshalled);
  } else {
    try {
      spec = yaml === "" ? undefined : parseYaml(yaml);
    } catch {
      spec = yaml;
    }
  }
  return {
    node,
    metadata: {
      namespace: m?.namespace ?? "",
      type: m?.type ?? "",
      id: m?.id ?? "",
      version: m?.version ?? "",
      owner: m?.owner ?? "",
      phase: m?.phase ?? "",
      created: toDate(m?.created),
      updated: toDate(m?.updated),
      labels: { ...(m?.labels ?? {}) },
      annotations: { ...(m?.annotations ?? {}) },
      finalizers: [...(m?.finalizers ?? [])],
    },
    spec,
    rawSpec: { yaml, proto },
  };
}

function parseTag(tag: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(tag);
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

async function writeChunk(
  destination: Writable | WritableStreamDefaultWriter<Uint8Array>,
  chunk: Uint8Array,
) {
  if ("write" in destination && "ready" in destination) {
    await destination.ready;
    await destination.write(chunk);
    return;
  }
  const writable = destination as Writable;
  if (!writable.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        writable.off("drain", onDrain);
        reject(error);
      };
      const onDrain = (): void => {
        writable.off("error", onError);
        resolve();
      };
      writable.once("drain", onDrain);
      writable.once("error", onError);
    });
  }
}

interface Resolved {
  transport: Transport;
  nodes: string[];
  endpointHost: string;
  /** Maintenance mode: no routing on the node side, so a target node is dialled directly. */
  insecure: boolean;
  /** A transport to one node in maintenance mode (cached per node). */
  direct(node: string): Transport;
  close(): void;
}

interface ResourceDefinition {
  type: string;
  namespace: string;
  names: string[];
}

/**
 * Creates a Talos API client. Connection material comes from a talosconfig (path, YAML, object), from
 * PEM options, or `insecure` for maintenance mode; nothing connects until the first call.
 *
 * @example
 * ```ts
 * const client = createTalosClient({ talosconfig: "./talosconfig", nodes: ["10.0.0.2"] });
 * const [result] = await client.version();
 * if (result?.ok) console.log(result.value.tag);
 * client.close();
 * ```
 * @throws TalosClientError (from calls) `INVALID_TALOSCONFIG`, `INVALID_ARGUMENT`, and the mapped gRPC codes
 */
export function createTalosClient(options: TalosClientOptions = {}): TalosClient {
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const readAttempts = Math.max(1, options.readAttempts ?? 4);
  const retryBase = options.retryBaseDelayMs ?? 200;
  let resolving: Promise<Resolved> | undefined;
  let closed = false;
  const definitions = new Map<string, Promise<ResourceDefinition[]>>();

  async function resolve(): Promise<Resolved> {
    if (closed) throw new TalosClientError("CANCELLED", "the client is closed");
    resolving ??= (async () => {
      let contextEndpoints: string[] = [];
      let contextNodes: string[] = [];
      let creds: { ca?: string; cert: string; key: string } | undefined;
      if (options.talosconfig !== undefined) {
        const config = await loadTalosconfig(options.talosconfig);
        const { name, context } = selectContext(config, options.context);
        contextEndpoints = context.endpoints;
        contextNodes = context.nodes;
        if (!options.insecure && options.cert === undefined) creds = resolveCredentials(context, name);
      }
      if (options.ca !== undefined || options.cert !== undefined || options.key !== undefined) {
        if (options.cert === undefined || options.key === undefined) {
          throw new TalosClientError(
            "INVALID_ARGUMENT",
            "cert and key must be given together (ca is optional)",
          );
        }
        creds = {
          cert: options.cert,
          key: options.key,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
        };
      }
      const endpoints = options.endpoints ?? contextEndpoints;
      const nodes = options.nodes ?? contextNodes;
      let transport = options.transport;
      if (transport === undefined) {
        if (endpoints.length === 0) {
          throw new TalosClientError(
            "INVALID_ARGUMENT",
            "no endpoints: pass endpoints or a talosconfig with some",
          );
        }
        if (options.insecure) {
          transport = createGrpcTransport({
            endpoints,
            tls: { mode: "insecure", ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}) },
          });
        } else {
          if (creds === undefined) {
            throw new TalosClientError(
              "INVALID_ARGUMENT",
              "no client credentials: pass a talosconfig, ca/cert/key, or insecure for maintenance mode",
            );
          }
          transport = createGrpcTransport({ endpoints, tls: { mode: "mtls", ...creds } });
        }
      }
      const firstEndpoint = transport.endpoints[0] ?? endpoints[0] ?? "endpoint";
      let endpointHost = firstEndpoint;
      try {
        endpointHost = parseEndpoint(firstEndpoint).host;
      } catch {
        // keep the raw text as the label
      }
      const shared = transport;
      const injected = options.transport !== undefined;
      const directs = new Map<string, Transport>();
      const direct = (node: string): Transport => {
        let t = directs.get(node);
        if (t === undefined) {
          if (injected) {
            throw new TalosClientError(
              "INVALID_ARGUMENT",
              `maintenance mode cannot route to ${node} through an injected transport: pass a transport to that node`,
              { details: { node } },
            );
          }
          t = createGrpcTransport({
            endpoints: [node],
            tls: { mode: "insecure", ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}) },
          });
          directs.set(node, t);
        }
        return t;
      };
      return {
        transport,
        nodes,
        endpointHost,
        insecure: options.insecure === true,
        direct,
        close() {
          shared.close();
          for (const t of directs.values()) t.close();
        },
      };
    })();
    resolving.catch(() => {
      resolving = undefined;
    });
    return resolving;
  }

  /**
   * The transport and `node` metadata of a call. In maintenance mode Talos does no routing (a `node` key
   * is ignored and the endpoint answers), so a target node is dialled directly, as talosctl --insecure
   * does. With no target, the endpoint itself answers: only unambiguous with exactly one endpoint.
   */
  async function connect(
    node: string | undefined,
  ): Promise<{ transport: Transport; node: string | undefined }> {
    const r = await resolve();
    if (node === undefined) {
      if (r.transport.endpoints.length > 1) {
        throw new TalosClientError(
          "INVALID_ARGUMENT",
          "several endpoints and no target node: pass the node to target (the call would reach any endpoint)",
          { details: { endpoints: r.transport.endpoints.length } },
        );
      }
      return { transport: r.transport, node: undefined };
    }
    if (r.insecure) return { transport: r.direct(node), node: undefined };
    return { transport: r.transport, node };
  }

  function callOptions(
    node: string | undefined,
    opts: CallOptions | undefined,
    unary: boolean,
  ): TransportCallOptions {
    const result: TransportCallOptions = {};
    if (node !== undefined) result.metadata = { node };
    const timeout = opts?.timeoutMs ?? (unary ? defaultTimeout : undefined);
    if (timeout !== undefined) result.timeoutMs = timeout;
    if (opts?.signal !== undefined) result.signal = opts.signal;
    return result;
  }

  /** Waits before retry `attempt + 1`: exponential from `retryBase`, capped at 3 s, with jitter. */
  function backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
    const cap = Math.min(3000, retryBase * 2 ** (attempt - 1));
    return sleep(cap / 2 + Math.random() * (cap / 2), signal);
  }

  async function unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
    idempotent: boolean,
  ): Promise<MessageShape<O>> {
    const { endpointHost } = await resolve();
    const target = await connect(node);
    const attempts = idempotent ? readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await target.transport.unary(method, request, callOptions(target.node, opts, true));
      } catch (error) {
        const e = isTalosClientError(error) ? error : TalosClientError.from(error);
        if (e.code !== "UNAVAILABLE" || attempt >= attempts || opts?.signal?.aborted) {
          throw withNode(e, node ?? endpointHost);
        }
        await backoff(attempt, opts?.signal);
      }
    }
  }

  function withNode(error: TalosClientError, node: string): TalosClientError {
    if (error.details?.node !== undefined) return error;
    return new TalosClientError(error.code, error.rawMessage, {
      cause: error.cause ?? error,
      details: { ...(error.details ?? {}), node },
    });
  }

  async function* serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
  ): AsyncGenerator<MessageShape<O>> {
    const { endpointHost } = await resolve();
    const target = await connect(node);
    // Streams are reads except the upgrade ones; a read is retried only while nothing was received yet.
    const idempotent =
      method.parent.typeName !== "machine.ImageService" &&
      method.parent.typeName !== "machine.LifecycleService";
    const attempts = idempotent ? readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      let received = false;
      try {
        for await (const message of target.transport.serverStream(
          method,
          request,
          callOptions(target.node, opts, false),
        )) {
          received = true;
          yield message;
        }
        return;
      } catch (error) {
        const e = isTalosClientError(error) ? error : TalosClientError.from(error);
        if (received || e.code !== "UNAVAILABLE" || attempt >= attempts || opts?.signal?.aborted) {
          throw withNode(e, node ?? endpointHost);
        }
        await backoff(attempt, opts?.signal);
      }
    }
  }

  /** Reads a stream of `common.Data` from one node into one buffer; a node error in any message throws. */
  async function readData<I extends DescMessage>(
    method: DescMethodServerStreaming<I, typeof DataSchema>,
    request: MessageInitShape<I>,
    node: string | undefined,
    label: string,
    opts: CallOptions | undefined,
  ): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for await (const data of serverStream(method, request, node, opts)) {
      checkMetadata(data.metadata, label);
      chunks.push(data.bytes);
    }
    return Buffer.concat(chunks);
  }

  async function singleNode(node: string | undefined): Promise<{ node: string | undefined; label: string }> {
    const { nodes, endpointHost } = await resolve();
    if (node !== undefined) return { node, label: node };
    if (nodes.length > 1) {
      throw new TalosClientError("INVALID_ARGUMENT", "several default nodes: pass the node to target", {
        details: { nodes },
      });
    }
    return { node: nodes[0], label: nodes[0] ?? endpointHost };
  }

  async function fanOut<T>(
    opts: NodesCallOptions,
    fn: (node: string | undefined, label: string, call: typeof unary) => Promise<T>,
  ): Promise<NodeResult<T>[]> {
    const { nodes, endpointHost } = await resolve();
    const targets: (string | undefined)[] = opts.nodes ?? (nodes.length > 0 ? nodes : [undefined]);
    const r = await resolve();
    const call =
      opts.legacyFanOut === true && !r.insecure && targets.every((t) => t !== undefined)
        ? legacyBatcher(targets as string[])
        : unary;
    const results: NodeResult<T>[] = new Array(targets.length);
    let index = 0;
    const worker = async (): Promise<void> => {
      while (index < targets.length) {
        const i = index++;
        const target = targets[i];
        const label = target ?? endpointHost;
        try {
          results[i] = { node: label, ok: true, value: await fn(target, label, call) };
        } catch (error) {
          const e = isTalosClientError(error) ? error : TalosClientError.from(error);
          results[i] = { node: label, ok: false, error: withNode(e, label) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    return results;
  }

  /** Fans one read-only unary call out to the target nodes; each node's single reply goes through `map`. */
  function fanOutFirst<I extends DescMessage, O extends DescMessage, T>(
    opts: NodesCallOptions,
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    what: string,
    map: (message: Reply<O>, label: string) => T,
  ): Promise<NodeResult<T>[]> {
    return fanOut(opts, async (node, label, call) => {
      const res = (await call(method, request, node, opts, true)) as MessageShape<O> & {
        messages: Reply<O>[];
      };
      return map(first(res.messages, label, what), label);
    });
  }

  /**
   * One-to-many proxying (deprecated upstream): one call carrying every target in `nodes` metadata; apid
   * answers with one message per node (metadata.hostname), failed nodes as metadata-only errors.
   */
  function legacyBatcher(targets: string[]): typeof unary {
    const batches = new Map<string, Promise<unknown>>();
    return (async (
      method: DescMethodUnary<DescMessage, DescMessage>,
      request: MessageInitShape<DescMessage>,
      node: string | undefined,
      opts: CallOptions | undefined,
    ) => {
      const key = `${method.parent.typeName}/${method.name}`;
      let batch = batches.get(key);
      if (batch === undefined) {
        batch = (async () => {
          const { transport } = await resolve();
          const callOpts = callOptions(undefined, opts, true);
          callOpts.metadata = { nodes: targets };
          return transport.unary(method, request, callOpts);
        })();
        batches.set(key, batch);
      }
      const response = (await batch) as { messages: { metadata?: Metadata }[] };
      const message = response.messages.find((m) => m.metadata?.hostname === node);
      if (message === undefined) {
        throw new TalosClientError("INTERNAL", `${node} sent no reply in the one-to-many response`, {
          details: { node },
        });
      }
      const error = message.metadata?.error ?? "";
      if (error !== "") {
        const code =
          message.metadata?.status === undefined
            ? "NODE_ERROR"
            : codeFromGrpcStatus(message.metadata.status.code);
        throw new TalosClientError(code, `${node}: ${error}`, {
          details: { node, grpcCode: message.metadata?.status?.code },
        });
      }
      return { ...response, messages: [message] };
    }) as unknown as typeof unary;
  }

  async function resourceDefinitions(node: string | undefined, opts: CallOptions | undefined) {
    const key = node ?? "";
    let cached = definitions.get(key);
    if (cached === undefined) {
      cached = (async () => {
        const out: ResourceDefinition[] = [];
        for await (const item of serverStream(
          State.method.list,
          { namespace: "meta", type: "ResourceDefinitions.meta.cosi.dev" },
          node,
          opts,
        )) {
          const spec = item.resource?.spec;
          if (spec === undefined) continue;
          let type = "";
          let namespace = "";
          let names: string[] = [];
          if (spec.protoSpec.length > 0) {
            const d = fromBinary(ResourceDefinitionSpecSchema, spec.protoSpec);
            type = d.resourceType;
            namespace = d.defaultNamespace;
            names = [d.resourceType, d.displayType, ...d.aliases, ...d.allAliases];
          } else if (spec.yamlSpec !== "") {
            const d = (parseYaml(spec.yamlSpec) ?? {}) as Record<string, unknown>;
            type = String(d.type ?? d.resourceType ?? item.resource?.metadata?.id ?? "");
            namespace = String(d.defaultNamespace ?? "");
            names = [
              type,
              String(d.displayType ?? ""),
              ...((d.aliases as string[]) ?? []),
              ...((d.allAliases as string[]) ?? []),
            ];
          }
          if (type !== "")
            out.push({ type, namespace, names: names.filter((n) => n !== "").map((n) => n.toLowerCase()) });
        }
        return out;
      })();
      cached.catch(() => definitions.delete(key));
      definitions.set(key, cached);
    }
    return cached;
  }

  async function resolveType(query: ResourceQuery): Promise<{ type: string; namespace: string }> {
    const wanted = query.type.toLowerCase();
    const defs = await resourceDefinitions(query.node, query);
    // As talosctl (talos pkg/machinery/client/resources.go ResolveResourceKind): the type or any alias,
    // case-insensitively; more than one match is an error rather than a guess.
    const matched = defs.filter((d) => d.type.toLowerCase() === wanted || d.names.includes(wanted));
    if (matched.length > 1) {
      const types = matched.map((d) => d.type);
      throw new TalosClientError(
        "INVALID_ARGUMENT",
        `resource type "${query.type}" is ambiguous: ${types.join(", ")}; use the full type name`,
        { details: { type: query.type, matches: types } },
      );
    }
    const def = matched[0];
    if (def === undefined) {
      if (query.type.includes(".") && query.namespace !== undefined) {
        return { type: query.type, namespace: query.namespace };
      }
      throw new TalosClientError("NOT_FOUND", `no resource type matches "${query.type}"`, {
        details: { type: query.type },
      });
    }
    return { type: def.type, namespace: query.namespace ?? def.namespace };
  }

  const client: TalosClient = {
    async version(opts = {}) {
      return fanOutFirst(opts, MachineService.method.version, {}, "version", (m) => {
        const v = m.version;
        return {
          tag: v?.tag ?? "",
          sha: v?.sha ?? "",
          built: v?.built ?? "",
          goVersion: v?.goVersion ?? "",
          os: v?.os ?? "",
          arch: v?.arch ?? "",
          platform: m.platform === undefined ? undefined : { name: m.platform.name, mode: m.platform.mode },
          features: m.features === undefined ? undefined : { rbac: m.features.rbac },
        };
      });
    },

    async hostname(opts = {}) {
      return fanOutFirst(opts, MachineService.method.hostname, {}, "hostname", (m) => m.hostname);
    },

    async applyConfiguration(opts) {
      const { node, label } = await singleNode(opts.node);
      const data = typeof opts.data === "string" ? new TextEncoder().encode(opts.data) : opts.data;
      const mode = APPLY_MODES[opts.mode ?? "auto"];
      if (mode === undefined)
        throw new TalosClientError("INVALID_ARGUMENT", `unknown apply mode "${opts.mode}"`);
      const request: MessageInitShape<typeof MachineService.method.applyConfiguration.input> = {
        data,
        mode,
        dryRun: opts.dryRun ?? false,
      };
      if (opts.tryModeTimeoutMs !== undefined) {
        const ms = opts.tryModeTimeoutMs;
        request.tryModeTimeout = { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
      }
      const res = await unary(MachineService.method.applyConfiguration, request, node, opts, false);
      const m = first(res.messages, label, "apply");
      return {
        node: label,
        mode: applyModeName(m.mode),
        modeDetails: m.modeDetails,
        warnings: [...m.warnings],
      };
    },

    async bootstrap(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.bootstrap,
        { recoverEtcd: opts.recoverEtcd ?? false, recoverSkipHashCheck: opts.recoverSkipHashCheck ?? false },
        node,
        opts,
        false,
      );
      firstIfAny(res.messages, label);
    },

    async reboot(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const mode =
        opts.mode === "powercycle"
          ? RebootRequest_Mode.POWERCYCLE
          : opts.mode === "force"
            ? RebootRequest_Mode.FORCE
            : RebootRequest_Mode.DEFAULT;
      if (mode === RebootRequest_Mode.FORCE) {
        // FORCE=2 arrived in Talos 1.12 (api/machine/machine.proto); 1.11 would take it for a graceful reboot.
        const res = await unary(MachineService.method.version, {}, node, opts, true);
        const tag = first(res.messages, label, "version").version?.tag ?? "";
        const v = parseTag(tag);
        if (v !== undefined && v[0] === 1 && v[1] < 12) {
          throw new TalosClientError(
            "INVALID_ARGUMENT",
            `reboot mode "force" needs Talos 1.12 or later; ${label} runs ${tag}`,
            { details: { node: label, version: tag } },
          );
        }
      }
      const res = await unary(MachineService.method.reboot, { mode }, node, opts, false);
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async shutdown(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.shutdown,
        { force: opts.force ?? false },
        node,
        opts,
        false,
      );
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async reset(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const mode =
        opts.mode === "system-disk"
          ? ResetRequest_WipeMode.SYSTEM_DISK
          : opts.mode === "user-disks"
            ? ResetRequest_WipeMode.USER_DISKS
            : ResetRequest_WipeMode.ALL;
      const res = await unary(
        MachineService.method.reset,
        {
          graceful: opts.graceful ?? true,
          reboot: opts.reboot ?? false,
          mode,
          systemPartitionsToWipe: (opts.systemPartitionsToWipe ?? []).map((label) => ({ label, wipe: true })),
          userDisksToWipe: opts.userDisksToWipe ?? [],
        },
        node,
        opts,
        false,
      );
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async upgrade(opts) {
      const { node, label } = await singleNode(opts.node);
      const progress = (type: string, message: string, data: Record<string, unknown> = {}): void =>
        opts.onProgress?.({ type, message, node: label, ...data });
      const legacy = async (): Promise<UpgradeResult> => {
        progress("upgrade.legacy", `upgrading ${label} with MachineService.Upgrade`);
        const res = await unary(
          MachineService.method.upgrade,
          {
            image: opts.image,
            stage: opts.stage ?? false,
            force: opts.force ?? false,
            preserve: opts.preserve ?? false,
            rebootMode:
              opts.rebootMode === "powercycle"
                ? UpgradeRequest_RebootMode.POWERCYCLE
                : UpgradeRequest_RebootMode.DEFAULT,
          },
          node,
          opts,
          false,
        );
        const m = firstIfAny(res.messages, label);
        progress("upgrade.accepted", m?.ack ?? "upgrade accepted");
        const steps: UpgradeStep[] = [
          { step: "upgrade", status: "done", detail: m?.ack ?? "upgrade accepted (MachineService.Upgrade)" },
        ];
        return { node: label, flow: "legacy", actorId: m?.actorId ?? "", steps };
      };
      if (opts.stage === true) return legacy();
      const versionRes = await unary(MachineService.method.version, {}, node, opts, true);
      const tag = parseTag(first(versionRes.messages, label, "version").version?.tag ?? "");
      if (tag === undefined || tag[0] < 1 || (tag[0] === 1 && tag[1] < 13)) return legacy();
      const containerd = { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_SYSTEM };
      const steps: UpgradeStep[] = [];
      try {
        progress("upgrade.pull", `pulling ${opts.image}`);
        for await (const item of serverStream(
          ImageService.method.pull,
          { containerd, imageRef: opts.image },
          node,
          opts,
        )) {
          if (item.response.case === "name") progress("upgrade.pulled", `pulled ${item.response.value}`);
          else if (item.response.case === "pullProgress") {
            const p = item.response.value;
            progress("upgrade.pull.progress", `layer ${p.layerId}`, {
              layer: p.layerId,
              offset: Number(p.progress?.offset ?? 0n),
              total: Number(p.progress?.total ?? 0n),
            });
          }
        }
      } catch (error) {
        if (isTalosClientError(error) && error.code === "UNIMPLEMENTED") return legacy();
        throw error;
      }
      steps.push({ step: "pull", status: "done", detail: `pulled ${opts.image}` });
      for await (const item of serverStream(
        LifecycleService.method.upgrade,
        { containerd, source: { imageName: opts.image } },
        node,
        opts,
      )) {
        const p = item.progress?.response;
        if (p?.case === "message") progress("upgrade.progress", p.value);
        else if (p?.case === "exitCode" && p.value !== 0) {
          throw new TalosClientError("NODE_ERROR", `${label}: the upgrade failed with exit code ${p.value}`, {
            details: { node: label, exitCode: p.value },
          });
        }
      }
      steps.push({ step: "install", status: "done", detail: `installed ${opts.image}` });
      let actorId = "";
      if (opts.reboot === false) {
        for (const step of ["cordon", "drain", "reboot", "wait", "uncordon"] as const) {
          steps.push({ step, status: "skipped", detail: "reboot: false" });
        }
      } else {
        const mode =
          opts.rebootMode === "powercycle" ? RebootRequest_Mode.POWERCYCLE : RebootRequest_Mode.DEFAULT;
        actorId = await finishUpgrade({
          client,
          node,
          label,
          expectedTag: imageTag(opts.image),
          kubernetes: opts.kubernetes,
          drain: opts.drain,
          kubernetesNodeName: opts.kubernetesNodeName,
          drainTimeoutMs: opts.drainTimeoutMs,
          wait: opts.wait,
          waitTimeoutMs: opts.waitTimeoutMs,
          clock: opts.clock,
          signal: opts.signal,
          steps,
          progress,
          reboot: async () => {
            const res = await unary(MachineService.method.reboot, { mode }, node, opts, false);
            return res.messages[0]?.actorId ?? "";
          },
        });
      }
      return { node: label, flow: "lifecycle", actorId, steps };
    },

    async serviceList(opts = {}) {
      return fanOutFirst(opts, MachineService.method.serviceList, {}, "service list", (m) =>
        m.services.map(toServiceStatus),
      );
    },

    async serviceStart(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.serviceStart, { id: opts.id }, node, opts, false);
      return first(res.messages, label, "service start").resp;
    },

    async serviceStop(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.serviceStop, { id: opts.id }, node, opts, false);
      return first(res.messages, label, "service stop").resp;
    },

    async serviceRestart(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.serviceRestart, { id: opts.id }, node, opts, false);
      return first(res.messages, label, "service restart").resp;
    },

    async kubeconfig(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const archive = await readData(MachineService.method.kubeconfig, {}, node, label, opts);
      const file = untar(archive, label, "a kubeconfig")[0];
      if (file === undefined) {
        throw new TalosClientError("INTERNAL", `${label} sent an empty kubeconfig archive`, {
          details: { node: label },
        });
      }
      return new TextDecoder().decode(file.content);
    },

    async etcdMemberList(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.etcdMemberList,
        { queryLocal: opts.queryLocal ?? false },
        node,
        opts,
        true,
      );
      return first(res.messages, label, "etcd member list").members.map((m) => ({
        id: m.id,
        hostname: m.hostname,
        peerUrls: [...m.peerUrls],
        clientUrls: [...m.clientUrls],
        isLearner: m.isLearner,
      }));
    },

    async etcdRemoveMemberByID(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.etcdRemoveMemberByID,
        { memberId: opts.memberId },
        node,
        opts,
        false,
      );
      firstIfAny(res.messages, label);
    },

    async etcdLeaveCluster(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.etcdLeaveCluster, {}, node, opts, false);
      firstIfAny(res.messages, label);
    },

    async etcdForfeitLeadership(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.etcdForfeitLeadership, {}, node, opts, false);
      return { member: firstIfAny(res.messages, label)?.member ?? "" };
    },

    async etcdStatus(opts = {}) {
      return fanOutFirst(opts, MachineService.method.etcdStatus, {}, "etcd status", (m, label) => {
        const status = m.memberStatus;
        if (status === undefined) throw new TalosClientError("INTERNAL", `${label} returned no etcd status`);
        return status;
      });
    },

    async etcdSnapshot(opts) {
      const { node, label } = await singleNode(opts.node);
      const destination = opts.destination;
      const writer =
        "getWriter" in destination && typeof destination.getWriter === "function"
          ? (destination as WritableStream<Uint8Array>).getWriter()
          : (destination as Writable);
      let bytes = 0;
      try {
        for await (const data of serverStream(MachineService.method.etcdSnapshot, {}, node, opts)) {
          checkMetadata(data.metadata, label);
          bytes += data.bytes.length;
          await writeChunk(writer, data.bytes);
        }
      } finally {
        if ("releaseLock" in writer) writer.releaseLock();
      }
      return { node: label, bytes };
    },

    async etcdRecover(opts) {
      const { node, label } = await singleNode(opts.node);
      const target = await connect(node);
      let bytes = 0;
      const source = opts.source;
      async function* chunks(): AsyncGenerator<{ bytes: Uint8Array }> {
        for await (const chunk of source) {
          // Keep each message well under the 32 MiB limit.
          for (let offset = 0; offset < chunk.length; offset += 4 * 1024 * 1024) {
            const part = chunk.subarray(offset, offset + 4 * 1024 * 1024);
            bytes += part.length;
            yield { bytes: part };
          }
        }
      }
      try {
        const res = await target.transport.clientStream(
          MachineService.method.etcdRecover,
          chunks(),
          callOptions(target.node, opts, false),
        );
        firstIfAny(res.messages, label);
      } catch (error) {
        throw withNode(isTalosClientError(error) ? error : TalosClientError.from(error), label);
      }
      return { node: label, bytes };
    },

    logs(opts) {
      return iterable(async function* () {
        const { node } = await singleNode(opts.node);
        yield* lines(
          serverStream(
            MachineService.method.logs,
            {
              namespace: opts.namespace ?? "system",
              id: opts.id,
              driver: opts.driver === "cri" ? ContainerDriver.CRI : ContainerDriver.CONTAINERD,
              follow: opts.follow ?? false,
              tailLines: opts.tailLines ?? -1,
            },
            node,
            opts,
          ),
        );
      });
    },

    dmesg(opts = {}) {
      return iterable(async function* () {
        const { node } = await singleNode(opts.node);
        yield* lines(
          serverStream(
            MachineService.method.dmesg,
            { follow: opts.follow ?? false, tail: opts.tail ?? false },
            node,
            opts,
          ),
        );
      });
    },

    events(opts = {}) {
      return iterable(async function* () {
        const { node, label } = await singleNode(opts.node);
        for await (const event of serverStream(
          MachineService.method.events,
          {
            tailEvents: opts.tailEvents ?? 0,
            tailId: opts.tailId ?? "",
            tailSeconds: opts.tailSeconds ?? 0,
            withActorId: opts.actorId ?? "",
          },
          node,
          opts,
        )) {
          checkMetadata(event.metadata, label);
          const typeUrl = event.data?.typeUrl ?? "";
          // Talos opens the stream with an empty "hello" event (no payload type): not a machine event.
          if (typeUrl === "") continue;
          const type = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
          let payload: unknown;
          if (event.data !== undefined) {
            const schema = eventRegistry.getMessage(type);
            if (schema !== undefined) {
              payload = anyUnpack({ ...event.data, typeUrl: `type.googleapis.com/${type}` }, schema);
            }
          }
          yield { node: label, id: event.id, actorId: event.actorId, type, payload };
        }
      });
    },

    async processes(opts = {}) {
      return fanOutFirst(opts, MachineService.method.processes, {}, "processes", (m) => m.processes);
    },

    async mounts(opts = {}) {
      return fanOutFirst(opts, MachineService.method.mounts, {}, "mounts", (m) => m.stats);
    },

    async loadAvg(opts = {}) {
      return fanOutFirst(opts, MachineService.method.loadAvg, {}, "load average", (m) => ({
        load1: m.load1,
        load5: m.load5,
        load15: m.load15,
      }));
    },

    async readFile(opts) {
      const { node, label } = await singleNode(opts.node);
      return new Uint8Array(
        await readData(MachineService.method.read, { path: opts.path }, node, label, opts),
      );
    },

    async copy(opts) {
      const { node, label } = await singleNode(opts.node);
      const archive = await readData(
        MachineService.method.copy,
        { rootPath: opts.rootPath },
        node,
        label,
        opts,
      );
      return untar(archive, label, "an archive");
    },

    async listFiles(opts) {
      const { node, label } = await singleNode(opts.node);
      const out: FileInfo[] = [];
      for await (const info of serverStream(
        MachineService.method.list,
        { root: opts.root, recurse: opts.recurse ?? false, recursionDepth: opts.recursionDepth ?? 0 },
        node,
        opts,
      )) {
        checkMetadata(info.metadata, label);
        out.push(info);
      }
      return out;
    },

    async memory(opts = {}) {
      return fanOutFirst(opts, MachineService.method.memory, {}, "memory", (m, label) => {
        const info = m.meminfo;
        if (info === undefined) throw new TalosClientError("INTERNAL", `${label} returned no meminfo`);
        return info;
      });
    },

    async systemStat(opts = {}) {
      return fanOutFirst(opts, MachineService.method.systemStat, {}, "system stat", (m) => m);
    },

    async containers(opts = {}) {
      const request = {
        namespace: opts.namespace ?? (opts.driver === "cri" ? "k8s.io" : "system"),
        driver: opts.driver === "cri" ? ContainerDriver.CRI : ContainerDriver.CONTAINERD,
      };
      return fanOutFirst(opts, MachineService.method.containers, request, "containers", (m) => m.containers);
    },

    async disks(opts = {}) {
      return fanOutFirst(opts, StorageService.method.disks, {}, "disks", (m) => m.disks);
    },

    async time(opts = {}) {
      return fanOut(opts, async (node, label, call) => {
        const res =
          opts.server === undefined
            ? await call(TimeService.method.time, {}, node, opts, true)
            : await call(TimeService.method.timeCheck, { server: opts.server }, node, opts, true);
        const t = first(res.messages, label, "time");
        return { server: t.server, localTime: toDate(t.localtime), remoteTime: toDate(t.remotetime) };
      });
    },

    async generateClientConfiguration(opts) {
      const { node, label } = await singleNode(opts.node);
      if (!(opts.crtTtlMs > 0)) throw new TalosClientError("INVALID_ARGUMENT", "crtTtlMs must be positive");
      const res = await unary(
        MachineService.method.generateClientConfiguration,
        {
          roles: opts.roles,
          crtTtl: {
            seconds: BigInt(Math.floor(opts.crtTtlMs / 1000)),
            nanos: (opts.crtTtlMs % 1000) * 1_000_000,
          },
        },
        node,
        opts,
        false,
      );
      const m = first(res.messages, label, "client configuration");
      const text = (b: Uint8Array): string => new TextDecoder().decode(b);
      return { ca: text(m.ca), crt: text(m.crt), key: text(m.key), talosconfig: text(m.talosconfig) };
    },

    async get<Spec>(opts: ResourceQuery & { id: string }) {
      const { node, label } = await singleNode(opts.node);
      const { type, namespace } = await resolveType({ ...opts, ...(node === undefined ? {} : { node }) });
      const res = await unary(State.method.get, { namespace, type, id: opts.id }, node, opts, true);
      const resource = decodeResource(res.resource, label);
      if (resource === undefined) {
        throw new TalosClientError("NOT_FOUND", `${type} ${namespace}/${opts.id} not found`, {
          details: { node: label },
        });
      }
      return resource as TalosResource<Spec>;
    },

    async list<Spec>(opts: ResourceQuery) {
      const { node, label } = await singleNode(opts.node);
      const { type, namespace } = await resolveType({ ...opts, ...(node === undefined ? {} : { node }) });
      const out: TalosResource<Spec>[] = [];
      for await (const item of serverStream(State.method.list, { namespace, type }, node, opts)) {
        const resource = decodeResource(item.resource, label);
        if (resource !== undefined) out.push(resource as TalosResource<Spec>);
      }
      return out;
    },

    watch(opts) {
      return iterable(async function* () {
        const { node, label } = await singleNode(opts.node);
        const { type, namespace } = await resolveType({
          ...opts,
          ...(node === undefined ? {} : { node }),
        });
        // A single-resource watch refuses bootstrap contents (UNIMPLEMENTED) and sends the current
        // state (or a DESTROYED tombstone) first on its own: cosi-project/runtime server.go Watch.
        const request: MessageInitShape<typeof State.method.watch.input> = {
          namespace,
          type,
          apiVersion: 1,
          options: {
            bootstrapContents: opts.id === undefined && (opts.bootstrapContents ?? true),
            tailEvents: opts.tailEvents ?? 0,
          },
        };
        if (opts.id !== undefined) request.id = opts.id;
        for await (const response of serverStream(State.method.watch, request, node, opts)) {
          for (const event of response.event) {
            yield {
              type: EVENT_TYPES[event.eventType] ?? "noop",
              resource: decodeResource(event.resource, label),
              old: decodeResource(event.old, label),
              error: event.error,
            };
          }
        }
      });
    },

    waitForHealthy(opts) {
      return waitForHealth(client, opts);
    },

    call(method, request, opts = {}) {
      return (async () => {
        const { node } = await singleNode(opts.node);
        return unary(method, request, node, opts, opts.idempotent ?? false);
      })();
    },

    stream(method, request, opts = {}) {
      return iterable(async function* () {
        const { node } = await singleNode(opts.node);
        yield* serverStream(method, request, node, opts);
      });
    },

    close() {
      closed = true;
      void resolving?.then(
        (r) => r.close(),
        () => undefined,
      );
    },
  };

  Object.defineProperty(client, inspect.custom, { value: () => "TalosClient {}", enumerable: false });
  Object.defineProperty(client, "toJSON", { value: () => ({}), enumerable: false });
  return client;
}
