import { loadLibrary } from "./load-module.js";

// The talos-client surface the CLI uses, as fixed in CONTRACTS.md.

export interface TalosClientErrorLike extends Error {
  code: string;
}

export type NodeResult<T> =
  | { node: string; ok: true; value: T }
  | { node: string; ok: false; error: TalosClientErrorLike };

export interface ProgressEvent {
  type: string;
  message: string;
  [key: string]: unknown;
}

export interface TalosClient {
  version(options?: { nodes?: string[] }): Promise<NodeResult<{ tag: string; sha: string; arch: string }>[]>;
  applyConfiguration(options: {
    node?: string;
    data: string | Uint8Array;
    mode?: "auto" | "no-reboot" | "reboot" | "staged" | "try";
    dryRun?: boolean;
  }): Promise<{ node: string; mode?: string; modeDetails: string; warnings: string[] }>;
  bootstrap(options?: { node?: string }): Promise<void>;
  kubeconfig(options?: { node?: string }): Promise<string>;
  etcdMemberList(options?: { node?: string }): Promise<unknown[]>;
  serviceList(options?: { nodes?: string[] }): Promise<NodeResult<unknown[]>[]>;
  logs(options: {
    id: string;
    node?: string;
    tailLines?: number;
    follow?: boolean;
    signal?: AbortSignal;
  }): AsyncIterable<string>;
  dmesg(options?: { node?: string; follow?: boolean; signal?: AbortSignal }): AsyncIterable<string>;
  reboot(options?: { node?: string }): Promise<{ node: string; actorId: string }>;
  reset(options?: {
    node?: string;
    graceful?: boolean;
    reboot?: boolean;
  }): Promise<{ node: string; actorId: string }>;
  upgrade(options: { node?: string; image: string; stage?: boolean }): Promise<unknown>;
  etcdSnapshot(options: {
    node?: string;
    destination: NodeJS.WritableStream;
  }): Promise<{ node: string; bytes: number }>;
  get(options: { type: string; id: string; namespace?: string; node?: string }): Promise<unknown>;
  list(options: { type: string; namespace?: string; node?: string }): Promise<unknown[]>;
  waitForHealthy(options: {
    controlPlaneNodes: string[];
    workerNodes: string[];
    timeoutMs: number;
    signal?: AbortSignal;
    onProgress?: (event: ProgressEvent) => void;
  }): Promise<unknown>;
  close(): void;
}

export interface CreateTalosClientOptions {
  talosconfig?: string | object;
  context?: string;
  endpoints?: string[];
  nodes?: string[];
  insecure?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

export interface TalosClientModule {
  createTalosClient(options: CreateTalosClientOptions): TalosClient;
  loadTalosconfig(source: string | object): Promise<unknown>;
}

export interface TalosEmulatorNode {
  name: string;
  address: string;
  endpoint: string;
  state(): string;
  appliedConfig?(): string | undefined;
}

export interface TalosEmulator {
  nodes: TalosEmulatorNode[];
  node(nameOrAddress: string): TalosEmulatorNode;
  callLog: unknown[];
  close(): Promise<void>;
}

export interface TalosTestingModule {
  createTalosEmulator(options: {
    nodes: { name: string; address: string; talosVersion?: string }[];
    kubeconfig?: () => string | Promise<string>;
  }): Promise<TalosEmulator>;
}

/** talos-client, or a NOT_AVAILABLE error naming `feature`. */
export function loadTalosClient(feature: string): Promise<TalosClientModule> {
  return loadLibrary<TalosClientModule>("@talos-homelab/talos-client", ["createTalosClient"], feature);
}

/** talos-client/testing (the emulator), or NOT_AVAILABLE. */
export function loadTalosTesting(feature: string): Promise<TalosTestingModule> {
  return loadLibrary<TalosTestingModule>(
    "@talos-homelab/talos-client/testing",
    ["createTalosEmulator"],
    feature,
  );
}
