import { loadTalosConfig } from "../../adapters/talos-config.js";
import { defineCommand } from "../../cli/command.js";
import { nodeVersion } from "../../plan/intent.js";
import { schematicOf } from "../../plan/schematic.js";
import { loadProject } from "../common.js";

/** `homelab image urls [--arch ARCH]` */
export const command = defineCommand({
  name: "urls",
  summary: "Metal ISO URLs and the installer image (step one of a new homelab: boot that ISO)",
  options: {
    arch: {
      type: "string",
      valueName: "ARCH",
      choices: ["amd64", "arm64"],
      description: "Only this architecture",
    },
  },
  async run(inv) {
    const { out, options } = inv;
    const { config } = await loadProject(inv, { resolveSecrets: false });
    const tc = await loadTalosConfig();
    const schematic = schematicOf(tc, config);
    const archs: ("amd64" | "arm64")[] = options.arch ? [options.arch] : ["amd64", "arm64"];
    const versions = [...new Set(config.nodes.map((n) => nodeVersion(config, n)))];
    const images = versions.map((version) => ({
      version,
      nodes: config.nodes.filter((n) => nodeVersion(config, n) === version).map((n) => n.name),
      iso: Object.fromEntries(
        archs.map((a) => [a, tc.isoUrl({ schematicId: schematic.id, version, arch: a })]),
      ),
      installer: tc.installerImage({ schematicId: schematic.id, version }),
    }));
    out.result({ schematicId: schematic.id, images }, () => {
      const lines = [
        `schematic ${schematic.id} (${config.cluster.extensions.join(", ") || "no extensions"})`,
      ];
      for (const i of images) {
        lines.push("", `Talos ${i.version} (${i.nodes.join(", ")})`);
        for (const [a, url] of Object.entries(i.iso)) lines.push(`  ISO ${a.padEnd(5)}  ${url}`);
        lines.push(`  installer  ${i.installer}`);
      }
      lines.push("", "Boot each node from the ISO; it comes up in maintenance mode, ready for `homelab up`.");
      return lines.join("\n");
    });
    return 0;
  },
});
