import type { TalosConfigModule } from "../adapters/talos-config.js";
import type { HomelabConfig } from "../config/load.js";

/** The Image Factory schematic for the cluster's extensions and kernel args. */
export function schematicOf(tc: TalosConfigModule, config: HomelabConfig): { yaml: string; id: string } {
  const options: { officialExtensions: string[]; extraKernelArgs?: string[] } = {
    officialExtensions: [...config.cluster.extensions],
  };
  if (config.cluster.extraKernelArgs) options.extraKernelArgs = [...config.cluster.extraKernelArgs];
  return tc.createSchematic(options);
}
