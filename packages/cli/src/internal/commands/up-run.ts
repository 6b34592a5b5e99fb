import { join } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { checkChartVersion } from "../config/preflight.js";
import { writeFilesAtomic } from "../fs/atomic.js";
import { ensureSchematicRegistered, imageFactoryOf } from "../image-factory/register.js";
import { acquireLab, labStateDir } from "../lab/running.js";
import { gitopsCheckout } from "../pipeline/argo-settings.js";
import { acquireStateLock } from "../pipeline/lock.js";
import { type NodeTrust, parsePinnedFingerprints, parseReinstall } from "../pipeline/node-trust.js";
import type { PipelinePlan } from "../pipeline/run.js";
import { applyArgoCd } from "../pipeline/steps/argocd.js";
import { realTarget, type Target } from "../pipeline/target.js";
import { runUp, type UpResult } from "../pipeline/up.js";
import { schematicOf } from "../plan/schematic.js";
import { cloudflareApiToken } from "../secrets/cloudflare-token.js";
import { stateSecretsOf, storeStateFiles, withStatePath } from "../secrets/state-secrets.js";
import {
  confirm,
  execRunner,
  freshLabTrust,
  loadProject,
  nodeTimeoutOf,
  parallelOf,
  stateDirOf,
} from "./common.js";
import { renderAndInit } from "./infra/tofu.js";
import type { UP_OPTIONS } from "./options.js";

export function renderUpSummary(
  result: Pick<UpResult, "cluster" | "changed" | "steps" | "stateDir"> & { encrypted?: string | undefined },
): string {
  const lines = [
    "",
    result.changed === 0
      ? `Nothing to do: ${result.cluster} already matches homelab.yaml.`
      : `${result.cluster}: ${result.changed} change(s) made.`,
  ];
  for (const s of result.steps) lines.push(`  ${s.changed ? "+" : "="} ${s.title}: ${s.detail}`);
  lines.push(
    "",
    result.encrypted
      ? `State: ${result.stateDir}; secrets.yaml, talosconfig and kubeconfig are in ${result.encrypted} (SOPS)`
      : `State: ${result.stateDir} (secrets.yaml, talosconfig and kubeconfig are 0600)`,
  );
  return lines.join("\n");
}

/** Shows the plan on stderr, then asks (--yes skips; no TTY without --yes: exit 2, nothing changed). */
async function showAndConfirm(inv: Invocation, plan: PipelinePlan, question: string): Promise<boolean> {
  const { renderPlan } = await import("../pipeline/run.js");
  inv.out.info(`Plan:\n${renderPlan(plan)}\n`);
  return confirm(inv, question);
}

/** The tofu engine: render, tofu plan shown, asked, tofu apply, outputs to the state dir (0600), then Argo CD. */
async function upWithTofu(
  inv: Invocation<typeof UP_OPTIONS>,
  loaded: LoadedConfig,
  stateDir: string,
): Promise<number> {
  const { out, ctx } = inv;
  const { config } = loaded;
  const { runner, dir, files } = await renderAndInit(inv, loaded);
  // the nodes pull the installer from the Image Factory, which serves only schematics it stored
  if (inv.options.offline !== true)
    await ensureSchematicRegistered(
      imageFactoryOf(inv),
      schematicOf(await loadTalosConfig(), config),
      ctx.signal,
    );
  const steps: { id: string; title: string; changed: boolean; detail: string }[] = [];
  steps.push({ id: "render", title: "render", changed: true, detail: `${files.length} file(s) in ${dir}` });
  const plan = await runner.plan({ signal: ctx.signal });
  if (plan.hasChanges) {
    out.info(`Plan:\n${plan.changes.map((c) => `  ${c.action.padEnd(8)} ${c.address}`).join("\n")}\n`);
    if (!(await confirm(inv, `apply these ${plan.changes.length} change(s) with tofu?`))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const step = out.step("tofu apply");
    await runner
      .apply({ onProgress: (e) => e.message && step.update(e.message), signal: ctx.signal })
      .catch((error: unknown) => {
        if (ctx.signal.aborted) step.interrupted();
        else step.fail();
        throw error;
      });
    step.done("tofu apply");
  }
  steps.push({
    id: "tofu-apply",
    title: "tofu apply",
    changed: plan.hasChanges,
    detail: plan.hasChanges ? `${plan.changes.length} change(s)` : "no changes",
  });
  const outputs = await runner.output({ signal: ctx.signal });
  const written = [];
  for (const name of ["talosconfig", "kubeconfig"] as const) {
    const o = outputs[name];
    if (o?.sensitive && typeof o.value.reveal() === "string")
      written.push({ path: join(stateDir, name), content: o.value.reveal() as string, mode: 0o600 });
  }
  const state = stateSecretsOf(loaded, stateDir);
  const where = loaded.secrets ? await storeStateFiles(state, written) : written.map((w) => w.path);
  if (!loaded.secrets) await writeFilesAtomic(written);
  steps.push({
    id: "outputs",
    title: "talosconfig and kubeconfig",
    changed: written.length > 0,
    detail: where.join(", "),
  });
  const kubeconfig = written.find((w) => w.path.endsWith("kubeconfig"))?.content;
  if (config.argocd && kubeconfig) {
    const { loadArgoBootstrap } = await import("../adapters/argo-bootstrap.js");
    const step = out.step(`Argo CD ${config.argocd.chartVersion}`);
    const argo = await loadArgoBootstrap();
    const result = await withStatePath(state, "kubeconfig", join(stateDir, "kubeconfig"), (kubeconfigPath) =>
      applyArgoCd(
        {
          argo,
          loaded,
          helm: execRunner(inv),
          kubeconfigPath,
          kubeconfig,
          signal: ctx.signal,
          lab: false,
          env: ctx.env,
        },
        step,
      ),
    ).catch((error: unknown) => {
      if (ctx.signal.aborted) step.interrupted();
      else step.fail();
      throw error;
    });
    step.done(`Argo CD ${config.argocd.chartVersion}: ${result.unchanged ? "up to date" : "installed"}`);
    steps.push({
      id: "argocd",
      title: "Argo CD",
      changed: result.unchanged !== true,
      detail: result.unchanged ? "up to date" : "installed",
    });
  }
  const result = {
    cluster: config.cluster.name,
    engine: "tofu",
    stateDir,
    encrypted: loaded.secrets?.path,
    changed: steps.filter((s) => s.changed).length,
    steps,
  };
  out.result(result, () => renderUpSummary(result));
  return 0;
}

/** `--reinstall` and `--cert-fingerprint`, and who confirms a fingerprint seen for the first time. */
function nodeTrust(inv: Invocation<typeof UP_OPTIONS>, loaded: LoadedConfig): NodeTrust {
  const names = loaded.config.nodes.map((n) => n.name);
  return {
    reinstall: parseReinstall(inv.options.reinstall ?? [], names),
    pinned: parsePinnedFingerprints(inv.options["cert-fingerprint"] ?? [], names),
    ...(inv.flags.yes ? {} : { confirm: (question: string) => confirm(inv, question) }),
  };
}

/** `homelab up`: the lock, then the plan, the question and the apply. */
export async function runUpCommand(inv: Invocation<typeof UP_OPTIONS>): Promise<number> {
  const loaded = await loadProject(inv, {
    resolveSecrets: true,
    placeholderSecrets: inv.options.simulate === true,
    checkReferences: true,
  });
  if (inv.options.simulate !== true) {
    // nothing can be asked: say so before reading anything (`homelab plan` shows the changes)
    if (!inv.flags.yes && (!inv.ctx.isTTY.stdin || !inv.ctx.prompt || inv.flags.json))
      throw new HomelabError("NEEDS_CONFIRMATION", "up changes your homelab and stdin is not a terminal", {
        hint: "run `homelab plan` to see the changes, then `homelab up --yes`",
      });
  }
  const stateDir = inv.options.simulate === true ? labStateDir(loaded, inv) : stateDirOf(inv, loaded);
  const lock = await acquireStateLock(stateDir, "up", inv.ctx.clock);
  try {
    return await upLocked(inv, loaded, stateDir);
  } finally {
    await lock.release();
  }
}

/** Checks the chart version with `helm`, then `up` with the given engine (tofu: real hardware only). */
async function upLocked(
  inv: Invocation<typeof UP_OPTIONS>,
  loaded: LoadedConfig,
  stateDir: string,
): Promise<number> {
  const { out, ctx, options } = inv;
  const simulate = options.simulate === true;
  const { config } = loaded;
  const trust = nodeTrust(inv, loaded);
  const engine = options.engine ?? (simulate ? "direct" : config.engine);
  const nodeTimeoutMs = nodeTimeoutOf(options["node-timeout"]);
  const tuning = {
    parallel: parallelOf(options.parallel),
    ...(nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs }),
  };
  if (simulate && engine !== "direct")
    throw new HomelabError(
      "USAGE",
      "--simulate runs the direct engine (the lab has no tofu providers): drop --engine tofu",
    );

  if (!simulate) {
    await checkChartVersion({ loaded, helm: execRunner(inv), warn: (m) => out.warn(m), signal: ctx.signal });
    if (engine === "tofu") return upWithTofu(inv, loaded, stateDir);
    const target = realTarget(ctx.env, execRunner(inv), await cloudflareApiToken(loaded, ctx.env));
    if (options.offline === true) delete target.imageFactory;
    return upDirect(inv, loaded, stateDir, {
      ...tuning,
      target,
      trust,
      confirm: (plan) =>
        showAndConfirm(
          inv,
          plan,
          `apply these changes to ${config.cluster.name} (${config.nodes.length} node(s))?`,
        ),
    });
  }

  const lab = await acquireLab(stateDir, config, gitopsCheckout(loaded));
  try {
    if (lab.fresh)
      out.info(
        `Simulated lab: started in-process (${config.nodes.length} Talos node(s) in maintenance mode, Cloudflare and Kubernetes emulators on 127.0.0.1). Run \`homelab lab\` to keep one running between commands.`,
      );
    else out.info(`Simulated lab: using the lab running in process ${lab.info.pid}.`);
    out.info("A real run does the same against your nodes, Cloudflare and the cluster API (and asks first).");
    if (ctx.env.CLOUDFLARE_BASE_URL)
      out.warn("CLOUDFLARE_BASE_URL is ignored: a simulated run talks to the lab's Cloudflare emulator");
    await checkChartVersion({ loaded, helm: lab.target.helm, warn: (m) => out.warn(m), signal: ctx.signal });
    return await upDirect(inv, loaded, stateDir, {
      ...tuning,
      target: lab.target,
      // a fresh lab is new hardware: what the state recorded about the last lab's nodes does not
      // apply, and the lab vouches for its nodes' certificates
      trust: lab.fresh ? freshLabTrust(lab.info, trust) : trust,
      // the lab is in-process: asked on a terminal only (a script's `up --simulate` just runs)
      ...(ctx.isTTY.stdin && !inv.flags.yes && !inv.flags.json
        ? {
            confirm: (plan: PipelinePlan) =>
              showAndConfirm(inv, plan, "apply these changes to the simulated lab?"),
          }
        : {}),
      result: { lab: { fresh: lab.fresh, pid: lab.info.pid } },
    });
  } finally {
    await lab.release();
  }
}

/** The direct engine against `target`: plan, the question, apply, then the summary. */
async function upDirect(
  inv: Invocation<typeof UP_OPTIONS>,
  loaded: LoadedConfig,
  stateDir: string,
  how: {
    target: Target;
    trust: NodeTrust;
    parallel: number;
    nodeTimeoutMs?: number;
    confirm?: (plan: PipelinePlan) => Promise<boolean>;
    /** Added to the `--json` result. */
    result?: Record<string, unknown>;
  },
): Promise<number> {
  const { out, ctx } = inv;
  const result = await runUp({
    loaded,
    stateDir,
    target: how.target,
    out,
    signal: ctx.signal,
    clock: ctx.clock,
    parallel: how.parallel,
    env: ctx.env,
    trust: how.trust,
    ...(how.nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs: how.nodeTimeoutMs }),
    // what was done is recorded, so that `--json` can list it when a later step fails
    onStep: (step) => out.stepDone(step),
    ...(how.confirm ? { confirm: how.confirm } : {}),
  });
  if (result.declined) {
    out.info("aborted: nothing changed");
    return 1;
  }
  out.result({ ...result, ...how.result }, () =>
    renderUpSummary({ ...result, encrypted: loaded.secrets?.path }),
  );
  return 0;
}
