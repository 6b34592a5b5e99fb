import { dirname, join } from "node:path";
import { HomelabError } from "../../../errors.js";
import { Secret } from "../../../secret.js";
import { loadCfTunnel } from "../../adapters/cf-tunnel.js";
import { loadTalosClient } from "../../adapters/talos-client.js";
import { loadTalosConfig } from "../../adapters/talos-config.js";
import { defineCommand, type Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { readOptional } from "../../pipeline/state.js";
import { desiredNodeConfig } from "../../pipeline/steps/machine-config.js";
import { schematicOf } from "../../plan/schematic.js";
import { locateTalosconfig, projectStateSecrets } from "../../state/locate.js";
import { confirm, loadProject, stateDirOf } from "../common.js";
import { cloudflareClient } from "../connect.js";
import { TALOS_CONNECTION } from "../options.js";
import { tunnelOf } from "./common.js";

async function rotate(inv: Invocation, loaded: LoadedConfig): Promise<number> {
  const { out, ctx } = inv;
  const { config } = loaded;
  const tunnel = tunnelOf(loaded);
  const cf = await loadCfTunnel();
  const tc = await loadTalosConfig();
  const talosLib = await loadTalosClient();
  const client = await cloudflareClient(inv, loaded);
  const found = await locateTalosconfig(inv, loaded);
  const talosconfig = await found?.read();
  if (!found || !talosconfig)
    throw new HomelabError(
      "MISSING_CREDENTIALS",
      `no talosconfig at ${found?.path ?? join(stateDirOf(inv, loaded), "talosconfig")}`,
      { hint: "run `homelab up` first, or pass --talosconfig" },
    );
  const path = found.path;
  // the machine secrets sit beside the talosconfig: in the same SOPS file, or the same directory
  const secretsText =
    found.source === "sops"
      ? await (await projectStateSecrets(inv, loaded)).read("secrets.yaml")
      : await readOptional(join(dirname(path), "secrets.yaml"));
  if (!secretsText)
    throw new HomelabError(
      "STATE_INVALID",
      `no secrets.yaml next to ${path}: the node configs cannot be rebuilt`,
      {
        hint: "rotate-token re-renders each node's config, so it needs the state directory `homelab up` wrote",
      },
    );
  const bundle = tc.secretsFromYaml(secretsText);
  const nodes = config.nodes.filter((n) => n.tunnel);
  out.info(
    `rotate-token gives tunnel ${tunnel.name} a new secret: the current token stops working, then each node's cloudflared gets the new one (${nodes.map((n) => n.name).join(", ") || "no node runs cloudflared"}).`,
  );
  if (!(await confirm(inv, `rotate the token of tunnel ${tunnel.name}?`))) {
    out.info("aborted: nothing changed");
    return 1;
  }
  const existing = await cf.ensureTunnel({ client, accountId: tunnel.accountId, name: tunnel.name });
  const rotated = await cf.rotateTunnelToken({ client, accountId: tunnel.accountId, tunnelId: existing.id });
  const token = new Secret(rotated.token, "cloudflare:tunnel-token");
  out.info(`tunnel ${tunnel.name}: new secret set; rolling the token out one node at a time`);
  const schematic = schematicOf(tc, config);
  const talos = talosLib.createTalosClient({ talosconfig, timeoutMs: 30_000 });
  const rolled: { node: string; connector: boolean }[] = [];
  try {
    for (const node of nodes) {
      const step = out.step(`${node.name}: cloudflared token`);
      const desired = desiredNodeConfig(tc, config, node, {
        bundle,
        schematicId: schematic.id,
        tunnelToken: token,
      });
      await talos.applyConfiguration({ node: node.address, data: desired.render(), mode: "no-reboot" });
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

/** `homelab tunnel rotate-token`: asks first (the old token stops working), then rolls node by node. */
export const command = defineCommand({
  name: "rotate-token",
  summary: "Give the tunnel a new secret and roll it to each node's cloudflared, one node at a time",
  options: { ...TALOS_CONNECTION },
  async run(inv) {
    // rotate-token re-renders node configs, which carry the tailscale auth key
    const loaded = await loadProject(inv, { resolveSecrets: true });
    return rotate(inv, loaded);
  },
});
