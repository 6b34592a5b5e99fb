import { join } from "node:path";
import type { ArgoBootstrapModule, ProcessRunner } from "../../adapters/argo-bootstrap.js";
import type { Step as ProgressStep } from "../../cli/output.js";
import type { LoadedConfig } from "../../config/load.js";
import { withStatePath } from "../../secrets/state-secrets.js";
import { argoSettings } from "../argo-settings.js";
import { diffDesired, diffValues } from "../diff.js";
import { readArgoObject } from "../kube-read.js";
import { type Change, failureOf, type PlanFailure, type Step } from "../step.js";

/** What the Argo CD step needs: `up`, `plan` and `argo bootstrap` build it their own way. */
export interface ArgoInputs {
  argo: ArgoBootstrapModule;
  loaded: LoadedConfig;
  helm: ProcessRunner;
  kubeconfigPath: string;
  /** The kubeconfig text; undefined when there is no cluster yet. */
  kubeconfig: string | undefined;
  signal: AbortSignal;
  /** The lab's emulated Argo CD moves in milliseconds: poll it often and wait less. */
  lab: boolean;
}

function argocdOf(loaded: LoadedConfig) {
  const argocd = loaded.config.argocd;
  if (!argocd) throw new Error("argocd step without an argocd section");
  return argocd;
}

async function desired(inputs: ArgoInputs) {
  const argocd = argocdOf(inputs.loaded);
  const rootApplication = inputs.argo.buildRootApplication({
    repoURL: argocd.repoURL,
    path: argocd.path,
    targetRevision: argocd.targetRevision,
  });
  const settings = await argoSettings({
    argo: inputs.argo,
    treeDir: join(inputs.loaded.dir, argocd.path),
    rootApplication,
    ...(argocd.values ? { values: argocd.values } : {}),
  });
  return { argocd, rootApplication, settings };
}

/**
 * Plans Argo CD against the cluster: the Helm release's chart version and values, and the root
 * Application's spec. One change (or none), with a diff of what differs.
 */
export async function planArgoCd(inputs: ArgoInputs): Promise<Change | PlanFailure> {
  const { argocd, rootApplication, settings } = await desired(inputs);
  const base = { id: "argocd", step: "argocd", subject: "argo-cd release" };
  if (inputs.kubeconfig === undefined)
    return { ...base, action: "create", summary: `install chart ${argocd.chartVersion} and the root app` };
  try {
    const helm = inputs.argo.createHelm({ run: inputs.helm, kubeconfigPath: inputs.kubeconfigPath });
    const release = await helm.getRelease({
      release: "argocd",
      namespace: argocd.namespace,
      signal: inputs.signal,
    });
    if (!release)
      return { ...base, action: "create", summary: `install chart ${argocd.chartVersion} and the root app` };
    const lines: string[] = [];
    if (release.chartVersion !== argocd.chartVersion)
      lines.push(`~ chart: ${release.chartVersion} → ${argocd.chartVersion}`);
    const values = await helm.getValues({
      release: "argocd",
      namespace: argocd.namespace,
      signal: inputs.signal,
    });
    lines.push(...diffValues(values, settings.values, "values"));
    const app = rootApplication as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
      spec: unknown;
    };
    const live = await readArgoObject(
      inputs.argo,
      inputs.kubeconfig,
      {
        apiVersion: app.apiVersion,
        kind: app.kind,
        plural: "applications",
        name: app.metadata.name,
        namespace: app.metadata.namespace,
      },
      inputs.signal,
    );
    if (!live) lines.push(`+ Application ${app.metadata.name}: apply the root app`);
    else lines.push(...diffDesired(live.spec, app.spec, `Application ${app.metadata.name} spec`));
    if (lines.length === 0)
      return { ...base, action: "none", summary: `chart ${release.chartVersion}, root app as declared` };
    return { ...base, action: "update", summary: `${lines.length} difference(s)`, diff: lines.join("\n") };
  } catch (error) {
    return failureOf("argocd", "argocd", base.subject, error);
  }
}

/** Installs or upgrades the release, waits for the rollouts, applies the root app and waits for it. */
export async function applyArgoCd(inputs: ArgoInputs, step: ProgressStep) {
  const { argocd, rootApplication, settings } = await desired(inputs);
  return inputs.argo.bootstrapArgoCd({
    helm: inputs.argo.createHelm({ run: inputs.helm, kubeconfigPath: inputs.kubeconfigPath }),
    kubeconfig: inputs.kubeconfig as string,
    chartVersion: argocd.chartVersion,
    values: settings.values,
    syncWaves: settings.syncWaves,
    rootApplication,
    timeoutMs: inputs.lab ? 60_000 : 15 * 60_000,
    ...(inputs.lab ? { pollIntervalMs: 50 } : {}),
    onProgress: (e) => step.update(e),
    signal: inputs.signal,
  });
}

/** Argo CD and the root application, as a pipeline step. */
export const argocdStep: Step = {
  id: "argocd",
  title: "Argo CD",
  ownProgress: true,
  async plan(ctx) {
    if (!ctx.config.argocd || !ctx.libs.argo) return [];
    const argo = ctx.libs.argo;
    return [
      await withStatePath(ctx.state, "kubeconfig", ctx.files.kubeconfig, (kubeconfigPath) =>
        planArgoCd({
          argo,
          loaded: ctx.loaded,
          helm: ctx.target.helm,
          kubeconfigPath,
          kubeconfig: ctx.found.kubeconfig,
          signal: ctx.signal,
          lab: ctx.target.kind === "lab",
        }),
      ),
    ];
  },
  async apply(ctx) {
    const argocd = ctx.config.argocd;
    if (!argocd || !ctx.libs.argo) return "no argocd section";
    const step = ctx.out.step(`Argo CD ${argocd.chartVersion}`);
    try {
      const argo = ctx.libs.argo;
      const result = await withStatePath(ctx.state, "kubeconfig", ctx.files.kubeconfig, (kubeconfigPath) =>
        applyArgoCd(
          {
            argo,
            loaded: ctx.loaded,
            helm: ctx.target.helm,
            kubeconfigPath,
            kubeconfig: ctx.found.kubeconfig,
            signal: ctx.signal,
            lab: ctx.target.kind === "lab",
          },
          step,
        ),
      );
      ctx.progress.argocd = {
        chartVersion: argocd.chartVersion,
        at: new Date(ctx.clock.now()).toISOString(),
      };
      await ctx.saveProgress();
      const what = result.unchanged
        ? "up to date"
        : `installed chart ${argocd.chartVersion}, root app synced`;
      step.done(
        `Argo CD ${argocd.chartVersion}: ${result.unchanged ? "up to date" : "installed"}, root app Synced + Healthy`,
      );
      return what;
    } catch (error) {
      if (ctx.signal.aborted) step.interrupted();
      else step.fail();
      throw error;
    }
  },
};
