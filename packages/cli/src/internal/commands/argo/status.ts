import { defineCommand } from "../../cli/command.js";
import { argoSettings, declaredApplications } from "../../pipeline/argo-settings.js";
import type { ArgoInputs } from "../../pipeline/steps/argocd.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { type argocdOf, argoReleaseOf } from "./common.js";

/** One Application the GitOps tree declares, as the cluster has it. */
interface ApplicationStatus {
  name: string;
  sync: string;
  health: string;
  /** Why it is not Synced and Healthy: the health message, a condition, or the last operation's message. */
  message?: string;
}

/** The root and every Application its path renders (bootstrap.yaml and the tree), read from the cluster. */
async function applicationStatuses(
  inputs: ArgoInputs,
  argocd: ReturnType<typeof argocdOf>,
  signal: AbortSignal,
): Promise<ApplicationStatus[]> {
  const { argo } = inputs;
  const { root, children } = await declaredApplications(argo, inputs.loaded, argocd);
  const kube = argo.createKubeClient({ kubeconfig: inputs.kubeconfig as string });
  const out: ApplicationStatus[] = [];
  for (const name of [root.metadata.name, ...children]) {
    const ref = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      namespace: argocd.namespace,
      name,
    };
    const app = (await kube.get(ref, { signal })) as { status?: AppStatus } | undefined;
    if (app === undefined) {
      out.push({ name, sync: "Missing", health: "Missing", message: "not created (yet) by the root app" });
      continue;
    }
    const sync = app.status?.sync?.status ?? "Unknown";
    const health = app.status?.health?.status ?? "Unknown";
    const message =
      sync === "Synced" && health === "Healthy"
        ? undefined
        : (app.status?.health?.message ??
          app.status?.conditions?.[0]?.message ??
          app.status?.operationState?.message);
    out.push({ name, sync, health, ...(message === undefined ? {} : { message }) });
  }
  return out;
}

interface AppStatus {
  sync?: { status?: string };
  health?: { status?: string; message?: string };
  conditions?: { message?: string }[];
  operationState?: { message?: string };
}

/** `homelab argo status`: read-only; what a bootstrap would change, and the root app's sync and health. */
export const command = defineCommand({
  name: "status",
  summary:
    "Read-only: the release's chart and values, the sync and health of the root and every app it renders",
  options: { kubeconfig: KUBECONFIG_OPTION },
  async run(inv) {
    const { loaded, argocd, inputs, helm } = await argoReleaseOf(inv);
    const { argo } = inputs;
    const settings = await argoSettings({
      argo,
      loaded,
      env: inputs.env,
      placeholderSecrets: inputs.lab,
      skipUnresolvedSecrets: true,
    });
    const plan = await argo.planArgoCd({
      helm,
      kubeconfig: inputs.kubeconfig as string,
      ...settings.bootstrap,
      signal: inv.ctx.signal,
    });
    const namespace = argocd.namespace;
    const applications = await applicationStatuses(inputs, argocd, inv.ctx.signal);
    inv.out.result({ ...plan, applications }, () => {
      const live = plan.release.live;
      const root = plan.rootApplication.status;
      return [
        `Helm ${plan.helmVersion}; release ${namespace}/${plan.release.name}: ${live ? `chart ${live.chartVersion}, ${live.status}, revision ${live.revision}` : "not installed"} (homelab.yaml: ${plan.release.chartVersion}${plan.release.valuesChanged ? ", values differ" : ""})`,
        `root app ${namespace}/${plan.rootApplication.name}: ${root ? `${root.sync}/${root.health}${root.done ? "" : ` (waiting for ${root.waitingFor.join(", ")})`}` : "not applied"}`,
        ...applications
          .slice(1)
          .map(
            (a) =>
              `app ${namespace}/${a.name}: ${a.sync}/${a.health}${a.message === undefined ? "" : ` (${a.message})`}`,
          ),
        ...plan.clusterSecrets.map(
          (s) =>
            `secret ${s.namespace}/${s.name}: ${s.action === "none" ? "up to date" : `would ${s.action}`}`,
        ),
        plan.changed ? "`homelab argo bootstrap` would change the cluster" : "nothing to change",
      ].join("\n");
    });
    return 0;
  },
});
