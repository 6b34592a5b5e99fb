import type Cloudflare from "cloudflare";
import { createCloudflare, loadCfTunnel } from "../../adapters/cf-tunnel.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import type { ClusterAccess } from "../../state/cluster-access.js";
import { cloudflareClient } from "../connect.js";
import { tunnelOf } from "../tunnel/common.js";

/** The Cloudflare client for a project: the running lab's emulator, else the project's API token (cloudflareApiToken). */
export async function projectCloudflare(
  inv: Invocation,
  access: ClusterAccess,
  loaded: LoadedConfig,
): Promise<Cloudflare> {
  if (access.lab)
    return createCloudflare({
      apiToken: access.lab.cloudflare.apiToken,
      baseURL: access.lab.cloudflare.url,
      maxRetries: 2,
    });
  return cloudflareClient(inv, loaded);
}

/** The tunnel's connections, by the node address they come from. */
export function tunnelConnections(inv: Invocation, access: ClusterAccess, loaded: LoadedConfig) {
  return {
    /** Deletes every connector whose connections come from `address`; resolves to how many. */
    async deleteFrom(address: string): Promise<number> {
      const tunnel = tunnelOf(loaded);
      const cf = await loadCfTunnel();
      const client = await projectCloudflare(inv, access, loaded);
      const existing = await cf.ensureTunnel({
        client,
        accountId: tunnel.accountId,
        name: tunnel.name,
        withToken: false,
      });
      const report = await cf.audit({
        client,
        accountId: tunnel.accountId,
        zone: tunnel.zone,
        tunnelId: existing.id,
      });
      const from = report.connectors.filter((c) => c.originIps.includes(address));
      for (const c of from)
        await client.zeroTrust.tunnels.cloudflared.connections.delete(existing.id, {
          account_id: tunnel.accountId,
          client_id: c.id,
        });
      return from.length;
    },
  };
}
