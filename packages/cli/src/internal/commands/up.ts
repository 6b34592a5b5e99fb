import { HomelabError } from "../../errors.js";
import type { ProcessRunner } from "../adapters/argo-bootstrap.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import { acquireLab, labStateDir } from "../lab/running.js";
import { realTarget } from "../pipeline/target.js";
import { runUp, type UpResult } from "../pipeline/up.js";
import { confirm, loadProject, stateDirOf, stringOption } from "./common.js";

function execRunner(inv: Invocation): ProcessRunner {
  return (command, args, options) =>
    inv.ctx.exec(command, args, {
      env: { ...inv.ctx.env, ...(options?.env ?? {}) },
      ...(options?.input !== undefined ? { input: options.input } : {}),
      ...(options?.signal ? { signal: options.signal } : {}),
      ...(options?.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
}

export function renderUpSummary(result: UpResult): string {
  const lines = [
    "",
    result.changed === 0
      ? `Nothing to do: ${result.cluster} already matches homelab.yaml.`
      : `${result.cluster}: ${result.changed} change(s) made.`,
  ];
  for (const s of result.steps) lines.push(`  ${s.changed ? "+" : "="} ${s.title}: ${s.detail}`);
  lines.push("", `State: ${result.stateDir} (secrets.yaml, talosconfig and kubeconfig are 0600)`);
  return lines.join("\n");
}

/** `homelab up [--engine tofu|direct] [--simulate] [--yes]` */
export const run: RunFn = async (inv) => {
  const { out, ctx, options } = inv;
  const loaded = await loadProject(inv, { resolveSecrets: true });
  const { config } = loaded;
  const simulate = options.simulate === true;
  const engine = stringOption(inv, "engine") ?? (simulate ? "direct" : config.engine);
  if (simulate && engine !== "direct")
    throw new HomelabError(
      "USAGE",
      "--simulate runs the direct engine (the lab has no tofu providers): drop --engine tofu",
    );

  if (!simulate) {
    if (engine === "tofu")
      throw new HomelabError("NOT_AVAILABLE", "the tofu engine is not part of this build yet", {
        hint: "use --engine direct, or --simulate to try the whole pipeline against the emulators",
      });
    const stateDir = stateDirOf(inv, loaded);
    const ok = await confirm(
      inv,
      `bring ${config.cluster.name} (${config.nodes.length} node(s)) to the state in homelab.yaml?`,
    );
    if (!ok) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const result = await runUp({
      loaded,
      stateDir,
      target: realTarget(ctx.env, execRunner(inv), config),
      out,
      signal: ctx.signal,
    });
    out.result(result, () => renderUpSummary(result));
    return 0;
  }

  const stateDir = labStateDir(loaded, inv);
  const lab = await acquireLab(stateDir, config);
  try {
    if (lab.fresh)
      out.info(
        `Simulated lab: started in-process (${config.nodes.length} Talos node(s) in maintenance mode, Cloudflare and Kubernetes emulators on 127.0.0.1). Run \`homelab lab\` to keep one running between commands.`,
      );
    else out.info(`Simulated lab: using the lab running in process ${lab.info.pid}.`);
    out.info("A real run does the same against your nodes, Cloudflare and the cluster API.");
    const result = await runUp({ loaded, stateDir, target: lab.target, out, signal: ctx.signal });
    out.result({ ...result, lab: { fresh: lab.fresh, pid: lab.info.pid } }, () => renderUpSummary(result));
    return 0;
  } finally {
    await lab.release();
  }
};
