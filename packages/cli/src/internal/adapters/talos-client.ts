import type * as TalosClientLibrary from "@talos-homelab/talos-client";
import type * as TalosTestingLibrary from "@talos-homelab/talos-client/testing";

// Loaded on first use so `--help`/`--version` never pay for grpc-js; the types are the library's own.

export type {
  NodeResult,
  ProgressEvent,
  RetryEvent,
  TalosClient,
  TalosClientOptions,
} from "@talos-homelab/talos-client";
export type { EmulatedNode, TalosEmulator } from "@talos-homelab/talos-client/testing";

export type TalosClientModule = typeof TalosClientLibrary;
export type TalosTestingModule = typeof TalosTestingLibrary;

/** @talos-homelab/talos-client, imported lazily. */
export function loadTalosClient(): Promise<TalosClientModule> {
  return import("@talos-homelab/talos-client");
}

/** @talos-homelab/talos-client/testing (the emulator), imported lazily. */
export function loadTalosTesting(): Promise<TalosTestingModule> {
  return import("@talos-homelab/talos-client/testing");
}
