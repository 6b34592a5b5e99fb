import type { Clock } from "../../../context.js";
import type { ArgoBootstrapModule, ProcessRunner } from "../../adapters/argo-bootstrap.js";
import type { Step as ProgressStep } from "../../cli/output.js";
import type { LoadedConfig } from "../../config/load.js";
import { withStatePath } from "../../secrets/state-secrets.js";
import { argoSettings } from "../argo-settings.js";
import { diffDesired, diffValues } from "../diff.js";
import { readArgoObject } from "../kube-read.js";
import { type Change, failureOf, type PlanFailure, type Step, type StepContext } from "../step.js";

/** What the Argo CD step needs: `up`, `plan` and `argo bootstrap` build it their own way. */
export interface ArgoInputs {
  argo: ArgoBootstrapModule;
  loaded: LoadedConfig;
  helm: ProcessRunner;
  /** Undefined for a merged $KUBECONFIG list: helm then reads $KUBECONFIG itself. */
  kubeconfigPath: string | undefined;
  /** The kubeconfig text; undefined when there is no cluster yet. */
  kubeconfig: string | undefined;
  signal: AbortSignal;
  /** The lab's emulated Argo CD moves in milliseconds: poll it often and wait less. */
  lab: boolean;
  /** Environment for secret references (argocd.clusterSecrets `env:`). */
  env: Record<string, string | undefined>;
  /** Read-only callers leave out cluster secrets whose references give no value. */
  readOnly?: boolean;
  /** Reinstall the release even when it looks up to date (`argo bootstrap --force`). */
  force?: boolean;
  /** What the rollout and sync waits sleep on (default: the real clock). */
  clock?: Clock;
}

/** The Helm client for {@link ArgoInputs}: a merged $KUBECONFIG list has no path (helm reads $KUBECONFIG). */
export function helmOf(inputs: ArgoInputs) {
  return inputs.argo.createHelm({
    run: inputs.helm,
    ...(inputs.kubeconfigPath === undefined ? {} : { kubeconfigPath: inputs.kubeconfigPath }),
  });
}

function argocdOf(loaded: LoadedConfig) {
  const argocd = loaded.config.argocd;
  if (!argocd) throw new Error("argocd step without an argocd section");
  return argocd;
}

async function desired(inputs: ArgoInputs) {
  const argocd = argocdOf(inputs.loaded);
  const settings = await argoSettings({
    argo: inputs.argo,
    loaded: inputs.loaded,
    env: inputs.env,
    placeholderSecrets: inputs.lab,
    skipUnresolvedSecrets: inputs.readOnly === true,
  });
  return { argocd, rootApplication: settings.rootApplication, settings };
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
    const helm = helmOf(inputs);
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
  const { settings } = await desired(inputs);
  return inputs.argo.bootstrapArgoCd({
    helm: helmOf(inputs),
    kubeconfig: inputs.kubeconfig as string,
    ...settings.bootstrap,
    // break-glass: helm upgrade --install even when the release looks right; only Argo CD's own
    // release is touched (no uninstall, so the CRDs and every Application stay)
    ...(inputs.force === true ? { force: true } : {}),
    timeoutMs: inputs.lab ? 60_000 : 15 * 60_000,
    ...(inputs.lab ? { pollIntervalMs: 50 } : {}),
    ...(inputs.clock ? { sleep: inputs.clock.sleep, now: inputs.clock.now } : {}),
    onProgress: (e) => step.update(e),
    signal: inputs.signal,
  });
}

/** The step's {@link ArgoInputs}: the config, the target's helm, the state's kubeconfig. */
function inputsOf(
  ctx: StepContext,
  argo: ArgoBootstrapModule,
  kubeconfigPath: string | undefined,
): ArgoInputs {
  return {
    argo,
    loaded: ctx.loaded,
    helm: ctx.target.helm,
    kubeconfigPath,
    kubeconfig: ctx.found.kubeconfig,
    signal: ctx.signal,
    lab: ctx.target.kind === "lab",
    env: ctx.env,
    clock: ctx.clock,
  };
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
        planArgoCd({ ...inputsOf(ctx, argo, kubeconfigPath), readOnly: true }),
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
        applyArgoCd(inputsOf(ctx, argo, kubeconfigPath), step),
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
