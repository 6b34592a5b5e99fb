import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SecretsBundle, TalosConfigModule } from "../adapters/talos-config.js";
import type { HomelabConfig } from "../config/load.js";
import type { FileToWrite } from "../fs/atomic.js";
import { nodeMachineConfig } from "../plan/intent.js";

/** Reads `secrets.yaml` from the state dir, or generates one (returned as a file to write, 0600). */
export async function loadOrCreateSecrets(
  tc: TalosConfigModule,
  stateDir: string,
): Promise<{ bundle: SecretsBundle; file?: FileToWrite; created: boolean }> {
  const path = join(stateDir, "secrets.yaml");
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch {
    text = undefined;
  }
  if (text !== undefined) return { bundle: tc.secretsFromYaml(text), created: false };
  const bundle = tc.generateSecrets();
  return { bundle, file: { path, content: tc.secretsToYaml(bundle), mode: 0o600 }, created: true };
}

/** The complete machine config of one node (generateConfig + its patches). */
export function fullConfigOf(
  tc: TalosConfigModule,
  config: HomelabConfig,
  node: HomelabConfig["nodes"][number],
  bundle: SecretsBundle,
  extras: { schematicId: string },
): string {
  return nodeMachineConfig(tc, config, node, bundle, extras).render();
}

/** The talosconfig for the cluster (endpoints: control-plane addresses). */
export function talosconfigOf(
  tc: TalosConfigModule,
  config: HomelabConfig,
  bundle: SecretsBundle,
  endpoints?: string[],
): string {
  const cps = config.nodes.filter((n) => n.role === "controlplane").map((n) => n.address);
  return tc.generateTalosconfig({
    secrets: bundle,
    contextName: config.cluster.name,
    endpoints: endpoints ?? cps,
    nodes: [cps[0] as string],
  });
}

/** `render --full`: every node's complete config and the talosconfig, all 0600. */
export function renderFullConfigs(
  tc: TalosConfigModule,
  config: HomelabConfig,
  bundle: SecretsBundle,
  options: { talosDir: string; schematicId: string },
): FileToWrite[] {
  const files: FileToWrite[] = config.nodes.map((node) => ({
    path: join(options.talosDir, `${node.name}.yaml`),
    content: fullConfigOf(tc, config, node, bundle, { schematicId: options.schematicId }),
    mode: 0o600,
  }));
  files.push({
    path: join(options.talosDir, "..", "talosconfig"),
    content: talosconfigOf(tc, config, bundle),
    mode: 0o600,
  });
  return files;
}
