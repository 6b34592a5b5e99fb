import type { TalosConfigModule } from "../adapters/talos-config.js";
import type { HomelabConfig } from "../config/load.js";

/** homelab.auto.tfvars.json via the infra helper's renderTfvars, or undefined while it is not in this build. */
export async function renderTfvarsFile(
  _config: HomelabConfig,
  _schematicId: string,
  _tc: TalosConfigModule,
): Promise<{ name: string; content: string } | undefined> {
  return undefined;
}
