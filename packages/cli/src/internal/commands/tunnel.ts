import { dirname, join } from "node:path";
import { HomelabError } from "../../errors.js";
import { Secret } from "../../secret.js";
import { loadCfTunnel } from "../adapters/cf-tunnel.js";
import { loadTalosClient } from "../adapters/talos-client.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { Invocation, RunFn } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import { readOptional, readProgress, writeProgress } from "../pipeline/state.js";
import { countPlanChanges, desiredNodeConfig, secretsHashOf } from "../pipeline/up.js";
import { routesOf } from "../plan/routes.js";
import { schematicOf } from "../plan/schematic.js";
import { loadProject, stateDirOf } from "./common.js";
import { cloudflareClient, talosconfigPath } from "./connect.js";

function tunnelOf(loaded: LoadedConfig) {
  const tunnel = loaded.config.tunnel;
  if (!tunnel) throw new HomelabError("USAGE", "homelab.yaml has no 'tunnel' section");
  return tunnel;
}

async function rotate(inv: Invocation, loaded: LoadedConfig): Promise<number> {
  const { out, ctx } = inv;
  const { config } = loaded;
  const tunnel = tunnelOf(loaded);
  const cf = await loadCfTunnel();
  const tc = await loadTalosConfig();
  const talosLib = await loadTalosClient();
  const client = await cloudflareClient(inv);
  const path = (await talosconfigPath(inv)) ?? join(stateDirOf(inv, loaded), "talosconfig");
  const talosconfig = await readOptional(path);
  if (!talosconfig)
    throw new HomelabError("MISSING_CREDENTIALS", `no talosconfig at ${path}`, {
      hint: "run `homelab up` first, or pass --talosconfig",
    });
  const stateDir = dirname(path);
  const secretsText = await readOptional(join(stateDir, "secrets.yaml"));
  if (!secretsText)
    throw new HomelabError(
      "STATE_INVALID",
      `no secrets.yaml next to ${path}: the node configs cannot be rebuilt`,
      {
        hint: "rotate-token re-renders each node's config, so it needs the state directory `homelab up` wrote",
      },
    );
  const bundle = tc.secretsFromYaml(secretsText);
  const existing = await cf.ensureTunnel({ client, accountId: tunnel.accountId, name: tunnel.name });
  const rotated = await cf.rotateTunnelToken({ client, accountId: tunnel.accountId, tunnelId: existing.id });
  const token = new Secret(rotated.token, "cloudflare:tunnel-token");
  out.info(`tunnel ${tunnel.name}: new secret set; rolling the token out one node at a time`);
  const progress = await readProgress(stateDir);
  const schematic = schematicOf(tc, config);
  const talos = talosLib.createTalosClient({ talosconfig, timeoutMs: 30_000 });
  const rolled: { node: string; connector: boolean }[] = [];
  try {
    for (const node of config.nodes.filter((n) => n.tunnel)) {
      const step = out.step(`${node.name}: cloudflared token`);
      const desired = desiredNodeConfig(tc, config, node, {
        bundle,
        secretsHash: secretsHashOf(secretsText),
        schematicId: schematic.id,
        tunnelToken: token,
      });
      await talos.applyConfiguration({ node: node.address, data: desired.render(), mode: "no-reboot" });
      progress.nodes[node.name] = { configHash: desired.inputsHash, appliedAt: new Date().toISOString() };
      await writeProgress(stateDir, progress);
      // wait for this node's connector to be back before touching the next one
      const deadline = ctx.clock.now() + 120_000;
      let back = false;
      while (!back && ctx.clock.now() < deadline) {
        await ctx.clock.sleep(100, ctx.signal);
        const report = await cf.audit({
          client,
          accountId: tunnel.accountId,
          zone: tunnel.zone,
          tunnelId: existing.id,
        });
        back = report.connectors.some((c) => c.originIps.includes(node.address));
      }
      if (!back) {
        step.fail(`${node.name}: connector did not come back`);
        throw new HomelabError(
          "COMMAND_FAILED",
          `the cloudflared connector on ${node.name} did not reconnect within 120 s; stopping before the next node`,
        );
      }
      step.done(`${node.name}: new token applied, connector back`);
      rolled.push({ node: node.name, connector: true });
    }
  } finally {
    talos.close();
  }
  out.result(
    { tunnel: { id: existing.id, name: tunnel.name }, rotated: true, nodes: rolled },
    () =>
      `tunnel ${tunnel.name}: token rotated; ${rolled.length} node(s) updated (${rolled.map((r) => r.node).join(", ") || "none run cloudflared"})`,
  );
  return 0;
}

/** `homelab tunnel <plan|sync|audit|rotate-token>` */
export const run: RunFn = async (inv) => {
  const { out, path } = inv;
  const verb = path[1];
  // rotate-token re-renders node configs, which carry the tailscale auth key
  const loaded = await loadProject(inv, { resolveSecrets: verb === "rotate-token" });
  const tunnel = tunnelOf(loaded);
  if (verb === "rotate-token") return rotate(inv, loaded);
  const cf = await loadCfTunnel();
  const client = await cloudflareClient(inv);
  if (verb === "audit") {
    const publicHostnames = tunnel.routes.filter((r) => r.public).map((r) => r.hostname);
    const report = await cf.audit({
      client,
      accountId: tunnel.accountId,
      zone: tunnel.zone,
      tunnelName: tunnel.name,
      publicHostnames,
    });
    out.result(report, () =>
      [
        `tunnel ${tunnel.name}: ${report.ok ? "ok" : "problems found"}; ${report.connectors.length} connector(s)${report.connectors.length ? ` (${report.connectors.flatMap((c) => c.originIps).join(", ")})` : ""}`,
        ...report.findings.map((f) => `  ${f.severity} ${f.code}: ${f.message}`),
      ].join("\n"),
    );
    return report.ok ? 0 : 1;
  }
  const step = out.step(verb === "plan" ? "reading Cloudflare" : "reconciling tunnel, DNS and Access");
  const result = await cf
    .reconcile({
      client,
      accountId: tunnel.accountId,
      zone: tunnel.zone,
      tunnelName: tunnel.name,
      routes: routesOf(loaded.config),
      dryRun: verb === "plan",
      onProgress: (e) => step.update(e),
      signal: inv.ctx.signal,
    })
    .catch((error: unknown) => {
      step.fail();
      throw error;
    });
  const changes = countPlanChanges(result.plan);
  step.done(
    verb === "plan"
      ? `${changes} change(s) planned`
      : result.applied
        ? `${changes} change(s) applied`
        : "nothing to change",
  );
  out.result({ tunnel: result.tunnel, changes, applied: result.applied, plan: result.plan }, () =>
    cf.renderPlan(result.plan),
  );
  return 0;
};
