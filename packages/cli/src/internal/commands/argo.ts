import { join, relative, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadArgoBootstrap, type ProcessRunner } from "../adapters/argo-bootstrap.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFilesAtomic } from "../fs/atomic.js";
import { remoteHelm } from "../lab/lab.js";
import { runningLab } from "../lab/running.js";
import { loadProject, stateDirOf, stringOption } from "./common.js";
import { kubeconfigText } from "./connect.js";

function argocdOf(loaded: LoadedConfig) {
  const argocd = loaded.config.argocd;
  if (!argocd) throw new HomelabError("USAGE", "homelab.yaml has no 'argocd' section");
  return argocd;
}

/** helm: the running simulated lab's when KUBECONFIG points at it, else the real binary through ctx.exec. */
async function helmRunner(
  inv: Invocation,
  loaded: LoadedConfig,
  kubeconfigPath: string | undefined,
): Promise<ProcessRunner> {
  const labDir = join(loaded.dir, ".homelab", loaded.config.cluster.name, "lab");
  const lab = await runningLab(labDir, loaded.config);
  if (lab && kubeconfigPath?.startsWith(labDir)) return remoteHelm(lab.helm.url);
  return (command, args, options) =>
    inv.ctx.exec(command, args, {
      env: { ...inv.ctx.env, ...(options?.env ?? {}) },
      ...(options?.input !== undefined ? { input: options.input } : {}),
      ...(options?.signal ? { signal: options.signal } : {}),
    });
}

/** `homelab argo <bootstrap|status|upgrade|add-app|password>` */
export const run: RunFn = async (inv) => {
  const { out, path, ctx, args } = inv;
  const verb = path[1];
  const loaded = await loadProject(inv, { resolveSecrets: false });
  if (verb === "add-app") {
    const argo = await loadArgoBootstrap("homelab argo add-app", ["addApp"]);
    const name = args[0] as string;
    const dir = resolve(ctx.cwd, stringOption(inv, "dir") ?? join(loaded.dir, "cluster"));
    const request: Record<string, unknown> = { name, namespace: stringOption(inv, "namespace") ?? name };
    for (const [flag, key] of [
      ["repo", "repoURL"],
      ["chart", "chart"],
      ["chart-version", "chartVersion"],
      ["path", "path"],
    ] as const) {
      const v = stringOption(inv, flag);
      if (v) request[key] = v;
    }
    const { files } = argo.addApp(request);
    const written = files.map((f) => ({ path: resolve(dir, f.path), content: f.content }));
    await writeFilesAtomic(written);
    out.result({ files: written.map((f) => f.path) }, () =>
      written.map((f) => `wrote ${relative(ctx.cwd, f.path)}`).join("\n"),
    );
    return 0;
  }
  const explicit = stringOption(inv, "kubeconfig") ?? ctx.env.KUBECONFIG;
  const fallback = join(stateDirOf(inv, loaded), "kubeconfig");
  const kubeconfigPath = explicit ? resolve(ctx.cwd, explicit) : fallback;
  const kubeconfig = await kubeconfigText(inv, fallback);
  if (verb === "password") {
    const argo = await loadArgoBootstrap("homelab argo password", ["readInitialAdminPassword"]);
    const result = (await argo.readInitialAdminPassword({ kubeconfig })) as unknown;
    const reveal = (v: unknown): string =>
      typeof v === "string"
        ? v
        : typeof (v as { reveal?: unknown })?.reveal === "function"
          ? (v as { reveal(): string }).reveal()
          : reveal((v as { password?: unknown })?.password);
    const password = reveal(result);
    // the user asked for it: the one place a secret goes to stdout
    if (inv.flags.json) out.result({ username: "admin", password }, "");
    else out.print(password);
    return 0;
  }
  const argocd = argocdOf(loaded);
  const argo = await loadArgoBootstrap(`homelab argo ${verb}`, [
    "createHelm",
    "bootstrapArgoCd",
    "buildRootApplication",
  ]);
  const helm = argo.createHelm({ run: await helmRunner(inv, loaded, kubeconfigPath) });
  const rootApplication = argo.buildRootApplication({
    repoURL: argocd.repoURL,
    path: argocd.path,
    targetRevision: argocd.targetRevision,
  });
  if (verb === "bootstrap" || verb === "status") {
    const step = out.step(verb === "bootstrap" ? `Argo CD ${argocd.chartVersion}` : "checking Argo CD");
    const result = await argo
      .bootstrapArgoCd({
        helm,
        kubeconfig,
        chartVersion: argocd.chartVersion,
        ...(argocd.values ? { values: argocd.values } : {}),
        rootApplication,
        onProgress: (e) => step.update(e.message),
        signal: ctx.signal,
      })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done(
      result.unchanged
        ? "Argo CD up to date; root app Synced + Healthy"
        : "Argo CD installed; root app Synced + Healthy",
    );
    out.result(
      result,
      () => `Argo CD ${argocd.chartVersion}: ${result.unchanged ? "up to date" : "installed"}`,
    );
    return 0;
  }
  if (verb === "upgrade") {
    const version = stringOption(inv, "version");
    if (!version) throw new HomelabError("USAGE", "argo upgrade needs --version X (the chart version)");
    const step = out.step(`Argo CD chart ${argocd.chartVersion} -> ${version}`);
    const result = await argo
      .upgradeArgoCd({
        helm,
        kubeconfig,
        chartVersion: version,
        ...(argocd.values ? { values: argocd.values } : {}),
        onProgress: (e: { message: string }) => step.update(e.message),
        signal: ctx.signal,
      })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done(`Argo CD chart ${version}: rolled out`);
    out.result(
      result,
      () =>
        `${JSON.stringify((result as { change?: unknown }).change ?? result, null, 2)}\nupdate argocd.chartVersion in homelab.yaml to ${version}`,
    );
    return 0;
  }
  throw new HomelabError("USAGE", `unknown argo command '${verb}'`);
};
