import { HomelabError } from "../../../errors.js";
import { createCloudflare, loadCfTunnel } from "../../adapters/cf-tunnel.js";
import type { LoadedConfig } from "../../config/load.js";
import type { Target } from "../../pipeline/target.js";
import { tunnelOf } from "../tunnel/common.js";

/** The tunnel's connections, by the node address they come from (the lab's Cloudflare emulator, or Cloudflare). */
export function tunnelConnections(target: Target, loaded: LoadedConfig) {
  return {
    /** Deletes every connector whose connections come from `address`; resolves to how many. */
    async deleteFrom(address: string): Promise<number> {
      const tunnel = tunnelOf(loaded);
      const { apiToken, baseURL } = target.cloudflare;
      if (!apiToken)
        throw new HomelabError("MISSING_CREDENTIALS", "CLOUDFLARE_API_TOKEN is not set", {
          hint: "the node's cloudflared connections are deleted through the API: set a token with Cloudflare Tunnel:Edit",
        });
      const cf = await loadCfTunnel();
      const client = await createCloudflare({ apiToken, baseURL, maxRetries: 2 });
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
