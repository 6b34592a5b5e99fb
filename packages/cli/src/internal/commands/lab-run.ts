import { join } from "node:path";
import type { Invocation } from "../cli/command.js";
import { labStateDir, publishLab, startFreshLab, unpublishLab } from "../lab/running.js";
import { gitopsCheckout } from "../pipeline/argo-settings.js";
import { labTarget } from "../pipeline/target.js";
import { runUp } from "../pipeline/up.js";
import { stateSecretsOf } from "../secrets/state-secrets.js";
import { loadProject, parallelOf } from "./common.js";
import type { LAB_OPTIONS } from "./options.js";
import { renderUpSummary } from "./up-run.js";

/** `homelab lab`: the simulated lab in the foreground until Ctrl-C. */
export async function runLabCommand(inv: Invocation<typeof LAB_OPTIONS>): Promise<number> {
  const { out, ctx, options } = inv;
  const loaded = await loadProject(inv, { resolveSecrets: true, placeholderSecrets: true });
  const { config } = loaded;
  const stateDir = labStateDir(loaded, inv);
  const lab = await startFreshLab(stateDir, config, gitopsCheckout(loaded));
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
        env: ctx.env,
      });
      upSummary = { changed: result.changed, steps: result.steps };
      out.info(renderUpSummary(result));
    }
    // with `secrets:` the credentials are values in the SOPS file, which every command reads
    const state = stateSecretsOf(loaded, stateDir, { simulated: true });
    const files = {
      talosconfig: state.describe("talosconfig"),
      kubeconfig: state.describe("kubeconfig"),
      cloudflareEnv: join(stateDir, "cloudflare.env"),
      lab: join(stateDir, "lab.json"),
    };
    const cp = config.nodes.find((n) => n.role === "controlplane");
    const cfg = inv.flags.config ? ` --config ${inv.flags.config}` : "";
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
        "Try, in another shell (commands find this lab's state from homelab.yaml):",
        `  homelab status${cfg}`,
        `  homelab talos version --nodes ${cp?.address ?? ""}${cfg}`,
        `  homelab up --simulate${cfg}   # a second run changes nothing`,
        `  homelab down${cfg}            # removes what up created`,
        `  set -a; . ${files.cloudflareEnv}; set +a; homelab tunnel audit${cfg}`,
        state.encrypted
          ? `  (talosconfig and kubeconfig are kept encrypted in ${loaded.secrets?.path})`
          : `  export KUBECONFIG=${files.kubeconfig}   # for kubectl`,
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
}
