import type Cloudflare from "cloudflare";
import { HomelabError } from "../../../errors.js";
import { Secret } from "../../../secret.js";
import { type CfTunnelModule, loadCfTunnel } from "../../adapters/cf-tunnel.js";
import { loadTalosClient } from "../../adapters/talos-client.js";
import { loadTalosConfig } from "../../adapters/talos-config.js";
import type { Invocation } from "../../cli/command.js";
import { runDay2 } from "../../day2/command.js";
import type { Day2Plan, Day2Step } from "../../day2/operation.js";
import { durationOption, rerunCommand } from "../../day2/upgrade-talos.js";
import { desiredNodeConfig } from "../../pipeline/steps/machine-config.js";
import { schematicOf } from "../../plan/schematic.js";
import { clusterAccess } from "../../state/cluster-access.js";
import { loadProject } from "../common.js";
import { projectCloudflare } from "../connect.js";
import { tunnelOf } from "./common.js";
import type { ROTATE_TOKEN_OPTIONS } from "./rotate-token.js";

/** A connector as the connections API lists it. */
interface LiveConnector {
  id: string;
  originIps: string[];
}

async function liveConnectors(
  cf: CfTunnelModule,
  client: Cloudflare,
  tunnel: { accountId: string; zone: string },
  tunnelId: string,
): Promise<LiveConnector[]> {
  const report = await cf.audit({ client, accountId: tunnel.accountId, zone: tunnel.zone, tunnelId });
  return report.connectors.map((c) => ({ id: c.id, originIps: c.originIps }));
}

const ROTATED = "new secret set; connectors on the old secret: ";

/** The connector ids a run recorded as being on the old secret when it rotated (none: not rotated yet). */
function oldConnectorsOf(detail: string | undefined): string[] | undefined {
  if (detail === undefined || !detail.startsWith(ROTATED)) return undefined;
  const list = detail.slice(ROTATED.length);
  return list === "none" ? [] : list.split(",");
}

/**
 * `homelab tunnel rotate-token`: new secret, then one node at a time its cloudflared config with the
 * new token, waiting for that node's connector to be back, then the connections still on the old
 * secret are deleted. Journaled: a stopped roll resumes without rotating again.
 */
export async function runRotateToken(inv: Invocation<typeof ROTATE_TOKEN_OPTIONS>): Promise<number> {
  // the node configs are rendered again, and they carry the tailscale auth key
  const loaded = await loadProject(inv, {
    resolveSecrets: true,
    placeholderSecrets: inv.options.simulate === true,
  });
  const tunnel = tunnelOf(loaded);
  const timeoutMs = durationOption(inv.options["node-timeout"], "node-timeout", 120_000);
  const access = await clusterAccess(inv, loaded);
  const [cf, tc, talosLib] = await Promise.all([loadCfTunnel(), loadTalosConfig(), loadTalosClient()]);
  // the running lab's Cloudflare emulator, else the project's Cloudflare account
  const client = await projectCloudflare(inv, access, loaded);
  const talos = talosLib.createTalosClient({ talosconfig: access.talosconfig, timeoutMs: 30_000 });
  return runDay2(inv, {
    stateDir: access.stateDir,
    operation: "rotate-token",
    simulate: inv.options.simulate === true,
    question: (plan) => `rotate the token of tunnel ${tunnel.name} (${plan.steps.length} step(s))?`,
    finally: () => talos.close(),
    plan: async (previous) => {
      const bundle = tc.secretsFromYaml(await access.secretsYaml());
      const existing = await cf.ensureTunnel({
        client,
        accountId: tunnel.accountId,
        name: tunnel.name,
        withToken: false,
      });
      const nodes = loaded.config.nodes.filter((n) => n.tunnel !== false);
      const goal = `tunnel ${existing.id}`;
      const resuming = previous && previous.finishedAt === undefined && previous.goal === goal;
      const recorded = resuming ? oldConnectorsOf(previous.steps.rotate?.detail) : undefined;
      const before = await liveConnectors(cf, client, tunnel, existing.id);
      // gate: a node with no connector now would be waited for in vain after the rotation
      if (recorded === undefined) {
        const down = nodes.filter((n) => !before.some((c) => c.originIps.includes(n.address)));
        if (down.length > 0)
          throw new HomelabError(
            "COMMAND_FAILED",
            `no cloudflared connector from ${down.map((n) => `${n.name} (${n.address})`).join(", ")}: nothing was rotated`,
            {
              hint: "check `homelab tunnel audit` and the node's ext-cloudflared service (`homelab talos services`), then run rotate-token again",
              details: { nodes: down.map((n) => n.name) },
            },
          );
      }
      // the connectors that authenticated with the old secret: every one up before the rotation
      let oldIds = recorded ?? before.map((c) => c.id);
      let token: Secret | undefined;
      const currentToken = async () => {
        if (!token) {
          const t = await cf.ensureTunnel({ client, accountId: tunnel.accountId, name: tunnel.name });
          token = new Secret(t.token, "cloudflare:tunnel-token");
        }
        return token;
      };
      const schematicId = schematicOf(tc, loaded.config).id;
      const steps: Day2Step[] = [
        {
          id: "rotate",
          kind: "secret",
          description: `set a new secret on tunnel ${tunnel.name}: new connections need the new token, the ${before.length} connector(s) up now stay up`,
          async run() {
            oldIds = (await liveConnectors(cf, client, tunnel, existing.id)).map((c) => c.id);
            const rotated = await cf.rotateTunnelToken({
              client,
              accountId: tunnel.accountId,
              tunnelId: existing.id,
            });
            token = new Secret(rotated.token, "cloudflare:tunnel-token");
            return `${ROTATED}${oldIds.length === 0 ? "none" : oldIds.join(",")}`;
          },
        },
      ];
      for (const node of nodes) {
        steps.push({
          id: `roll:${node.name}`,
          kind: "apply",
          node: node.name,
          description: `${node.name}: cloudflared gets the new token (ExtensionServiceConfig, no reboot); wait until its connector is back`,
          async run(ctx) {
            const desired = desiredNodeConfig(tc, loaded.config, node, {
              bundle,
              schematicId,
              tunnelToken: await currentToken(),
            });
            await talos.applyConfiguration({
              node: node.address,
              data: desired.render(),
              mode: "no-reboot",
            });
            ctx.progress(`config applied; waiting for the connector from ${node.address}`);
            const deadline = ctx.clock.now() + timeoutMs;
            for (;;) {
              const live = await liveConnectors(cf, client, tunnel, existing.id);
              // a connector opened since the rotation can only be on the new secret
              const back = live.find((c) => c.originIps.includes(node.address) && !oldIds.includes(c.id));
              if (back) return `connector ${back.id} up on the new token`;
              if (ctx.clock.now() >= deadline) {
                const left = nodes.slice(nodes.indexOf(node) + 1).map((n) => n.name);
                throw new HomelabError(
                  "COMMAND_FAILED",
                  `the cloudflared connector on ${node.name} did not come back within ${Math.round(timeoutMs / 1000)} s; the roll stopped here${left.length > 0 ? ` (${left.join(", ")} still run the old token and stay connected until they restart)` : ""}`,
                  {
                    hint: `check ${node.name}'s ext-cloudflared service (\`homelab talos services --nodes ${node.address}\`), then run \`homelab tunnel rotate-token\` again to resume`,
                    details: { node: node.name, remaining: left },
                  },
                );
              }
              await ctx.clock.sleep(200, ctx.signal);
            }
          },
        });
      }
      steps.push({
        id: "revoke",
        kind: "secret",
        description: "delete the connections still on the old secret: the old token stops working",
        async run() {
          const live = await liveConnectors(cf, client, tunnel, existing.id);
          const stale = live.filter((c) => oldIds.includes(c.id));
          for (const c of stale)
            await client.zeroTrust.tunnels.cloudflared.connections.delete(existing.id, {
              account_id: tunnel.accountId,
              client_id: c.id,
            });
          return stale.length === 0
            ? "no connection was left on the old secret"
            : `deleted ${stale.length} connection(s) on the old secret (${stale.map((c) => c.originIps.join("/")).join(", ")})`;
        },
      });
      const plan: Day2Plan = {
        operation: "rotate-token",
        command: rerunCommand(inv, "tunnel rotate-token"),
        goal,
        summary: `rotate the token of tunnel ${tunnel.name}, then roll it to ${nodes.length} node(s) one at a time (${nodes.map((n) => n.name).join(", ") || "no node runs cloudflared"})`,
        steps,
      };
      return plan;
    },
  });
}
