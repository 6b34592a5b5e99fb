import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { loadCfTunnel } from "../adapters/cf-tunnel.js";
import { type LintFinding, loadTalosConfig } from "../adapters/talos-config.js";
import { defineCommand } from "../cli/command.js";
import type { HomelabConfig } from "../config/load.js";
import { nodeIntent } from "../plan/intent.js";
import { routesOf } from "../plan/routes.js";
import { loadProject } from "./common.js";
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
    const { out, options } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const { config } = loaded;
    const findings: Finding[] = fileFindings(config);

    const tc = await loadTalosConfig();
    const controlPlaneAddresses = config.nodes
      .filter((n) => n.role === "controlplane")
      .flatMap((n) => [n.address, ...n.interfaces.flatMap((f) => (f.vip ? [f.vip] : []))]);
    for (const node of config.nodes) {
      const docs = tc.buildNodePatches(nodeIntent(config, node));
      const lintFindings: LintFinding[] = tc.lint(docs, {
        role: node.role,
        target: node.talosVersion ?? config.cluster.talosVersion,
        serviceSubnets: [...config.cluster.network.serviceSubnets],
        controlPlaneAddresses,
      });
      for (const l of lintFindings) {
        const finding: Finding = {
          source: "talos-config",
          severity: l.severity,
          code: l.code,
          path: `${node.name}: ${l.path}`,
          message: l.message,
        };
        if (l.hint) finding.hint = l.hint;
        findings.push(finding);
      }
    }

    if (config.tunnel) {
      const cf = await loadCfTunnel();
      try {
        cf.validateRoutes({ zone: config.tunnel.zone, routes: routesOf(config) });
      } catch (error) {
        if (!cf.isCfTunnelError(error)) throw error;
        const field = error.details?.field;
        findings.push({
          source: "cf-tunnel",
          severity: "error",
          code: error.code,
          path: typeof field === "string" ? field : "tunnel.routes",
          message: error.rawMessage,
        });
      }
    }

    if (config.argocd) {
      const argo = await loadArgoBootstrap();
      try {
        argo.buildRootApplication({
          repoURL: config.argocd.repoURL,
          path: config.argocd.path,
          targetRevision: config.argocd.targetRevision,
        });
      } catch (error) {
        if (!argo.isArgoBootstrapError(error)) throw error;
        findings.push({
          source: "argo-bootstrap",
          severity: "error",
          code: error.code,
          path: "argocd",
          message: error.rawMessage,
        });
      }
    }

    if (options.live) {
      const { liveChecks } = await import("./doctor-live.js");
      findings.push(...(await liveChecks(inv, loaded)));
    }

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
  },
});
