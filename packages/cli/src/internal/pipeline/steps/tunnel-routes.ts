import { failureOf, type Step } from "../step.js";
import { readTunnelPlan, reconcileRoutes } from "./tunnel.js";

/** Ingress rules, DNS records and Access, planned by cf-tunnel against what Cloudflare holds. */
export const tunnelRoutesStep: Step = {
  id: "tunnel-routes",
  title: "tunnel, DNS and Access",
  ownProgress: true,
  async plan(ctx) {
    const tunnel = ctx.config.tunnel;
    const cf = ctx.libs.cf;
    if (!tunnel || !cf) return [];
    const subject = `${tunnel.zone} routes`;
    try {
      const plan = ctx.found.tunnelPlan ?? (await readTunnelPlan(ctx)).plan;
      const n = cf.countChanges(plan);
      if (n === 0)
        return [
          {
            id: "tunnel-routes",
            step: "tunnel-routes",
            subject,
            action: "none",
            summary: "ingress, DNS and Access up to date",
          },
        ];
      return [
        {
          id: "tunnel-routes",
          step: "tunnel-routes",
          subject,
          action: "update",
          summary: `${n} change(s)`,
          diff: cf.renderPlan(plan).trimEnd(),
        },
      ];
    } catch (error) {
      return [failureOf("tunnel-routes", "tunnel-routes", subject, error)];
    }
  },
  async apply(ctx) {
    const tunnel = ctx.config.tunnel;
    const cf = ctx.libs.cf;
    if (!tunnel || !cf) return "no tunnel";
    const step = ctx.out.step("tunnel ingress, DNS and Access");
    try {
      const result = await reconcileRoutes(ctx, { onProgress: (e) => step.update(e) });
      const n = cf.countChanges(result.plan);
      step.done(`tunnel routes: ${n === 0 ? "up to date" : `${n} change(s) applied`}`);
      return n === 0 ? "up to date" : `${n} change(s)`;
    } catch (error) {
      if (ctx.signal.aborted) step.interrupted();
      else step.fail();
      throw error;
    }
  },
};
