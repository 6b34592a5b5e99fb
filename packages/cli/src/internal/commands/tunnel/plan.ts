import { defineCommand } from "../../cli/command.js";
import { loadProject } from "../common.js";
import { cloudflareClient } from "../connect.js";
import { reconcileTunnel } from "./common.js";

/** `homelab tunnel plan`: exit 0 no changes, 2 changes, 1 error (the same contract as `homelab plan`). */
export const command = defineCommand({
  name: "plan",
  summary: "What `tunnel sync` would change (exit 0 none, 2 changes, 1 error)",
  async run(inv) {
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const client = await cloudflareClient(inv, loaded);
    const { cf, result } = await reconcileTunnel(inv, loaded, client, {
      dryRun: true,
      title: "reading Cloudflare",
    });
    const changes = cf.countChanges(result.plan) + (result.tunnel.id === "" ? 1 : 0);
    inv.out.result({ tunnel: result.tunnel, changes, applied: false, plan: result.plan }, () =>
      cf.renderPlan(result.plan),
    );
    return changes > 0 ? 2 : 0;
  },
});
