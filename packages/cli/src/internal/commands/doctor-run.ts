import { isHomelabError } from "../../errors.js";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { loadCfTunnel } from "../adapters/cf-tunnel.js";
import { type LintFinding, loadTalosConfig } from "../adapters/talos-config.js";
import type { Invocation } from "../cli/command.js";
import type { HomelabConfig, LoadedConfig } from "../config/load.js";
import { readBootstrapFile } from "../pipeline/argo-settings.js";
import { nodeIntent } from "../plan/intent.js";
import { routesOf } from "../plan/routes.js";
import { referenceProblems } from "../secrets/reference.js";
import { loadProject } from "./common.js";
import type { DOCTOR_OPTIONS } from "./doctor.js";
import type { Finding } from "./finding.js";

/** One thing doctor checked: its layer, what, the verdict and the findings behind it. */
export interface Check {
  layer: "homelab.yaml" | "talos-config" | "cf-tunnel" | "argo-bootstrap" | "talos" | "cloudflare";
  check: string;
  /** ok (nothing or only info found), the worst finding's severity, or skipped (with why). */
  result: "ok" | "warning" | "error" | "skipped";
  /** Why it was skipped, or what an ok check found (e.g. "runs v1.13.9"). */
  detail?: string;
  findings: Finding[];
}

function verdict(findings: Finding[]): Check["result"] {
  if (findings.some((f) => f.severity === "error")) return "error";
  if (findings.some((f) => f.severity === "warning")) return "warning";
  return "ok";
}

function checked(layer: Check["layer"], check: string, findings: Finding[]): Check {
  const info = findings.filter((f) => f.severity === "info").map((f) => f.message);
  return {
    layer,
    check,
    result: verdict(findings),
    ...(info.length ? { detail: info.join("; ") } : {}),
    findings,
  };
}

function skipped(layer: Check["layer"], check: string, detail: string): Check {
  return { layer, check, result: "skipped", detail, findings: [] };
}

function fileChecks(config: HomelabConfig): Check[] {
  const finding = (
    severity: Finding["severity"],
    code: string,
    path: string,
    message: string,
    hint?: string,
  ) => {
    const f: Finding = { source: "homelab.yaml", severity, code, path, message };
    if (hint) f.hint = hint;
    return f;
  };
  const cps = config.nodes.filter((n) => n.role === "controlplane");
  const quorum =
    cps.length === 2 || cps.length === 4
      ? [
          finding(
            "warning",
            "EVEN_CONTROL_PLANES",
            "nodes",
            `${cps.length} control planes: etcd needs a majority, so an even count tolerates no more failures than one fewer`,
            "use 1, 3 or 5 control planes",
          ),
        ]
      : [];
  const schedulable =
    config.nodes.every((n) => n.role === "controlplane") && !config.cluster.allowSchedulingOnControlPlanes
      ? [
          finding(
            "error",
            "NO_SCHEDULABLE_NODES",
            "cluster.allowSchedulingOnControlPlanes",
            "no workers and scheduling on control planes is off: no workload can run",
            "set cluster.allowSchedulingOnControlPlanes: true or add a worker",
          ),
        ]
      : [];
  const gitops = config.argocd
    ? []
    : [finding("info", "NO_ARGOCD", "argocd", "no argocd section: GitOps is not bootstrapped")];
  return [
    checked("homelab.yaml", `etcd quorum (${cps.length} control plane(s))`, quorum),
    checked("homelab.yaml", "a node can run workloads", schedulable),
    checked("homelab.yaml", "GitOps (argocd section)", gitops),
  ];
}

/**
 * The secret references (tailscale.authKey, tunnel.apiToken, argocd.clusterSecrets): one that gives no
 * value here is a warning, not a failure (`doctor` checks the file; `up` is where they must resolve).
 */
async function referenceCheck(inv: Invocation, loaded: LoadedConfig): Promise<Check> {
  const problems = await referenceProblems(loaded, inv.ctx.env);
  const findings: Finding[] = problems.map((p) => ({
    source: "homelab.yaml",
    severity: "warning",
    code: "SECRET_UNRESOLVED",
    path: p.path,
    message: `${p.problem}: \`homelab up\` needs it`,
    ...(p.hint ? { hint: p.hint } : {}),
  }));
  return checked("homelab.yaml", "secret references resolve (values never shown)", findings);
}

/** Every check doctor runs (--live adds the live ones), in layer order. */
export async function doctorChecks(inv: Invocation, loaded: LoadedConfig, live: boolean): Promise<Check[]> {
  const { config } = loaded;
  const checks = fileChecks(config);
  checks.push(await referenceCheck(inv, loaded));

  const tc = await loadTalosConfig();
  const controlPlaneAddresses = config.nodes
    .filter((n) => n.role === "controlplane")
    .flatMap((n) => [n.address, ...n.interfaces.flatMap((f) => (f.vip ? [f.vip] : []))]);
  for (const node of config.nodes) {
    const docs = tc.buildNodePatches(nodeIntent(config, node));
    const target = node.talosVersion ?? config.cluster.talosVersion;
    const lintFindings: LintFinding[] = tc.lint(docs, {
      role: node.role,
      target,
      serviceSubnets: [...config.cluster.network.serviceSubnets],
      controlPlaneAddresses,
    });
    const findings = lintFindings.map((l) => {
      const finding: Finding = {
        source: "talos-config",
        severity: l.severity,
        code: l.code,
        path: `${node.name}: ${l.path}`,
        message: l.message,
      };
      if (l.hint) finding.hint = l.hint;
      return finding;
    });
    checks.push(
      checked("talos-config", `${node.name}: ${node.role} machine config for Talos ${target}`, findings),
    );
  }

  if (config.tunnel) {
    const cf = await loadCfTunnel();
    const findings: Finding[] = [];
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
    checks.push(
      checked("cf-tunnel", `${config.tunnel.routes.length} route(s) in zone ${config.tunnel.zone}`, findings),
    );
  } else checks.push(skipped("cf-tunnel", "routes", "no tunnel section"));

  if (config.argocd) {
    const argo = await loadArgoBootstrap();
    const findings: Finding[] = [];
    const file = `${config.argocd.path}/bootstrap.yaml`;
    try {
      const bootstrap = await readBootstrapFile(argo, loaded, config.argocd);
      if (bootstrap.problem)
        findings.push({
          source: "argo-bootstrap",
          severity: "error",
          code:
            bootstrap.state === "missing"
              ? "BOOTSTRAP_MISSING"
              : bootstrap.state === "self-managed"
                ? "BOOTSTRAP_SELF_MANAGED"
                : "BOOTSTRAP_DRIFT",
          path: file,
          message: bootstrap.problem.message,
          hint: bootstrap.problem.hint,
        });
      else if (bootstrap.state === "no-tree")
        findings.push({
          source: "argo-bootstrap",
          severity: "info",
          code: "NO_GITOPS_TREE",
          path: file,
          message: `${config.argocd.path} is not checked out here: up applies the root Application homelab.yaml renders`,
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
    checks.push(checked("argo-bootstrap", `root application (${file})`, findings));
  } else checks.push(skipped("argo-bootstrap", "root application", "no argocd section"));

  if (!live) {
    checks.push(skipped("talos", "nodes reachable, versions, cluster health", "pass --live"));
    if (config.tunnel) checks.push(skipped("cloudflare", "tunnel audit", "pass --live"));
    return checks;
  }
  const { liveChecks } = await import("./doctor-live.js");
  const found = await liveChecks(inv, loaded);
  const group = (layer: Check["layer"], check: string, codes: (f: Finding) => boolean) => {
    const findings = found.filter(codes);
    if (findings.length > 0) checks.push(checked(layer, check, findings));
  };
  group("talos", "talosconfig", (f) => f.code === "NO_TALOSCONFIG");
  for (const node of config.nodes)
    group("talos", `${node.name}: reachable over mTLS, Talos version`, (f) => f.path === node.name);
  group("talos", "reachable", (f) => f.path === "talos" && f.code !== "NO_TALOSCONFIG");
  group("talos", "cluster health (etcd, services, nodes)", (f) => f.path === "cluster");
  group(
    "cloudflare",
    "tunnel audit (connectors, DNS, Access)",
    (f) =>
      !["NO_TALOSCONFIG", "UNREACHABLE", "REACHABLE", "VERSION_DRIFT", "HEALTHY", "UNHEALTHY"].includes(
        f.code,
      ),
  );
  return checks;
}

/** The `homelab doctor` handler (loaded only when the command runs, so `--help` stays light). */
export async function runDoctor(inv: Invocation<typeof DOCTOR_OPTIONS>): Promise<number> {
  const { out, options } = inv;
  let checks: Check[];
  try {
    // references are checked one by one below (a finding each), so an unset one never stops doctor
    const loaded = await loadProject(inv, { resolveSecrets: false });
    checks = await doctorChecks(inv, loaded, options.live === true);
  } catch (error) {
    // loading runs every library's checks; each located problem becomes a finding, all at once
    if (!isHomelabError(error) || error.issues.length === 0) throw error;
    const findings: Finding[] = error.issues.map((i) => ({
      source: "homelab.yaml",
      severity: "error",
      code: error.code,
      path: `${i.file}:${i.line}:${i.col} ${i.path}`,
      message: i.message,
      ...(i.hint ? { hint: i.hint } : {}),
    }));
    checks = [checked("homelab.yaml", "schema, secret references and every library's checks", findings)];
  }
  const findings = checks.flatMap((c) => c.findings);
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  out.result({ ok: errors === 0, errors, warnings, checks, findings }, () => {
    const mark = (r: Check["result"]) =>
      r === "error"
        ? out.style("red", "✗")
        : r === "warning"
          ? out.style("yellow", "!")
          : r === "skipped"
            ? out.style("dim", "-")
            : out.style("green", "✓");
    const lines: string[] = [];
    let layer = "";
    for (const c of checks) {
      if (c.layer !== layer) {
        layer = c.layer;
        lines.push(out.style("bold", layer));
      }
      const detail = c.detail
        ? out.style("dim", ` (${c.result === "skipped" ? "skipped: " : ""}${c.detail})`)
        : "";
      lines.push(`  ${mark(c.result)} ${c.check}${detail}`);
      for (const f of c.findings.filter((x) => x.severity !== "info"))
        lines.push(
          `      ${f.severity} ${f.code}${f.path ? ` ${f.path}` : ""}: ${f.message}${f.hint ? `\n        hint: ${f.hint}` : ""}`,
        );
    }
    const ran = checks.filter((c) => c.result !== "skipped").length;
    lines.push("", `${ran} check(s): ${errors} error(s), ${warnings} warning(s)`);
    return lines.join("\n");
  });
  return errors > 0 ? 1 : 0;
}
