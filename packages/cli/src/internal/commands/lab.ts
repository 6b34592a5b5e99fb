import { join } from "node:path";
import { defineCommand } from "../cli/command.js";
import { startLab } from "../lab/lab.js";
import { labStateDir, publishLab, unpublishLab } from "../lab/running.js";
import { labTarget } from "../pipeline/target.js";
import { runUp } from "../pipeline/up.js";
import { loadProject, parallelOf } from "./common.js";
import { PARALLEL_OPTION } from "./options.js";
import { renderUpSummary } from "./up.js";

/** `homelab lab`: the simulated lab in the foreground until Ctrl-C. */
export const command = defineCommand({
  name: "lab",
  summary:
    "Run the simulated lab in the foreground (Ctrl-C stops it); writes a talosconfig, kubeconfig and Cloudflare URL",
  options: {
    "state-dir": {
      type: "string",
      valueName: "DIR",
      description: "Where to write the lab's files (default .homelab/<cluster>/lab)",
    },
    bare: {
      type: "boolean",
      description: "Do not run `up` against the lab (nodes stay in maintenance mode)",
    },
    parallel: PARALLEL_OPTION,
  },
  async run(inv) {
    const { out, ctx, options } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: true, placeholderSecrets: true });
    const { config } = loaded;
    const stateDir = labStateDir(loaded, inv);
    const lab = await startLab({ config });
    try {
      await publishLab(stateDir, lab.info);
      let upSummary: unknown;
      if (options.bare !== true) {
        const result = await runUp({
          loaded,
          stateDir,
          target: labTarget(lab.info, lab.helm),
          out,
          signal: ctx.signal,
          clock: ctx.clock,
          parallel: parallelOf(options.parallel),
        });
        upSummary = { changed: result.changed, steps: result.steps };
        out.info(renderUpSummary(result));
      }
      const files = {
        talosconfig: join(stateDir, "talosconfig"),
        kubeconfig: join(stateDir, "kubeconfig"),
        cloudflareEnv: join(stateDir, "cloudflare.env"),
        lab: join(stateDir, "lab.json"),
      };
      const cp = config.nodes.find((n) => n.role === "controlplane");
      out.result({ lab: lab.info, files, up: upSummary ?? null }, () =>
        [
          `lab ${config.cluster.name} is running (pid ${lab.info.pid}); Ctrl-C stops it`,
          "",
          "Talos nodes (target them by address; each has its own API endpoint):",
          ...lab.info.nodes.map(
            (n) => `  ${n.name.padEnd(10)} ${n.role.padEnd(12)} ${n.address.padEnd(16)} ${n.endpoint}`,
          ),
          `Cloudflare API:  ${lab.info.cloudflare.url}`,
          `Kubernetes API:  ${lab.info.kube.url}`,
          "",
          "Try, in another shell:",
          `  export TALOSCONFIG=${files.talosconfig} KUBECONFIG=${files.kubeconfig}`,
          `  set -a; . ${files.cloudflareEnv}; set +a`,
          `  homelab talos version --nodes ${cp?.address ?? ""}`,
          `  homelab up --simulate${inv.flags.config ? ` --config ${inv.flags.config}` : ""}   # a second run changes nothing`,
          `  homelab tunnel audit${inv.flags.config ? ` --config ${inv.flags.config}` : ""}`,
        ].join("\n"),
      );
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      out.info("stopping the lab");
      return 0;
    } finally {
      await unpublishLab(stateDir);
      await lab.close();
    }
  },
});
