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
import { unpackTarGz } from "./internal/tar.js";
import { codeFromGrpcStatus } from "./status.js";
import type { Talosconfig } from "./talosconfig.js";
import { loadTalosconfig, resolveCredentials, selectContext } from "./talosconfig.js";
import type { Transport, TransportCallOptions } from "./transport.js";
import { createGrpcTransport, parseEndpoint } from "./transport.js";

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
  rebootMode?: "default" | "powercycle";
  /** New flow: reboot after a successful install; default true. */
  reboot?: boolean;
  onProgress?: (event: ProgressEvent) => void;
}

/** What `upgrade` returns. */
export interface UpgradeResult {
  node: string;
  /** `lifecycle` = ImageService.Pull + LifecycleService.Upgrade (Talos 1.13+), `legacy` = MachineService.Upgrade. */
  flow: "lifecycle" | "legacy";
  actorId: string;
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

/** The outcome of `waitForHealthy`. */
export interface HealthReport {
  healthy: boolean;
  nodes: NodeHealth[];
  etcdMembers: string[];
  problems: string[];
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
  /** Polls until every node answers, core services run healthy, MachineStatus is ready and etcd has one member per control plane. @throws HEALTH_TIMEOUT naming what is missing */
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

const CONTROL_PLANE_SERVICES = ["apid", "containerd", "cri", "etcd", "kubelet", "machined", "trustd"];
const WORKER_SERVICES = ["apid", "containerd", "cri", "kubelet", "machined"];

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
      let creds: { ca: string; cert: string; key: string } | undefined;
      if (options.talosconfig !== undefined) {
        const config = await loadTalosconfig(options.talosconfig);
        const { name, context } = selectContext(config, options.context);
        contextEndpoints = context.endpoints;
        contextNodes = context.nodes;
        if (!options.insecure && options.ca === undefined) creds = resolveCredentials(context, name);
      }
      if (options.ca !== undefined || options.cert !== undefined || options.key !== undefined) {
        if (options.ca === undefined || options.cert === undefined || options.key === undefined) {
          throw new TalosClientError("INVALID_ARGUMENT", "ca, cert and key must be given together");
        }
        creds = { ca: options.ca, cert: options.cert, key: options.key };
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
      return { transport, nodes, endpointHost };
    })();
    resolving.catch(() => {
      resolving = undefined;
    });
    return resolving;
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
  function backoff(
    attempt: number,
    signal: AbortSignal | undefined,
    retry: Omit<RetryEvent, "attempt" | "delayMs">,
  ): Promise<void> {
    const cap = Math.min(3000, retryBase * 2 ** (attempt - 1));
    const delayMs = cap / 2 + Math.random() * (cap / 2);
    options.onRetry?.({ ...retry, attempt: attempt + 1, delayMs });
    return sleep(delayMs, signal);
  }

  async function unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
    idempotent: boolean,
  ): Promise<MessageShape<O>> {
    const { transport, endpointHost } = await resolve();
    const attempts = idempotent ? readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await transport.unary(method, request, callOptions(node, opts, true));
      } catch (error) {
        const e = isTalosClientError(error) ? error : TalosClientError.from(error);
        if (e.code !== "UNAVAILABLE" || attempt >= attempts || opts?.signal?.aborted) {
          throw withNode(e, node ?? endpointHost);
        }
        await backoff(attempt, opts?.signal, {
          method: `/${method.parent.typeName}/${method.name}`,
          node: node ?? endpointHost,
          attempts,
          error: e,
        });
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
    const { transport, endpointHost } = await resolve();
    // Streams are reads except the upgrade ones; a read is retried only while nothing was received yet.
    const idempotent =
      method.parent.typeName !== "machine.ImageService" &&
      method.parent.typeName !== "machine.LifecycleService";
    const attempts = idempotent ? readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      let received = false;
      try {
        for await (const message of transport.serverStream(method, request, callOptions(node, opts, false))) {
          received = true;
          yield message;
        }
        return;
      } catch (error) {
        const e = isTalosClientError(error) ? error : TalosClientError.from(error);
        if (received || e.code !== "UNAVAILABLE" || attempt >= attempts || opts?.signal?.aborted) {
          throw withNode(e, node ?? endpointHost);
        }
        await backoff(attempt, opts?.signal, {
          method: `/${method.parent.typeName}/${method.name}`,
          node: node ?? endpointHost,
          attempts,
          error: e,
        });
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
    const call =
      opts.legacyFanOut === true && targets.every((t) => t !== undefined)
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
    const def =
      defs.find((d) => d.type.toLowerCase() === wanted) ?? defs.find((d) => d.names.includes(wanted));
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
      // the same document applied twice gives the same machine config: safe to retry on UNAVAILABLE
      const res = await unary(MachineService.method.applyConfiguration, request, node, opts, true);
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
        return { node: label, flow: "legacy", actorId: m?.actorId ?? "" };
      };
      if (opts.stage === true) return legacy();
      const versionRes = await unary(MachineService.method.version, {}, node, opts, true);
      const tag = parseTag(first(versionRes.messages, label, "version").version?.tag ?? "");
      if (tag === undefined || tag[0] < 1 || (tag[0] === 1 && tag[1] < 13)) return legacy();
      const containerd = { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_SYSTEM };
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
      let actorId = "";
      if (opts.reboot !== false) {
        progress("upgrade.reboot", `rebooting ${label}`);
        const res = await unary(MachineService.method.reboot, {}, node, opts, false);
        actorId = res.messages[0]?.actorId ?? "";
      }
      return { node: label, flow: "lifecycle", actorId };
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
      const { transport } = await resolve();
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
        const res = await transport.clientStream(
          MachineService.method.etcdRecover,
          chunks(),
          callOptions(node, opts, false),
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
        const request: MessageInitShape<typeof State.method.watch.input> = {
          namespace,
          type,
          apiVersion: 1,
          options: {
            bootstrapContents: opts.bootstrapContents ?? true,
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

    async waitForHealthy(opts) {
      const started = Date.now();
      const interval = opts.intervalMs ?? 1000;
      const progress = (message: string, data: Record<string, unknown> = {}): void =>
        opts.onProgress?.({ type: "health", message, ...data });
      let last: HealthReport | undefined;
      for (;;) {
        if (opts.signal?.aborted) throw new TalosClientError("CANCELLED", "waitForHealthy was cancelled");
        last = await healthRound(opts, started);
        if (last.healthy) {
          progress("cluster is healthy", { elapsedMs: last.elapsedMs });
          return last;
        }
        progress(`waiting: ${last.problems[0] ?? "checking"}`, { problems: last.problems });
        if (Date.now() - started + interval > opts.timeoutMs) {
          throw new TalosClientError(
            "HEALTH_TIMEOUT",
            `the cluster is not healthy after ${opts.timeoutMs} ms: ${last.problems.join("; ")}`,
            { details: { missing: last.problems, report: last } },
          );
        }
        await sleep(interval, opts.signal);
      }
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
        (r) => r.transport.close(),
        () => undefined,
      );
    },
  };

  async function healthRound(opts: WaitForHealthyOptions, started: number): Promise<HealthReport> {
    // Each probe gets at most 10 s and never runs far past the overall deadline.
    const remaining = opts.timeoutMs - (Date.now() - started);
    const call = {
      timeoutMs: Math.max(500, Math.min(10_000, remaining)),
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    const all = [
      ...opts.controlPlaneNodes.map((node) => ({ node, role: "controlplane" as const })),
      ...opts.workerNodes.map((node) => ({ node, role: "worker" as const })),
    ];
    const problems: string[] = [];
    const nodes: NodeHealth[] = await Promise.all(
      all.map(async ({ node, role }) => {
        const health: NodeHealth = {
          node,
          role,
          version: undefined,
          stage: undefined,
          services: {},
          problems: [],
        };
        const [version] = await client.version({ nodes: [node], ...call });
        if (version === undefined || !version.ok) {
          health.problems.push(
            `${node}: not answering (${version?.ok === false ? version.error.rawMessage : "no reply"})`,
          );
          return health;
        }
        health.version = version.value.tag;
        const [services] = await client.serviceList({ nodes: [node], ...call });
        if (services === undefined || !services.ok) {
          health.problems.push(`${node}: service list failed`);
          return health;
        }
        for (const s of services.value) {
          health.services[s.id] = { state: s.state, healthy: s.health.healthy && !s.health.unknown };
        }
        for (const id of role === "controlplane" ? CONTROL_PLANE_SERVICES : WORKER_SERVICES) {
          const s = health.services[id];
          if (s === undefined) health.problems.push(`${node}: service ${id} is missing`);
          else if (s.state !== "Running") health.problems.push(`${node}: service ${id} is ${s.state}`);
          else if (!s.healthy && id !== "machined")
            health.problems.push(`${node}: service ${id} is not healthy`);
        }
        try {
          const res = await unary(
            State.method.get,
            { namespace: "runtime", type: "MachineStatuses.runtime.talos.dev", id: "machine" },
            node,
            call,
            true,
          );
          const status = decodeResource(res.resource, node)?.spec as
            | {
                stage?: string;
                status?: { ready?: boolean; unmetConditions?: { name?: string; reason?: string }[] };
              }
            | undefined;
          health.stage = status?.stage;
          if (status?.stage !== undefined && status.stage !== "running") {
            health.problems.push(`${node}: machine stage is ${status.stage}`);
          } else if (status?.status?.ready === false) {
            const unmet = (status.status.unmetConditions ?? [])
              .map((c) => `${c.name}: ${c.reason}`)
              .join(", ");
            health.problems.push(`${node}: machine is not ready${unmet === "" ? "" : ` (${unmet})`}`);
          }
        } catch (error) {
          const code = TalosClientError.from(error).code;
          // Older nodes may lack the resource; reachability is already checked above.
          if (code !== "NOT_FOUND" && code !== "UNIMPLEMENTED") {
            health.problems.push(`${node}: machine status unavailable (${code})`);
          }
        }
        return health;
      }),
    );
    for (const n of nodes) problems.push(...n.problems);
    let etcdMembers: string[] = [];
    const cp = opts.controlPlaneNodes[0];
    if (cp !== undefined) {
      try {
        const members = await client.etcdMemberList({ node: cp, ...call });
        etcdMembers = members.map((m) => m.hostname);
        if (members.length !== opts.controlPlaneNodes.length) {
          problems.push(
            `etcd has ${members.length} member(s), expected ${opts.controlPlaneNodes.length} (one per control plane)`,
          );
        }
        const learners = members.filter((m) => m.isLearner).map((m) => m.hostname);
        if (learners.length > 0) problems.push(`etcd members still learners: ${learners.join(", ")}`);
      } catch (error) {
        problems.push(`etcd member list from ${cp} failed: ${TalosClientError.from(error).rawMessage}`);
      }
    }
    return { healthy: problems.length === 0, nodes, etcdMembers, problems, elapsedMs: Date.now() - started };
  }

  Object.defineProperty(client, inspect.custom, { value: () => "TalosClient {}", enumerable: false });
  Object.defineProperty(client, "toJSON", { value: () => ({}), enumerable: false });
  return client;
}
