import { join } from "node:path";
import type { RunFn } from "../cli/spec.js";
import { startLab } from "../lab/lab.js";
import { labStateDir, publishLab, unpublishLab } from "../lab/running.js";
import { labTarget } from "../pipeline/target.js";
import { runUp } from "../pipeline/up.js";
import { loadProject } from "./common.js";
import { renderUpSummary } from "./up.js";

/** `homelab lab`: the simulated lab in the foreground until Ctrl-C. */
export const run: RunFn = async (inv) => {
  const { out, ctx, options } = inv;
  const loaded = await loadProject(inv, { resolveSecrets: true, placeholderSecrets: true });
  const { config } = loaded;
  const stateDir = labStateDir(loaded, inv);
  const lab = await startLab({ config, gitCheckout: loaded.dir });
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
};
