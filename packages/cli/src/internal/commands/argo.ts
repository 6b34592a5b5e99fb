import { readFile } from "node:fs/promises";
import { delimiter, join, relative, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import {
  type ArgoBootstrapModule,
  loadArgoBootstrap,
  type ProcessRunner,
} from "../adapters/argo-bootstrap.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFileAtomic, writeFilesAtomic } from "../fs/atomic.js";
import { remoteHelm } from "../lab/lab.js";
import { runningLab } from "../lab/running.js";
import { argoSettings } from "../pipeline/argo-settings.js";
import { execRunner, loadProject, stateDirOf, stringOption } from "./common.js";

function argocdOf(loaded: LoadedConfig) {
  const argocd = loaded.config.argocd;
  if (!argocd) throw new HomelabError("USAGE", "homelab.yaml has no 'argocd' section");
  return argocd;
}

/** helm: the running simulated lab's when the kubeconfig is the lab's, else the real binary through ctx.exec. */
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

type KubeconfigDoc = Record<string, unknown> & { "current-context"?: string };

/**
 * The kubeconfig in use: --kubeconfig, else $KUBECONFIG, else the state directory's. A $KUBECONFIG list
 * (`a:b`) is merged the way kubectl merges it (client-go clientcmd loading rules): missing files are
 * skipped, the first file to name a cluster, user or context wins, and so does the first current-context.
 */
async function kubeconfigFor(
  inv: Invocation,
  loaded: LoadedConfig,
): Promise<{ text: string; path: string | undefined }> {
  const option = stringOption(inv, "kubeconfig");
  const env = inv.ctx.env.KUBECONFIG;
  const fallback = join(stateDirOf(inv, loaded), "kubeconfig");
  const paths = option ? [option] : env ? env.split(delimiter).filter((p) => p !== "") : [fallback];
  const absolute = paths.map((p) => resolve(inv.ctx.cwd, p));
  const texts: string[] = [];
  for (const path of absolute) {
    try {
      texts.push(await readFile(path, "utf8"));
    } catch (cause) {
      if (absolute.length === 1)
        throw new HomelabError("MISSING_CREDENTIALS", `cannot read kubeconfig ${path}`, {
          cause,
          hint: "pass --kubeconfig, set $KUBECONFIG, or run `homelab up` (it writes one to the state directory)",
        });
    }
  }
  if (texts.length === 0)
    throw new HomelabError("MISSING_CREDENTIALS", `none of the $KUBECONFIG files exists (${env ?? ""})`);
  // one file: helm gets its path; a list: helm reads $KUBECONFIG itself (same loading rules)
  if (absolute.length === 1) return { text: texts[0] as string, path: absolute[0] };
  const { parse, stringify } = await import("yaml");
  const merged: KubeconfigDoc = { apiVersion: "v1", kind: "Config" };
  for (const text of texts) {
    const doc = (parse(text) ?? {}) as KubeconfigDoc;
    for (const key of ["clusters", "users", "contexts"]) {
      const have = (merged[key] as { name?: string }[] | undefined) ?? [];
      const names = new Set(have.map((e) => e.name));
      for (const entry of (doc[key] as { name?: string }[] | undefined) ?? [])
        if (!names.has(entry.name)) {
          have.push(entry);
          names.add(entry.name);
        }
      merged[key] = have;
    }
    if (!merged["current-context"] && doc["current-context"])
      merged["current-context"] = doc["current-context"];
  }
  return { text: stringify(merged), path: undefined };
}

/** `helm search repo --versions` rows strictly after `from` up to `to` (either direction), newest first. */
function versionRows(
  versions: { version: string; appVersion: string }[],
  from: string | undefined,
  to: string,
): string[] {
  const key = (v: string) =>
    v
      .replace(/^v/, "")
      .split(/[.-]/)
      .slice(0, 3)
      .map((n) => Number(n) || 0);
  const cmp = (a: string, b: string) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  const [low, high] = from === undefined ? [undefined, to] : cmp(from, to) <= 0 ? [from, to] : [to, from];
  return versions
    .filter((v) => (low === undefined || cmp(v.version, low) > 0) && cmp(v.version, high) <= 0)
    .sort((a, b) => cmp(b.version, a.version))
    .map((v) => `argo/argo-cd\t${v.version}\t${v.appVersion}${v.version === to ? "\t<- target" : ""}`);
}

async function addAppCommand(
  inv: Invocation,
  loaded: LoadedConfig,
  argo: ArgoBootstrapModule,
): Promise<number> {
  const { out, ctx, args } = inv;
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
  let application: ReturnType<ArgoBootstrapModule["buildGitApplication"]>;
  if (chart !== undefined) {
    const version = stringOption(inv, "chart-version");
    if (!version)
      throw new HomelabError("USAGE", "a Helm application needs --chart-version (a pinned version)");
    application = argo.buildHelmApplication({ name, destinationNamespace, repoURL, chart, version });
  } else {
    application = argo.buildGitApplication({ name, destinationNamespace, repoURL, path: gitPath as string });
  }
  // the app goes into apps/ and its kustomization (which the root's kustomization lists as a directory):
  // a file path such as ../apps/x.yaml in app-of-apps/ breaks kustomize's load restriction
  const appsDir = join(dir, "apps");
  const kustomization = await readFile(join(appsDir, "kustomization.yaml"), "utf8").catch(() => undefined);
  const result = argo.addApp({
    application,
    appsDir,
    ...(kustomization === undefined ? {} : { kustomization }),
  });
  // the root renders app-of-apps/: it must list ../apps (a directory, which kustomize may load)
  const rootFile = join(dir, "app-of-apps", "kustomization.yaml");
  const rootText = await readFile(rootFile, "utf8").catch(() => undefined);
  const files = [...result.files];
  if (rootText !== undefined) {
    const { isSeq, parseDocument } = await import("yaml");
    const doc = parseDocument(rootText);
    const resources = doc.get("resources");
    const listed =
      isSeq(resources) &&
      resources.items.some(
        (i) => String((i as { value?: unknown }).value ?? i).replace(/\/$/, "") === "../apps",
      );
    if (!listed) {
      if (isSeq(resources)) {
        resources.flow = false;
        resources.add("../apps");
      } else doc.set("resources", doc.createNode(["../apps"]));
      files.push({ path: rootFile, content: doc.toString() });
    }
  }
  await writeFilesAtomic(files);
  out.result({ files: files.map((f) => f.path), application }, () =>
    files.map((f) => `wrote ${relative(ctx.cwd, f.path)}`).join("\n"),
  );
  return 0;
}

/** `homelab argo <bootstrap|status|upgrade|rollback|add-app|password>` */
export const run: RunFn = async (inv) => {
  const { out, path, ctx } = inv;
  const verb = path[1];
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const argo = await loadArgoBootstrap();
  if (verb === "add-app") return addAppCommand(inv, loaded, argo);
  const kubeconfig = await kubeconfigFor(inv, loaded);
  const namespace = loaded.config.argocd?.namespace ?? "argocd";
  if (verb === "password") {
    const result = await argo.readInitialAdminPassword({ kubeconfig: kubeconfig.text, namespace });
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
  const helm = argo.createHelm({
    run: await helmRunner(inv, loaded, kubeconfig.path),
    ...(kubeconfig.path === undefined ? {} : { kubeconfigPath: kubeconfig.path }),
  });
  const labDir = join(loaded.dir, ".homelab", loaded.config.cluster.name, "lab");
  const settings = await argoSettings({
    argo,
    loaded,
    env: ctx.env,
    placeholderSecrets: kubeconfig.path?.startsWith(labDir) === true,
    skipUnresolvedSecrets: verb === "status",
  });
  const common = {
    helm,
    kubeconfig: kubeconfig.text,
    ...settings.bootstrap,
    signal: ctx.signal,
  };

  if (verb === "status") {
    // read-only: what a bootstrap would change, and the root app's sync and health
    const plan = await argo.planArgoCd({ ...common, chartVersion: argocd.chartVersion });
    out.result(plan, () => {
      const live = plan.release.live;
      const root = plan.rootApplication.status;
      return [
        `Helm ${plan.helmVersion}; release ${namespace}/${plan.release.name}: ${live ? `chart ${live.chartVersion}, ${live.status}, revision ${live.revision}` : "not installed"} (homelab.yaml: ${plan.release.chartVersion}${plan.release.valuesChanged ? ", values differ" : ""})`,
        `root app ${namespace}/${plan.rootApplication.name}: ${root ? `${root.sync}/${root.health}${root.done ? "" : ` (waiting for ${root.waitingFor.join(", ")})`}` : "not applied"}`,
        ...plan.clusterSecrets.map(
          (s) =>
            `secret ${s.namespace}/${s.name}: ${s.action === "none" ? "up to date" : `would ${s.action}`}`,
        ),
        plan.changed ? "`homelab argo bootstrap` would change the cluster" : "nothing to change",
      ].join("\n");
    });
    return 0;
  }

  if (verb === "bootstrap") {
    const force = inv.options.force === true;
    const step = out.step(`Argo CD ${argocd.chartVersion}${force ? " (forced reinstall)" : ""}`);
    const result = await argo
      .bootstrapArgoCd({
        ...common,
        chartVersion: argocd.chartVersion,
        // break-glass: helm upgrade --install even when the release looks right; only Argo CD's own
        // release is touched (no uninstall, so the CRDs and every Application stay)
        force,
        onProgress: (e) => step.update(e.message),
      })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    step.done(`Argo CD ${result.unchanged ? "up to date" : "installed"}; root app Synced + Healthy`);
    out.result(
      result,
      () => `Argo CD ${argocd.chartVersion}: ${result.unchanged ? "up to date" : "installed"}`,
    );
    return 0;
  }

  if (verb === "upgrade") {
    const version = stringOption(inv, "version");
    if (!version) throw new HomelabError("USAGE", "argo upgrade needs --version X (the chart version)");
    const preview = await argo.upgradeArgoCd({ ...common, chartVersion: version, dryRun: true });
    const source = argo.DEFAULT_CHART_SOURCE;
    if (
      source.type === "repo" &&
      (await helm.repoAdd({ name: "argo", url: source.repoURL })) !== "conflict"
    ) {
      await helm.repoUpdate({ names: ["argo"] });
      const rows = versionRows(
        await helm.searchVersions({ repoName: "argo", chart: "argo-cd" }),
        preview.from,
        version,
      );
      if (!rows.some((r) => r.includes("<- target")))
        throw new HomelabError("USAGE", `argo/argo-cd has no chart version ${version}`, {
          hint: "list them with `helm search repo argo/argo-cd --versions`",
        });
      out.info(["NAME\tCHART VERSION\tAPP VERSION", ...rows].join("\n"));
    }
    out.info(
      `Argo CD chart: ${preview.from ?? "not installed"} -> ${preview.to}${preview.changed ? "" : " (no change)"}`,
    );
    const step = out.step(`Argo CD chart ${preview.from ?? "-"} -> ${version}`);
    const result = preview.changed
      ? await argo
          .upgradeArgoCd({ ...common, chartVersion: version, onProgress: (e) => step.update(e.message) })
          .catch((error: unknown) => {
            step.fail();
            throw error;
          })
      : preview;
    // homelab.yaml keeps the version, so the next `up` does not move it back (comments and layout stay)
    const { parseDocument } = await import("yaml");
    const doc = parseDocument(await readFile(loaded.path, "utf8"));
    const wrote = doc.getIn(["argocd", "chartVersion"]) !== version;
    if (wrote) {
      doc.setIn(["argocd", "chartVersion"], version);
      await writeFileAtomic(loaded.path, doc.toString());
    }
    step.done(
      `Argo CD chart ${version}${preview.changed ? ": upgraded, rollouts complete" : ": already installed"}`,
    );
    out.result({ ...result, homelabYaml: wrote ? "updated" : "unchanged" }, () =>
      [
        `Argo CD chart ${result.from ?? "-"} -> ${result.to}: ${preview.changed ? "upgraded" : "already installed"}`,
        wrote ? `argocd.chartVersion set to ${version} in ${relative(ctx.cwd, loaded.path)}` : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
    return 0;
  }

  if (verb === "rollback") {
    const revisionText = stringOption(inv, "revision");
    const revision = revisionText === undefined ? undefined : Number(revisionText);
    if (revision !== undefined && !(Number.isInteger(revision) && revision > 0))
      throw new HomelabError("USAGE", `--revision must be a release revision number (got ${revisionText})`);
    const step = out.step(`helm rollback argocd${revision === undefined ? "" : ` ${revision}`}`);
    const release = await helm
      .rollback({
        release: "argocd",
        namespace,
        ...(revision === undefined ? {} : { revision }),
        signal: ctx.signal,
      })
      .catch((error: unknown) => {
        step.fail();
        throw error;
      });
    await argo.waitForRollouts({ kubeconfig: kubeconfig.text, namespace, signal: ctx.signal });
    step.done(`Argo CD rolled back: chart ${release.chartVersion} (revision ${release.revision})`);
    out.result(release, () =>
      release.chartVersion === argocd.chartVersion
        ? `Argo CD chart ${release.chartVersion}`
        : `Argo CD chart ${release.chartVersion}; homelab.yaml still says ${argocd.chartVersion}: set argocd.chartVersion to ${release.chartVersion} or the next \`homelab up\` upgrades again`,
    );
    return 0;
  }
  throw new HomelabError("USAGE", `unknown argo command '${verb}'`);
};
