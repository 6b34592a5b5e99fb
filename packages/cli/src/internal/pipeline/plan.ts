import { join } from "node:path";
import type Cloudflare from "cloudflare";
import { Secret } from "../../secret.js";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { createCloudflare, loadCfTunnel } from "../adapters/cf-tunnel.js";
import { loadTalosClient } from "../adapters/talos-client.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { Output } from "../cli/output.js";
import type { LoadedConfig } from "../config/load.js";
import { routesOf } from "../plan/routes.js";
import { schematicOf } from "../plan/schematic.js";
import { readOptional, readProgress } from "./state.js";
import type { Target } from "./target.js";
import { countPlanChanges, desiredNodeConfig, secretsHashOf } from "./up.js";

/** One layer's part of the change set. */
export interface PlanItem {
  layer: "talos" | "tunnel" | "argocd" | "tofu";
  subject: string;
  change: "none" | "create" | "update" | "unknown";
  detail: string;
}

/** The change set across every layer. */
export interface PlanResult {
  cluster: string;
  /** Items that are not "none" (unknown counts: it may change). */
  changes: number;
  items: PlanItem[];
}

/**
 * Computes what `up` would change, without changing anything: per-node Talos configs (a dry-run
 * ApplyConfiguration against nodes that answer), the tunnel/DNS/Access plan, the Argo CD release.
 */
export async function runPlan(options: {
  loaded: LoadedConfig;
  stateDir: string;
  target: Target;
  out: Output;
  signal: AbortSignal;
}): Promise<PlanResult> {
  const { loaded, stateDir, target, out } = options;
  const { config } = loaded;
  const items: PlanItem[] = [];
  const tc = await loadTalosConfig();
  const talosLib = await loadTalosClient();
  const progress = await readProgress(stateDir);
  const secretsText = await readOptional(join(stateDir, "secrets.yaml"));
  const talosconfig = await readOptional(join(stateDir, "talosconfig"));
  let cfClient: Cloudflare | undefined;
  let tunnelToken: Secret | undefined;

  if (config.tunnel) {
    const cf = await loadCfTunnel();
    if (!target.cloudflare.apiToken) {
      items.push({
        layer: "tunnel",
        subject: config.tunnel.name,
        change: "unknown",
        detail: "CLOUDFLARE_API_TOKEN is not set: tunnel not planned",
      });
    } else {
      cfClient = await createCloudflare({
        apiToken: target.cloudflare.apiToken,
        baseURL: target.cloudflare.baseURL,
        maxRetries: 0,
      });
      const result = await cf.reconcile({
        client: cfClient,
        accountId: config.tunnel.accountId,
        zone: config.tunnel.zone,
        tunnelName: config.tunnel.name,
        routes: routesOf(config),
        dryRun: true,
        signal: options.signal,
      });
      const n = countPlanChanges(result.plan);
      if (!result.tunnel.id)
        items.push({
          layer: "tunnel",
          subject: config.tunnel.name,
          change: "create",
          detail: "tunnel does not exist yet",
        });
      items.push({
        layer: "tunnel",
        subject: `${config.tunnel.zone} routes`,
        change: n > 0 ? "update" : "none",
        detail: n > 0 ? cf.renderPlan(result.plan).trim() : "ingress, DNS and Access up to date",
      });
      if (result.tunnel.id) {
        // the tunnel exists, so this only reads its token: node configs can then be compared exactly
        const existing = await cf.ensureTunnel({
          client: cfClient,
          accountId: config.tunnel.accountId,
          name: config.tunnel.name,
        });
        tunnelToken = new Secret(existing.token, "cloudflare:tunnel-token");
      }
    }
  }

  const schematic = schematicOf(tc, config);
  for (const node of config.nodes) {
    if (!secretsText || !talosconfig) {
      items.push({
        layer: "talos",
        subject: node.name,
        change: "create",
        detail: "no state yet: machine config will be generated and applied",
      });
      continue;
    }
    const desired = desiredNodeConfig(tc, config, node, {
      bundle: tc.secretsFromYaml(secretsText),
      secretsHash: secretsHashOf(secretsText),
      schematicId: schematic.id,
      tunnelToken,
    });
    const endpoint = target.talosEndpoint(node);
    const client = talosLib.createTalosClient({
      talosconfig,
      endpoints: [endpoint],
      nodes: [node.address],
      timeoutMs: 10_000,
    });
    try {
      if (progress.nodes[node.name]?.configHash === desired.inputsHash) {
        await client.version({ nodes: [node.address] }).then((r) => {
          if (!r[0]?.ok) throw r[0]?.error;
        });
        items.push({ layer: "talos", subject: node.name, change: "none", detail: "config up to date" });
        continue;
      }
      const result = await client.applyConfiguration({
        node: node.address,
        data: desired.render(),
        mode: "auto",
        dryRun: true,
      });
      items.push({
        layer: "talos",
        subject: node.name,
        change: "update",
        detail: result.modeDetails || "config differs (dry run)",
      });
    } catch {
      items.push({
        layer: "talos",
        subject: node.name,
        change: "create",
        detail: "node not configured or unreachable: config will be applied (maintenance mode)",
      });
    } finally {
      client.close();
    }
  }

  if (config.argocd) {
    const kubeconfig = await readOptional(join(stateDir, "kubeconfig"));
    const argo = await loadArgoBootstrap();
    if (!kubeconfig) {
      items.push({
        layer: "argocd",
        subject: "argo-cd release",
        change: "create",
        detail: `install chart ${config.argocd.chartVersion} and the root app`,
      });
    } else {
      const helm = argo.createHelm({ run: target.helm, kubeconfigPath: join(stateDir, "kubeconfig") });
      const release = await helm
        .getRelease({ release: "argocd", namespace: config.argocd.namespace })
        .catch(() => undefined);
      const version = release?.chartVersion;
      items.push(
        version === config.argocd.chartVersion
          ? {
              layer: "argocd",
              subject: "argo-cd release",
              change: "none",
              detail: `chart ${version} installed`,
            }
          : {
              layer: "argocd",
              subject: "argo-cd release",
              change: release ? "update" : "create",
              detail: `${version ?? "not installed"} -> ${config.argocd.chartVersion}`,
            },
      );
    }
  }
  void out;
  return { cluster: config.cluster.name, changes: items.filter((i) => i.change !== "none").length, items };
}
