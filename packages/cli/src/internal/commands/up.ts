import { join } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFilesAtomic } from "../fs/atomic.js";
import { acquireLab, labStateDir } from "../lab/running.js";
import { argoSettings } from "../pipeline/argo-settings.js";
import { acquireStateLock } from "../pipeline/lock.js";
import { type NodeTrust, parsePinnedFingerprints, parseReinstall } from "../pipeline/node-trust.js";
import { realTarget } from "../pipeline/target.js";
import { runUp, type UpResult } from "../pipeline/up.js";
import { confirm, execRunner, loadProject, stateDirOf, stringOption } from "./common.js";
import { tofuFor } from "./infra.js";
import { renderFiles } from "./render.js";

export function renderUpSummary(
  result: Pick<UpResult, "cluster" | "changed" | "steps" | "stateDir">,
): string {
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

/** The tofu engine: render, tofu init + apply, outputs to the state dir (0600), then Argo CD. */
async function upWithTofu(inv: Invocation, loaded: LoadedConfig, stateDir: string): Promise<number> {
  const { out, ctx } = inv;
  const { config } = loaded;
  if (!(await confirm(inv, `tofu apply for ${config.cluster.name} (${config.nodes.length} node(s))?`))) {
    out.info("aborted: nothing changed");
    return 1;
  }
  const { files } = await renderFiles(inv, loaded, { outDir: undefined });
  await writeFilesAtomic(files);
  const { runner, dir } = await tofuFor(inv, loaded);
  const steps: { id: string; title: string; changed: boolean; detail: string }[] = [];
  steps.push({ id: "render", title: "render", changed: true, detail: `${files.length} file(s) in ${dir}` });
  for (const [verb, fn] of [
    ["init", () => runner.init({ signal: ctx.signal })],
    ["apply", () => runner.apply({ signal: ctx.signal })],
  ] as const) {
    const step = out.step(`tofu ${verb}`);
    await (fn as () => Promise<unknown>)().catch((error: unknown) => {
      step.fail();
      throw error;
    });
    step.done(`tofu ${verb}`);
    steps.push({ id: `tofu-${verb}`, title: `tofu ${verb}`, changed: verb === "apply", detail: "done" });
  }
  const outputs = await runner.output({ signal: ctx.signal });
  const written = [];
  for (const name of ["talosconfig", "kubeconfig"] as const) {
    const o = outputs[name];
    if (o?.sensitive && typeof o.value.reveal() === "string")
      written.push({ path: join(stateDir, name), content: o.value.reveal() as string, mode: 0o600 });
  }
  await writeFilesAtomic(written);
  steps.push({
    id: "outputs",
    title: "talosconfig and kubeconfig",
    changed: written.length > 0,
    detail: written.map((w) => w.path).join(", "),
  });
  const kubeconfig = written.find((w) => w.path.endsWith("kubeconfig"))?.content;
  if (config.argocd && kubeconfig) {
    const argo = await loadArgoBootstrap();
    const step = out.step(`Argo CD ${config.argocd.chartVersion}`);
    const settings = await argoSettings({ argo, loaded, env: ctx.env });
    const result = await argo.bootstrapArgoCd({
      helm: argo.createHelm({ run: execRunner(inv), kubeconfigPath: join(stateDir, "kubeconfig") }),
      kubeconfig,
      ...settings.bootstrap,
      onProgress: (e) => step.update(e.message),
      signal: ctx.signal,
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
    changed: steps.filter((s) => s.changed).length,
    steps,
  };
  out.result(result, () => renderUpSummary(result));
  return 0;
}

function listValues(inv: Invocation, name: string): string[] {
  const v = inv.options[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

/** `--reinstall` and `--cert-fingerprint`, and who confirms a fingerprint seen for the first time. */
function nodeTrust(inv: Invocation, loaded: LoadedConfig): NodeTrust {
  const names = loaded.config.nodes.map((n) => n.name);
  return {
    reinstall: parseReinstall(listValues(inv, "reinstall"), names),
    pinned: parsePinnedFingerprints(listValues(inv, "cert-fingerprint"), names),
    ...(inv.flags.yes ? {} : { confirm: (question: string) => confirm(inv, question) }),
  };
}

/** `homelab up [--engine tofu|direct] [--simulate] [--yes]` */
export const run: RunFn = async (inv) => {
  const loaded = await loadProject(inv, {
    resolveSecrets: true,
    placeholderSecrets: inv.options.simulate === true,
  });
  const stateDir = inv.options.simulate === true ? labStateDir(loaded, inv) : stateDirOf(inv, loaded);
  const lock = await acquireStateLock(stateDir, "up");
  try {
    return await upLocked(inv, loaded, stateDir);
  } finally {
    await lock.release();
  }
};

async function upLocked(inv: Invocation, loaded: LoadedConfig, stateDir: string): Promise<number> {
  const { out, ctx, options } = inv;
  const simulate = options.simulate === true;
  const { config } = loaded;
  const trust = nodeTrust(inv, loaded);
  const engine = stringOption(inv, "engine") ?? (simulate ? "direct" : config.engine);
  if (simulate && engine !== "direct")
    throw new HomelabError(
      "USAGE",
      "--simulate runs the direct engine (the lab has no tofu providers): drop --engine tofu",
    );

  if (!simulate) {
    if (engine === "tofu") return upWithTofu(inv, loaded, stateDir);
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
      target: realTarget(ctx.env, execRunner(inv)),
      out,
      signal: ctx.signal,
      trust,
      env: ctx.env,
    });
    out.result(result, () => renderUpSummary(result));
    return 0;
  }

  const lab = await acquireLab(stateDir, config, loaded.dir);
  try {
    if (lab.fresh)
      out.info(
        `Simulated lab: started in-process (${config.nodes.length} Talos node(s) in maintenance mode, Cloudflare and Kubernetes emulators on 127.0.0.1). Run \`homelab lab\` to keep one running between commands.`,
      );
    else out.info(`Simulated lab: using the lab running in process ${lab.info.pid}.`);
    out.info("A real run does the same against your nodes, Cloudflare and the cluster API.");
    if (ctx.env.CLOUDFLARE_BASE_URL)
      out.warn("CLOUDFLARE_BASE_URL is ignored: a simulated run talks to the lab's Cloudflare emulator");
    const result = await runUp({
      loaded,
      stateDir,
      target: lab.target,
      out,
      signal: ctx.signal,
      trust,
      env: ctx.env,
    });
    out.result({ ...result, lab: { fresh: lab.fresh, pid: lab.info.pid } }, () => renderUpSummary(result));
    return 0;
  } finally {
    await lab.release();
  }
}
