import { HomelabError } from "../../../errors.js";
import { Secret } from "../../../secret.js";
import {
  createCloudflare,
  type Plan,
  type ProgressEvent,
  type ReconcileResult,
} from "../../adapters/cf-tunnel.js";
import { retryOf } from "../../cli/output.js";
import { routesOf } from "../../plan/routes.js";
import { missingCloudflareToken } from "../../secrets/cloudflare-token.js";
import { type Change, failureOf, type Step, type StepContext } from "../step.js";

/** The Cloudflare client of this run (built once; the lab's emulator has no retries to wait for). */
export async function cloudflareOf(ctx: StepContext) {
  if (ctx.found.cloudflare) return ctx.found.cloudflare;
  if (!ctx.target.cloudflare.apiToken)
    throw missingCloudflareToken("the tunnel, DNS and Access cannot be reconciled");
  ctx.found.cloudflare = await createCloudflare({
    apiToken: ctx.target.cloudflare.apiToken,
    baseURL: ctx.target.cloudflare.baseURL,
    maxRetries: ctx.target.kind === "lab" ? 0 : 2,
  });
  return ctx.found.cloudflare;
}

function tunnelOf(ctx: StepContext) {
  const cf = ctx.libs.cf;
  const tunnel = ctx.config.tunnel;
  if (!cf || !tunnel) throw new HomelabError("USAGE", "homelab.yaml has no 'tunnel' section");
  return { cf, tunnel };
}

/** cf-tunnel's reconcile of homelab.yaml's routes (`dryRun`: the plan only), waiting on `ctx.clock`. */
export async function reconcileRoutes(
  ctx: StepContext,
  options: { dryRun?: boolean; onProgress?: (event: ProgressEvent) => void },
): Promise<ReconcileResult> {
  const { cf, tunnel } = tunnelOf(ctx);
  return cf.reconcile({
    client: await cloudflareOf(ctx),
    accountId: tunnel.accountId,
    zone: tunnel.zone,
    tunnelName: tunnel.name,
    routes: routesOf(ctx.config),
    ...options,
    signal: ctx.signal,
    retry: { sleep: ctx.clock.sleep },
  });
}

/** Finds (or creates) the tunnel and reads its token, waiting on `ctx.clock`. */
async function ensureTunnel(ctx: StepContext, onProgress?: (event: ProgressEvent) => void) {
  const { cf, tunnel } = tunnelOf(ctx);
  return cf.ensureTunnel({
    client: await cloudflareOf(ctx),
    accountId: tunnel.accountId,
    name: tunnel.name,
    signal: ctx.signal,
    retry: { sleep: ctx.clock.sleep },
    ...(onProgress ? { onProgress } : {}),
  });
}

/** Reads Cloudflare once per plan: the tunnel, its ingress, DNS and Access (kept for tunnel-routes). */
export async function readTunnelPlan(ctx: StepContext): Promise<{ plan: Plan; tunnelId: string }> {
  const result = await reconcileRoutes(ctx, { dryRun: true });
  return { plan: result.plan, tunnelId: result.tunnel.id };
}

/** The remotely managed tunnel; its token goes into each node's cloudflared config. */
export const tunnelStep: Step = {
  id: "tunnel",
  title: "Cloudflare tunnel",
  async plan(ctx) {
    const tunnel = ctx.config.tunnel;
    const cf = ctx.libs.cf;
    if (!tunnel || !cf) return [];
    const subject = `tunnel ${tunnel.name}`;
    try {
      const { plan, tunnelId } = await readTunnelPlan(ctx);
      ctx.found.tunnelPlan = plan;
      if (tunnelId === "")
        return [{ id: "tunnel", step: "tunnel", subject, action: "create", summary: "create the tunnel" }];
      // the tunnel exists: this reads its token (node configs are then compared exactly)
      const existing = await ensureTunnel(ctx);
      ctx.found.tunnelId = existing.id;
      ctx.found.tunnelToken = new Secret(existing.token, "cloudflare:tunnel-token");
      return [{ id: "tunnel", step: "tunnel", subject, action: "none", summary: `exists (${existing.id})` }];
    } catch (error) {
      return [failureOf("tunnel", "tunnel", subject, error)];
    }
  },
  async apply(ctx, change: Change) {
    const tunnel = ctx.config.tunnel;
    const cf = ctx.libs.cf;
    if (!tunnel || !cf) return "no tunnel";
    // retries are shown once per burst (a 5xx storm used to be silent here)
    const result = await ensureTunnel(ctx, (e) => {
      const retry = retryOf(e);
      if (retry) ctx.out.retry(retry);
    });
    ctx.found.tunnelId = result.id;
    ctx.found.tunnelToken = new Secret(result.token, "cloudflare:tunnel-token");
    ctx.progress.tunnel = { id: result.id, name: result.name };
    await ctx.saveProgress();
    return `tunnel ${result.name}: ${result.created ? "created" : "exists"} (${result.id})${change.action === "none" ? "" : ""}`;
  },
};
