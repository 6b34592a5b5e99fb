import type * as grpc from "@grpc/grpc-js";
import type { CertificateAndKey } from "../pki.js";
import type { NodeImpl } from "./store.js";

export type EmulatedNodeState =
  | "maintenance"
  | "booting"
  | "running"
  | "rebooting"
  | "upgrading"
  | "resetting"
  | "halted"
  | "down";

/** One node of the fleet. */
export interface EmulatorNodeSpec {
  name: string;
  /** The node's address as targets name it (`node` metadata), e.g. `10.0.0.2`. */
  address: string;
  /** Talos version tag; default `v1.13.9`. */
  talosVersion?: string;
}

/** A fault to inject; applies to calls handled by the matching node(s). */
export interface EmulatorFault {
  /** Node name or address; default every node. */
  node?: string;
  /** Only these methods (`Version` or `/machine.MachineService/Version`); default all. */
  methods?: string[];
  /** Added latency per call. */
  latencyMs?: number;
  /** The next N matching calls fail with UNAVAILABLE. */
  unavailable?: number;
  /** Server streams: drop the connection after this many messages. */
  dropStreamAfter?: number;
}

/** Context handed to the kubeconfig hook. */
export interface KubeconfigContext {
  node: string;
  address: string;
  clusterName: string;
  endpoint: string;
}

/** Options of {@link createTalosEmulator}. */
export interface TalosEmulatorOptions {
  nodes: EmulatorNodeSpec[];
  /** Supplies the kubeconfig the nodes stream (plug a Kubernetes emulator in here). */
  kubeconfig?: (context: KubeconfigContext) => string | Promise<string>;
  faults?: EmulatorFault[];
  /** Delay between an applied config and services running; default 0. */
  bootDelayMs?: number;
  /** Duration of a reboot/upgrade; default and minimum 60 ms. */
  rebootDelayMs?: number;
  /** Interval of followed log/dmesg lines; default 50 ms. */
  followIntervalMs?: number;
  /** Size of the etcd snapshot a node streams; default 1 MiB. */
  etcdSnapshotBytes?: number;
  /** Size of each etcd snapshot message; default 1 MiB (Talos accepts up to 32 MiB messages). */
  etcdSnapshotChunkBytes?: number;
}

/** One handled call, for assertions. */
export interface EmulatorCallLogEntry {
  time: number;
  /** The node whose endpoint received the call. */
  endpoint: string;
  /** The node that handled it (differs from `endpoint` when proxied). */
  node: string;
  method: string;
  /** gRPC status code (0 = OK). */
  code: number;
  proxied: boolean;
  /** The client certificate's roles (or `os:reader` in maintenance). */
  roles: string[];
}

/** A node of a running emulator. */
export interface EmulatedNode {
  readonly name: string;
  readonly address: string;
  /** `127.0.0.1:PORT` of this node's API. */
  readonly endpoint: string;
  /** base64 sha256 SPKI of the maintenance-mode server certificate (for pinning). */
  readonly maintenanceSpki: string;
  state(): EmulatedNodeState;
  role(): "controlplane" | "worker" | undefined;
  talosVersion(): string;
  hostname(): string;
  /** The applied machine config YAML (secret material: tests only). */
  appliedConfig(): string | undefined;
  /** Stops answering (connections refused, proxied calls UNAVAILABLE), like a node losing power. */
  stop(): void;
  /** Answers again (and finishes a boot that {@link hangOnNextBoot} held back). */
  start(): void;
  /**
   * The next reboot (a reboot, an upgrade, a config applied with a reboot) does not come back: the
   * node goes down and stays down, like a machine that hangs in firmware, until {@link start}.
   */
  hangOnNextBoot(): void;
  /** Overrides one service's state and health. */
  setService(id: string, state: string, healthy: boolean): void;
  /** The mode of the last Reboot call as this node's Talos line understood it (1.11 takes FORCE for DEFAULT). */
  lastRebootMode(): "default" | "powercycle" | "force" | undefined;
  /** Raises (message) or clears (undefined) a `Diagnostics.runtime.talos.dev` warning, as `talosctl health` reads them. */
  setDiagnostic(id: string, message: string | undefined): void;
}

/** An in-process Talos fleet. */
export interface TalosEmulator {
  readonly nodes: EmulatedNode[];
  node(nameOrAddress: string): EmulatedNode;
  readonly callLog: EmulatorCallLogEntry[];
  faults(fault: EmulatorFault | EmulatorFault[]): void;
  clearFaults(): void;
  isBootstrapped(): boolean;
  /**
   * The cluster's etcd keyspace, as the API server would write it: what a snapshot carries and a
   * recovery restores. `put` throws while etcd is not running.
   */
  readonly etcd: {
    put(key: string, value: string): void;
    get(key: string): string | undefined;
    keys(): string[];
  };
  /** Powers on one more machine, in maintenance mode (as a new machine booted from the Talos ISO). */
  addNode(spec: EmulatorNodeSpec): Promise<EmulatedNode>;
  /** Admin talosconfig for the fleet (requires a config to have been applied). */
  talosconfig(options?: { endpoints?: string[]; roles?: string[] }): Promise<string>;
  close(): Promise<void>;
}

/** A gRPC status the emulator answers with (code and message as real Talos sends them). */
export class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** What a handler gets besides the request. */
export interface HandlerContext {
  roles: string[];
  maintenance: boolean;
  signal: AbortSignal;
  node: NodeImpl;
}

/** The parts of an applied machine config the emulator acts on. */
export interface ParsedConfig {
  raw: string;
  type: "controlplane" | "worker" | "init";
  ca: CertificateAndKey;
  clusterName: string;
  endpoint: string;
  hostname: string | undefined;
  /** ExtensionServiceConfig documents: they become `ext-<name>` services. */
  extensions: { name: string; environment: string[]; configFiles: string[] }[];
}

export interface ServiceState {
  state: string;
  healthy: boolean;
  unknown: boolean;
  events: { msg: string; state: string; ts: Date }[];
}

export interface StoredEvent {
  id: string;
  actorId: string;
  typeName: string;
  value: Uint8Array;
}
