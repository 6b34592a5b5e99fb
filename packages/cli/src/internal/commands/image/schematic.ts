import { loadTalosConfig } from "../../adapters/talos-config.js";
import { defineCommand } from "../../cli/command.js";
import { schematicOf } from "../../plan/schematic.js";
import { loadProject } from "../common.js";

/** `homelab image schematic` */
export const command = defineCommand({
  name: "schematic",
  summary: "Print the schematic YAML and its id",
  async run(inv) {
    const { config } = await loadProject(inv, { resolveSecrets: false });
    const schematic = schematicOf(await loadTalosConfig(), config);
    inv.out.result(
      { id: schematic.id, yaml: schematic.yaml, extensions: config.cluster.extensions },
      () => `# schematic id: ${schematic.id}\n${schematic.yaml}`,
    );
    return 0;
  },
});
