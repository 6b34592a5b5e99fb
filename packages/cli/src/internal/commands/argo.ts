import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadArgoBootstrap, type ProcessRunner } from "../adapters/argo-bootstrap.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFilesAtomic } from "../fs/atomic.js";
import { remoteHelm } from "../lab/lab.js";
import { runningLab } from "../lab/running.js";
import { argoSettings } from "../pipeline/argo-settings.js";
import { execRunner, loadProject, stateDirOf, stringOption } from "./common.js";
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
  return execRunner(inv);
}

/** `homelab argo <bootstrap|status|upgrade|add-app|password>` */
export const run: RunFn = async (inv) => {
  const { out, path, ctx, args } = inv;
  const verb = path[1];
  const loaded = await loadProject(inv, { resolveSecrets: false });
  if (verb === "add-app") {
    const argo = await loadArgoBootstrap();
    const name = args[0] as string;
    const dir = resolve(ctx.cwd, stringOption(inv, "dir") ?? join(loaded.dir, "cluster"));
    const repoURL = stringOption(inv, "repo");
    const chart = stringOption(inv, "chart");
    const gitPath = stringOption(inv, "path");
    const destinationNamespace = stringOption(inv, "namespace") ?? name;
    if (!repoURL || (chart === undefined) === (gitPath === undefined))
      throw new HomelabError(
        "USAGE",
        "add-app needs --repo and either --chart with --chart-version (Helm) or --path (Git)",
      );
    let app: unknown;
    if (chart !== undefined) {
      const version = stringOption(inv, "chart-version");
      if (!version)
        throw new HomelabError("USAGE", "a Helm application needs --chart-version (a pinned version)");
      app = argo.buildHelmApplication({ name, destinationNamespace, repoURL, chart, version });
    } else {
      app = argo.buildGitApplication({ name, destinationNamespace, repoURL, path: gitPath as string });
    }
    const appFile = join(dir, "apps", `${name}.yaml`);
    const kustomizationFile = join(dir, "app-of-apps", "kustomization.yaml");
    const { parseDocument } = await import("yaml");
    const current = await readFile(kustomizationFile, "utf8").catch(
      () => "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    );
    const doc = parseDocument(current);
    const entry = `../apps/${name}.yaml`;
    const resources =
      (doc.get("resources") as { items?: { value?: unknown }[] } | undefined)?.items?.map((i) => i.value) ??
      [];
    if (!resources.includes(entry)) doc.set("resources", [...resources, entry]);
    const files = [
      { path: appFile, content: argo.toYaml([app]) },
      { path: kustomizationFile, content: doc.toString() },
    ];
    await writeFilesAtomic(files);
    out.result({ files: files.map((f) => f.path), application: app }, () =>
      files.map((f) => `wrote ${relative(ctx.cwd, f.path)}`).join("\n"),
    );
    return 0;
  }
  const explicit = stringOption(inv, "kubeconfig") ?? ctx.env.KUBECONFIG;
  const fallback = join(stateDirOf(inv, loaded), "kubeconfig");
  const kubeconfigPath = explicit ? resolve(ctx.cwd, explicit) : fallback;
  const kubeconfig = await kubeconfigText(inv, fallback);
  if (verb === "password") {
    const argo = await loadArgoBootstrap();
    const result = await argo.readInitialAdminPassword({ kubeconfig });
    if (!result.found)
      throw new HomelabError("COMMAND_FAILED", `no initial admin password: ${result.reason}`, {
        hint: "Argo CD deletes argocd-initial-admin-secret once the password was changed",
      });
    const password = result.password.reveal();
    // the user asked for it: the one place a secret goes to stdout
    if (inv.flags.json) out.result({ username: "admin", password }, "");
    else out.print(password);
    return 0;
  }
  const argocd = argocdOf(loaded);
  const argo = await loadArgoBootstrap();
  const helm = argo.createHelm({
    run: await helmRunner(inv, loaded, kubeconfigPath),
    kubeconfigPath,
  });
  const rootApplication = argo.buildRootApplication({
    repoURL: argocd.repoURL,
    path: argocd.path,
    targetRevision: argocd.targetRevision,
  });
  const settings = await argoSettings({
    argo,
    treeDir: join(loaded.dir, argocd.path),
    rootApplication,
    ...(argocd.values ? { values: argocd.values } : {}),
  });
  if (verb === "bootstrap" || verb === "status") {
    const step = out.step(verb === "bootstrap" ? `Argo CD ${argocd.chartVersion}` : "checking Argo CD");
    const result = await argo
      .bootstrapArgoCd({
        helm,
        kubeconfig,
        chartVersion: argocd.chartVersion,
        values: settings.values,
        syncWaves: settings.syncWaves,
        rootApplication,
        onProgress: (e) => step.update(e),
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
    const common = {
      helm,
      kubeconfig,
      chartVersion: version,
      // the Application health check stays when waves need it (helm replaces the values)
      values: settings.values,
      signal: ctx.signal,
    };
    const preview = await argo.upgradeArgoCd({ ...common, dryRun: true });
    out.info(
      `Argo CD chart: ${preview.from ?? "not installed"} -> ${preview.to}${preview.changed ? "" : " (no change)"}`,
    );
    if (!preview.changed) {
      out.result(preview, () => `Argo CD chart ${preview.to}: already installed`);
      return 0;
    }
    const step = out.step(`Argo CD chart ${preview.from ?? "-"} -> ${version}`);
    const result = await argo
      .upgradeArgoCd({ ...common, onProgress: (e) => step.update(e) })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done(`Argo CD chart ${version}: upgraded, rollouts complete`);
    out.result(
      result,
      () =>
        `Argo CD chart ${result.from ?? "-"} -> ${result.to}: ${result.applied ? "upgraded" : "not applied"}\nupdate argocd.chartVersion in homelab.yaml to ${version}`,
    );
    return 0;
  }
  throw new HomelabError("USAGE", `unknown argo command '${verb}'`);
};
