import { isHomelabError } from "../../errors.js";
import { defineCommand, type Invocation } from "../cli/command.js";
import type { HomelabConfig, LoadedConfig } from "../config/load.js";
import { loadProject } from "./common.js";
import { liveChecks } from "./doctor-live.js";
import type { Finding } from "./finding.js";

function fileFindings(config: HomelabConfig): Finding[] {
  const f: Finding[] = [];
  const cps = config.nodes.filter((n) => n.role === "controlplane");
  if (cps.length === 2 || cps.length === 4)
    f.push({
      source: "homelab.yaml",
      severity: "warning",
      code: "EVEN_CONTROL_PLANES",
      path: "nodes",
      message: `${cps.length} control planes: etcd needs a majority, so an even count tolerates no more failures than one fewer`,
      hint: "use 1, 3 or 5 control planes",
    });
  if (config.nodes.every((n) => n.role === "controlplane") && !config.cluster.allowSchedulingOnControlPlanes)
    f.push({
      source: "homelab.yaml",
      severity: "error",
      code: "NO_SCHEDULABLE_NODES",
      path: "cluster.allowSchedulingOnControlPlanes",
      message: "no workers and scheduling on control planes is off: no workload can run",
      hint: "set cluster.allowSchedulingOnControlPlanes: true or add a worker",
    });
  config.nodes.forEach((n, i) => {
    if (!n.installDisk && !n.installDiskSelector)
      f.push({
        source: "homelab.yaml",
        severity: "warning",
        code: "NO_INSTALL_DISK",
        path: `nodes[${i}]`,
        message: `node ${n.name} has no installDisk or installDiskSelector: Talos picks the first disk it finds`,
      });
  });
  if (!config.argocd)
    f.push({
      source: "homelab.yaml",
      severity: "info",
      code: "NO_ARGOCD",
      path: "argocd",
      message: "no argocd section: GitOps is not bootstrapped",
    });
  return f;
}

/** `homelab doctor [--live]` */
export const command = defineCommand({
  name: "doctor",
  summary:
    "Lint homelab.yaml with every library's rules (--live: also reachability, versions, health, tunnel audit)",
  options: { live: { type: "boolean", description: "Also check the live cluster and Cloudflare" } },
  async run(inv) {
    const { options } = inv;
    let loaded: LoadedConfig;
    try {
      loaded = await loadProject(inv, { resolveSecrets: true });
    } catch (error) {
      // every located problem becomes a finding: doctor reports them all, in its own format
      if (!isHomelabError(error) || error.issues.length === 0) throw error;
      return report(
        inv,
        error.issues.map((i) => ({
          source: "homelab.yaml",
          severity: "error",
          code: error.code,
          path: `${i.file}:${i.line}:${i.col} ${i.path}`,
          message: i.message,
          ...(i.hint ? { hint: i.hint } : {}),
        })),
      );
    }
    const { config } = loaded;
    // the library checks (builders, lint, routes, root app) ran while loading; their warnings are here
    const findings: Finding[] = [...fileFindings(config), ...loaded.notes];

    if (options.live) findings.push(...(await liveChecks(inv, loaded)));
    return report(inv, findings);
  },
});

function report(inv: Invocation, findings: Finding[]): number {
  const { out } = inv;
  {
    const errors = findings.filter((f) => f.severity === "error").length;
    const warnings = findings.filter((f) => f.severity === "warning").length;
    out.result({ ok: errors === 0, errors, warnings, findings }, () => {
      const lines = findings.map((f) => {
        const tag =
          f.severity === "error"
            ? out.style("red", "error")
            : f.severity === "warning"
              ? out.style("yellow", "warn ")
              : out.style("dim", "info ");
        return `${tag} ${f.source} ${f.code}${f.path ? ` ${f.path}` : ""}: ${f.message}${f.hint ? `\n      hint: ${f.hint}` : ""}`;
      });
      lines.push(`${errors} error(s), ${warnings} warning(s)`);
      return lines.join("\n");
    });
    return errors > 0 ? 1 : 0;
  }
}
