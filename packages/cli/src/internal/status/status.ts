import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { loadCfTunnel } from "../adapters/cf-tunnel.js";
import type { LoadedConfig } from "../config/load.js";
import { declaredApplications } from "../pipeline/argo-settings.js";
import { routesOf } from "../plan/routes.js";
import { nodeClient, type ProjectSystems } from "../state/systems.js";

// `homelab status`: one read-only look across the layers, each answered from the live system.

/** A layer that could not be read: why. */
export interface Unavailable {
  unavailable: string;
}

/** What `homelab status` reports. */
export interface StatusReport {
  cluster: string;
  stateDir: string;
  simulated: boolean;
  /** Talos nodes: the version each runs against the one homelab.yaml wants, kubelet and etcd service health. */
  nodes: {
    name: string;
    role: string;
    address: string;
    want: string;
    talos?: string;
    kubelet?: string;
    etcd?: string;
    error?: string;
  }[];
  etcd: { members: { hostname: string; learner: boolean }[] } | Unavailable;
  /** The Kubernetes API server answering with the project's kubeconfig. */
  kubernetes: { apiServer: "ok" } | Unavailable;
  tunnel?:
    | {
        name: string;
        id: string;
        /** Connectors by node (matched on origin IP); `other` lists unmatched origin IPs. */
        connectors: { node: string; up: boolean }[];
        other: string[];
        routes: number;
        /** Pending ingress/DNS/Access changes (0: in sync with homelab.yaml). */
        pending: number;
        findings: { severity: string; code: string; message: string }[];
      }
    | Unavailable;
  argocd?: { apps: { name: string; sync: string; health: string }[] } | Unavailable;
  /** Everything healthy and in sync. */
  ok: boolean;
}

function reason(error: unknown): string {
  return (error as { rawMessage?: string }).rawMessage ?? (error as Error).message ?? String(error);
}

/** Reads every layer once; a layer that cannot be read says why instead of failing the whole report. */
export async function collectStatus(
  loaded: LoadedConfig,
  systems: ProjectSystems,
  signal: AbortSignal,
): Promise<StatusReport> {
  const { config } = loaded;
  const report: StatusReport = {
    cluster: config.cluster.name,
    stateDir: systems.state.dir,
    simulated: systems.target.kind === "lab",
    nodes: config.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      address: n.address,
      want: n.talosVersion ?? config.cluster.talosVersion,
    })),
    etcd: { unavailable: "no talosconfig (run `homelab up`)" },
    kubernetes: { unavailable: "no kubeconfig (run `homelab up`)" },
    ok: false,
  };

  if (systems.talosconfig) {
    const controlPlanes = config.nodes.filter((n) => n.role === "controlplane");
    for (const [i, node] of config.nodes.entries()) {
      const row = report.nodes[i] as StatusReport["nodes"][number];
      const client = await nodeClient(systems, node);
      try {
        const [version] = await client.version({ nodes: [node.address] });
        if (!version?.ok) {
          row.error = version ? version.error.message : "no answer";
          continue;
        }
        row.talos = version.value.tag;
        const [services] = await client.serviceList({ nodes: [node.address] });
        if (services?.ok) {
          const state = (id: string) => {
            const s = services.value.find((x) => x.id === id);
            return s ? `${s.state}${s.health.healthy ? "" : " (unhealthy)"}` : undefined;
          };
          const kubelet = state("kubelet");
          if (kubelet) row.kubelet = kubelet;
          const etcd = state("etcd");
          if (etcd && node.role === "controlplane") row.etcd = etcd;
        }
      } catch (error) {
        row.error = reason(error);
      } finally {
        client.close();
      }
    }
    const first = controlPlanes.find((n) => report.nodes.find((r) => r.name === n.name)?.talos);
    if (first) {
      const client = await nodeClient(systems, first);
      try {
        const members = await client.etcdMemberList({ node: first.address });
        report.etcd = { members: members.map((m) => ({ hostname: m.hostname, learner: m.isLearner })) };
      } catch (error) {
        report.etcd = { unavailable: reason(error) };
      } finally {
        client.close();
      }
    } else report.etcd = { unavailable: "no control plane answers" };
  }

  if (systems.kubeconfig) {
    const argo = await loadArgoBootstrap();
    const kube = argo.createKubeClient({ kubeconfig: systems.kubeconfig });
    try {
      await kube.get({ apiVersion: "v1", kind: "Namespace", name: "default" }, { signal });
      report.kubernetes = { apiServer: "ok" };
      if (config.argocd) {
        const { root, children } = await declaredApplications(argo, loaded, config.argocd);
        const apps: { name: string; sync: string; health: string }[] = [];
        for (const name of [root.metadata.name, ...children]) {
          const app = (await kube.get(
            {
              apiVersion: "argoproj.io/v1alpha1",
              kind: "Application",
              namespace: root.metadata.namespace,
              name,
            },
            { signal },
          )) as { status?: { sync?: { status?: string }; health?: { status?: string } } } | undefined;
          apps.push({
            name,
            sync: app ? (app.status?.sync?.status ?? "Unknown") : "Missing",
            health: app ? (app.status?.health?.status ?? "Unknown") : "Missing",
          });
        }
        report.argocd = { apps };
      }
    } catch (error) {
      report.kubernetes = { unavailable: reason(error) };
      if (config.argocd) report.argocd = { unavailable: "the Kubernetes API does not answer" };
    }
  } else if (config.argocd) report.argocd = { unavailable: "no kubeconfig (run `homelab up`)" };

  if (config.tunnel) {
    if (!systems.cloudflare)
      report.tunnel = { unavailable: systems.cloudflareProblem?.rawMessage ?? "no Cloudflare API token" };
    else {
      const cf = await loadCfTunnel();
      const common = {
        client: systems.cloudflare,
        accountId: config.tunnel.accountId,
        zone: config.tunnel.zone,
      };
      try {
        const audit = await cf.audit({
          ...common,
          tunnelName: config.tunnel.name,
          publicHostnames: config.tunnel.routes.filter((r) => r.public).map((r) => r.hostname),
        });
        const plan = await cf.reconcile({
          ...common,
          tunnelName: config.tunnel.name,
          routes: routesOf(config),
          dryRun: true,
          signal,
        });
        const ips = audit.connectors.flatMap((c) => c.originIps);
        report.tunnel = {
          name: config.tunnel.name,
          id: plan.tunnel.id,
          connectors: config.nodes
            .filter((n) => n.tunnel)
            .map((n) => ({ node: n.name, up: ips.includes(n.address) })),
          other: ips.filter((ip) => !config.nodes.some((n) => n.address === ip)),
          routes: config.tunnel.routes.length,
          pending: cf.countChanges(plan.plan),
          findings: audit.findings.map((f) => ({ severity: f.severity, code: f.code, message: f.message })),
        };
      } catch (error) {
        report.tunnel = { unavailable: reason(error) };
      }
    }
  }

  const tunnel = report.tunnel;
  report.ok =
    report.nodes.every((n) => n.talos === n.want && !n.error) &&
    "members" in report.etcd &&
    "apiServer" in report.kubernetes &&
    (tunnel === undefined ||
      ("connectors" in tunnel &&
        tunnel.connectors.every((c) => c.up) &&
        tunnel.pending === 0 &&
        tunnel.findings.every((f) => f.severity !== "error"))) &&
    (report.argocd === undefined ||
      ("apps" in report.argocd &&
        report.argocd.apps.every((a) => a.sync === "Synced" && a.health === "Healthy")));
  return report;
}

/** One screen: a line per node, then etcd, Kubernetes, the tunnel and Argo CD. */
export function renderStatus(
  r: StatusReport,
  style: (color: "green" | "red" | "yellow" | "dim" | "bold", text: string) => string,
): string {
  const good = (text: string) => style("green", text);
  const bad = (text: string) => style("red", text);
  const lines = [
    style("bold", `${r.cluster}${r.simulated ? " (simulated lab)" : ""}`) +
      style("dim", `  state: ${r.stateDir}`),
    "",
  ];
  lines.push(style("bold", "Talos nodes"));
  for (const n of r.nodes) {
    const version = n.error
      ? bad(`unreachable: ${n.error}`)
      : n.talos === undefined
        ? style("dim", "not checked")
        : n.talos === n.want
          ? good(n.talos)
          : style("yellow", `${n.talos} (homelab.yaml: ${n.want})`);
    const services = [n.etcd ? `etcd ${n.etcd}` : "", n.kubelet ? `kubelet ${n.kubelet}` : ""]
      .filter(Boolean)
      .join(", ");
    lines.push(
      `  ${n.name.padEnd(10)} ${n.role.padEnd(12)} ${n.address.padEnd(16)} ${version}${services ? `  ${services}` : ""}`,
    );
  }
  const unavailable = (u: Unavailable) => style("yellow", `unavailable: ${u.unavailable}`);
  lines.push(
    "",
    `${style("bold", "etcd")}        ${
      "members" in r.etcd
        ? good(
            `${r.etcd.members.length} member(s): ${r.etcd.members.map((m) => `${m.hostname}${m.learner ? " (learner)" : ""}`).join(", ")}`,
          )
        : unavailable(r.etcd)
    }`,
    `${style("bold", "Kubernetes")}  ${"apiServer" in r.kubernetes ? good("API server answers") : unavailable(r.kubernetes)}`,
  );
  if (r.tunnel) {
    if ("unavailable" in r.tunnel) lines.push(`${style("bold", "Tunnel")}      ${unavailable(r.tunnel)}`);
    else {
      const t = r.tunnel;
      lines.push(
        `${style("bold", "Tunnel")}      ${t.name} (${t.id || "not created"}): ${t.connectors.map((c) => `${c.node} ${c.up ? good("connected") : bad("no connector")}`).join(", ") || "no node runs cloudflared"}${t.other.length ? `; other connectors: ${t.other.join(", ")}` : ""}`,
        `${style("bold", "DNS/Access")}  ${t.routes} route(s): ${t.pending === 0 ? good("in sync") : style("yellow", `${t.pending} change(s) pending (homelab tunnel sync)`)}`,
        ...t.findings
          .filter((f) => f.severity !== "info")
          .map((f) => `              ${f.severity} ${f.code}: ${f.message}`),
      );
    }
  }
  if (r.argocd) {
    if ("unavailable" in r.argocd) lines.push(`${style("bold", "Argo CD")}     ${unavailable(r.argocd)}`);
    else {
      lines.push(style("bold", "Argo CD"));
      for (const a of r.argocd.apps) {
        const ok = a.sync === "Synced" && a.health === "Healthy";
        lines.push(`  ${a.name.padEnd(24)} ${(ok ? good : bad)(`${a.sync} / ${a.health}`)}`);
      }
    }
  }
  lines.push(
    "",
    r.ok
      ? good("all layers healthy and in sync")
      : style("yellow", "not everything is healthy or in sync (see above)"),
  );
  return lines.join("\n");
}
