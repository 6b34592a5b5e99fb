import type Cloudflare from "cloudflare";
import { HomelabError } from "../../../errors.js";
import { type CfTunnelModule, loadCfTunnel, type ReconcileResult } from "../../adapters/cf-tunnel.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { routesOf } from "../../plan/routes.js";

/** The `tunnel` section, or a usage error when homelab.yaml has none. */
export function tunnelOf(loaded: LoadedConfig) {
  const tunnel = loaded.config.tunnel;
  if (!tunnel) throw new HomelabError("USAGE", "homelab.yaml has no 'tunnel' section");
  return tunnel;
}

/** Reads Cloudflare and plans the tunnel, ingress, DNS and Access (`dryRun`), or applies it. */
export async function reconcileTunnel(
  inv: Invocation,
  loaded: LoadedConfig,
  client: Cloudflare,
  options: { dryRun: boolean; title: string },
): Promise<{ cf: CfTunnelModule; result: ReconcileResult }> {
  const tunnel = tunnelOf(loaded);
  const cf = await loadCfTunnel();
  const step = inv.out.step(options.title);
  const result = await cf
    .reconcile({
      client,
      accountId: tunnel.accountId,
      zone: tunnel.zone,
      tunnelName: tunnel.name,
      routes: routesOf(loaded.config),
      dryRun: options.dryRun,
      onProgress: (e) => step.update(e),
      signal: inv.ctx.signal,
    })
    .catch((error: unknown) => {
      step.fail();
      throw error;
    });
  step.done(options.title);
  return { cf, result };
}
