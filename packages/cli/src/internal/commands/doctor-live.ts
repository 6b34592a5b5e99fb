import { join } from "node:path";
import { loadCfTunnel } from "../adapters/cf-tunnel.js";
import { loadTalosClient } from "../adapters/talos-client.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { locateTalosconfig, projectState } from "../state/locate.js";
import { projectSystems } from "../state/systems.js";
import type { Finding } from "./finding.js";

function live(severity: Finding["severity"], code: string, path: string, message: string): Finding {
  return { source: "live", severity, code, path, message };
}

/** `doctor --live`: reachability and versions of every node, cluster health, tunnel audit. */
export async function liveChecks(inv: Invocation, loaded: LoadedConfig): Promise<Finding[]> {
  const { config } = loaded;
  const findings: Finding[] = [];
  const { dir } = await projectState(inv, loaded);
  const found = await locateTalosconfig(inv, loaded);
  const path = found?.path ?? (loaded.secrets ? loaded.secrets.path : join(dir, "talosconfig"));
  const talosconfig = await found?.read();
  if (!talosconfig) {
    findings.push(
      live("error", "NO_TALOSCONFIG", "talos", `no talosconfig (looked at ${path}): nodes cannot be checked`),
    );
  } else {
    const lib = await loadTalosClient();
    const client = lib.createTalosClient({ talosconfig, timeoutMs: 10_000 });
    try {
      const results = await client.version({ nodes: config.nodes.map((n) => n.address) });
      for (const node of config.nodes) {
        const r = results.find((x) => x.node === node.address || x.node.startsWith(`${node.address}:`));
        const want = node.talosVersion ?? config.cluster.talosVersion;
        if (!r?.ok)
          findings.push(
            live(
              "error",
              "UNREACHABLE",
              node.name,
              `${node.address} does not answer over mTLS${r && !r.ok ? `: ${r.error.message}` : ""}`,
            ),
          );
        else if (r.value.tag !== want)
          findings.push(
            live("warning", "VERSION_DRIFT", node.name, `runs ${r.value.tag}, homelab.yaml says ${want}`),
          );
        else findings.push(live("info", "REACHABLE", node.name, `${node.address} runs ${r.value.tag}`));
      }
      const cps = config.nodes.filter((n) => n.role === "controlplane").map((n) => n.address);
      const workers = config.nodes.filter((n) => n.role === "worker").map((n) => n.address);
      try {
        await client.waitForHealthy({
          controlPlaneNodes: cps,
          workerNodes: workers,
          timeoutMs: 10_000,
          signal: inv.ctx.signal,
        });
        findings.push(live("info", "HEALTHY", "cluster", "etcd, services and nodes are healthy"));
      } catch (error) {
        findings.push(
          live(
            "error",
            "UNHEALTHY",
            "cluster",
            (error as { rawMessage?: string }).rawMessage ?? (error as Error).message,
          ),
        );
      }
    } catch (error) {
      findings.push(live("error", "UNREACHABLE", "talos", (error as Error).message));
    } finally {
      client.close();
    }
  }
  if (config.tunnel) {
    // the same client `status` uses: the lab's emulator, or the project's token
    const { cloudflare: client, cloudflareProblem } = await projectSystems(inv, loaded);
    if (!client) {
      findings.push(
        live(
          "warning",
          "NO_CLOUDFLARE_TOKEN",
          "tunnel",
          `${cloudflareProblem?.rawMessage ?? "no Cloudflare API token"}: tunnel not audited`,
        ),
      );
    } else {
      const cf = await loadCfTunnel();
      try {
        const report = await cf.audit({
          client,
          accountId: config.tunnel.accountId,
          zone: config.tunnel.zone,
          tunnelName: config.tunnel.name,
          publicHostnames: config.tunnel.routes.filter((r) => r.public).map((r) => r.hostname),
        });
        for (const f of report.findings)
          findings.push(live(f.severity, f.code, f.hostname ?? "tunnel", f.message));
        findings.push(live("info", "CONNECTORS", "tunnel", `${report.connectors.length} connector(s) up`));
      } catch (error) {
        findings.push(
          live(
            "error",
            "TUNNEL_AUDIT_FAILED",
            "tunnel",
            (error as { rawMessage?: string }).rawMessage ?? (error as Error).message,
          ),
        );
      }
    }
  }
  return findings;
}
