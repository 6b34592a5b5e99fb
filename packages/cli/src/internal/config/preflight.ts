import type { ProcessRunner } from "../adapters/argo-bootstrap.js";
import { invalidAt, type LoadedConfig } from "./load.js";

/** Options of {@link checkChartVersion}. */
export interface CheckChartVersionOptions {
  loaded: LoadedConfig;
  /** The helm of the target: the lab's stand-in in simulated runs, the real one otherwise. */
  helm: ProcessRunner;
  /** Told when the repository cannot be reached (the check is then skipped, not failed). */
  warn: (message: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Checks that `argocd.chartVersion` exists in the chart repository's index (`helm show chart`),
 * before anything is changed: a missing version used to fail only after the whole cluster was
 * built. A version the repository says it lacks is a located CONFIG_INVALID; a repository or helm
 * that cannot be reached is a warning (the install step reports it again if it matters).
 */
export async function checkChartVersion(options: CheckChartVersionOptions): Promise<void> {
  const { loaded, helm } = options;
  const argocd = loaded.config.argocd;
  if (!argocd) return;
  const { ARGOCD_CHART_REPO_URL } = await import("@talos-homelab/argo-bootstrap");
  const args = [
    "show",
    "chart",
    "argo-cd",
    "--repo",
    ARGOCD_CHART_REPO_URL,
    "--version",
    argocd.chartVersion,
  ];
  let result: Awaited<ReturnType<ProcessRunner>>;
  try {
    result = await helm("helm", args, {
      ...(options.signal ? { signal: options.signal } : {}),
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const code = (error as { code?: unknown })?.code;
    options.warn(
      `argocd.chartVersion ${argocd.chartVersion} not checked: ${code === "ENOENT" ? "helm is not installed" : "helm could not run"}`,
    );
    return;
  }
  if (result.exitCode === 0) return;
  const stderr = result.stderr.trim();
  if (/version "[^"]*" not found/.test(stderr)) {
    throw invalidAt(
      loaded,
      [
        {
          path: ["argocd", "chartVersion"],
          message: `chart argo-cd ${argocd.chartVersion} does not exist in ${ARGOCD_CHART_REPO_URL}`,
          hint: "pick a published version: helm search repo argo/argo-cd --versions",
        },
      ],
      loaded.displayName,
    );
  }
  options.warn(
    `argocd.chartVersion ${argocd.chartVersion} not checked: the chart repository did not answer (${stderr.split("\n").at(-1) ?? `exit ${result.exitCode}`})`,
  );
}
