import { join } from "node:path";
import { defineCommand } from "../../cli/command.js";
import { type FileToWrite, writeFilesAtomic } from "../../fs/atomic.js";
import { loadProject, stateDirOf } from "../common.js";
import { INFRA_DIR_OPTION } from "../options.js";
import { tofuFor } from "./tofu.js";

/** `homelab infra output`: plain outputs printed, talosconfig/kubeconfig written 0600, other secrets hidden. */
export const command = defineCommand({
  name: "output",
  summary: "tofu outputs (secrets written 0600, never printed)",
  options: { dir: INFRA_DIR_OPTION },
  async run(inv) {
    const { out, ctx } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const { runner } = await tofuFor(inv, loaded, inv.options.dir);
    const outputs = await runner.output({ signal: ctx.signal });
    const stateDir = stateDirOf(inv, loaded);
    const shown: Record<string, unknown> = {};
    const files: FileToWrite[] = [];
    for (const [name, o] of Object.entries(outputs)) {
      if (!o.sensitive) shown[name] = o.value;
      else if ((name === "talosconfig" || name === "kubeconfig") && typeof o.value.reveal() === "string") {
        files.push({ path: join(stateDir, name), content: o.value.reveal() as string, mode: 0o600 });
      } else shown[name] = "(sensitive)";
    }
    await writeFilesAtomic(files);
    const written = files.map((f) => f.path);
    out.result({ outputs: shown, written }, () =>
      [
        ...Object.entries(shown).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
        ...written.map((w) => `wrote ${w} (0600)`),
      ].join("\n"),
    );
    return 0;
  },
});
