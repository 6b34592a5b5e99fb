import { defineCommand } from "../../cli/command.js";
import { confirm, loadProject } from "../common.js";
import { cloudflareClient } from "../connect.js";
import { reconcileTunnel } from "./common.js";

/** `homelab tunnel sync`: shows the plan, asks when it changes anything (or --yes), then applies. */
export const command = defineCommand({
  name: "sync",
  summary: "Show the tunnel, ingress, DNS and Access changes, ask, then apply them",
  async run(inv) {
    const { out } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const client = await cloudflareClient(inv, loaded);
    const planned = await reconcileTunnel(inv, loaded, client, { dryRun: true, title: "reading Cloudflare" });
    const pending = planned.cf.countChanges(planned.result.plan) + (planned.result.tunnel.id === "" ? 1 : 0);
    if (pending === 0) {
      out.result(
        { tunnel: planned.result.tunnel, changes: 0, applied: false, plan: planned.result.plan },
        () => planned.cf.renderPlan(planned.result.plan),
      );
      return 0;
    }
    out.info(planned.cf.renderPlan(planned.result.plan).trimEnd());
    if (!(await confirm(inv, `apply these ${pending} change(s) to Cloudflare?`))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const { cf, result } = await reconcileTunnel(inv, loaded, client, {
      dryRun: false,
      title: "reconciling tunnel, DNS and Access",
    });
    const changes = cf.countChanges(result.plan);
    out.result({ tunnel: result.tunnel, changes, applied: result.applied, plan: result.plan }, () =>
      cf.renderPlan(result.plan),
    );
    return 0;
  },
});
