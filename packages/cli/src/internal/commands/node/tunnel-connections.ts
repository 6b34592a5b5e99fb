import { loadCfTunnel } from "../../adapters/cf-tunnel.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import type { ClusterAccess } from "../../state/cluster-access.js";
import { projectCloudflare } from "../connect.js";
import { tunnelOf } from "../tunnel/common.js";

/** The tunnel's connections, by the node address they come from. */
export function tunnelConnections(inv: Invocation, access: ClusterAccess, loaded: LoadedConfig) {
  return {
    /** Deletes every connector whose connections come from `address`; resolves to how many. */
    async deleteFrom(address: string): Promise<number> {
      const tunnel = tunnelOf(loaded);
      const cf = await loadCfTunnel();
      const client = await projectCloudflare(inv, access);
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
