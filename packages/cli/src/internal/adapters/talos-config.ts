import type * as TalosConfigLibrary from "@talos-homelab/talos-config";

// Loaded on first use so `--help`/`--version` stay fast; the types are the library's own.

export type {
  ConfigDocument,
  InterfaceIntent,
  JsonPatchOperation,
  LintFinding,
  NodeIntent,
  SecretsBundle,
} from "@talos-homelab/talos-config";

export type TalosConfigModule = typeof TalosConfigLibrary;

/** @talos-homelab/talos-config, imported lazily. */
export function loadTalosConfig(): Promise<TalosConfigModule> {
  return import("@talos-homelab/talos-config");
}
