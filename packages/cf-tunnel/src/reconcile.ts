import { type ApplyResult, applyPlan } from "./apply.js";
import { readCurrent } from "./current.js";
import { CfTunnelError } from "./errors.js";
import { createRetrier, sharingRetrier } from "./internal/call.js";
import { plan as makePlan, type Plan } from "./plan.js";
import { validateRoutes } from "./routes.js";
import { createTunnel, findTunnel } from "./tunnel.js";
import type { ClientOptions, RouteInput } from "./types.js";

/** Options for {@link reconcile}. */
export interface ReconcileOptions extends ClientOptions {
  accountId: string;
  zone: string;
  tunnelName: string;
  routes: RouteInput[];
  /** Plan only: nothing is written (not even the tunnel). */
  dryRun?: boolean;
  /** DNS changes per batch request (default 200). */
  batchSize?: number;
}

/** Result of {@link reconcile}. */
export interface ReconcileResult {
  tunnel: { id: string; name: string; created: boolean };
  plan: Plan;
  applied: boolean;
  /** Present when the plan was applied. */
  apply?: ApplyResult;
}

/**
 * Makes Cloudflare match the routes: validates them, finds or creates the remotely managed tunnel, reads the
 * current state, plans and applies in gap-free order. Conflicts are reported before any change (also before the
 * tunnel is created). A no-op reconcile makes no writes.
 *
 * @example
 * ```ts
 * const result = await reconcile({ client, accountId, zone: "example.com", tunnelName: "homelab", routes });
 * console.log(renderPlan(result.plan));
 * ```
 * @throws CfTunnelError `INVALID_ROUTE`, `UNPROTECTED_ROUTE` (before any request), `CONFLICT` (details.conflicts,
 *   details.plan), `NOT_FOUND` (zone), `UNAUTHORIZED` (naming the missing permission), `RATE_LIMITED`,
 *   `API_ERROR`, `ABORTED`.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const desired = validateRoutes({ zone: options.zone, routes: options.routes });
  const retrier = createRetrier(options);
  const { client, accountId, tunnelName } = options;
  const common = sharingRetrier(
    {
      client,
      accountId,
      zone: desired.zone,
      tunnelName,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    },
    retrier,
  );
  const planOptions = options.batchSize === undefined ? {} : { batchSize: options.batchSize };
  let tunnel = (await findTunnel(retrier, { client, accountId, name: tunnelName })) ?? null;
  let created = false;
  let current = await readCurrent({ ...common, tunnel });
  let result = makePlan(current, desired, planOptions);
  const refuse = (p: Plan) =>
    new CfTunnelError(
      "CONFLICT",
      `${p.conflicts.length} conflict(s); nothing was changed: ${p.conflicts.map((c) => `${c.hostname}: ${c.message}`).join("; ")}`,
      { details: { conflicts: p.conflicts, plan: p } },
    );
  if (options.dryRun) {
    return {
      tunnel: { id: tunnel?.id ?? "", name: tunnelName, created: false },
      plan: result,
      applied: false,
    };
  }
  if (result.conflicts.length > 0) throw refuse(result);
  if (!tunnel) {
    tunnel = await createTunnel(retrier, { client, accountId, name: tunnelName });
    created = true;
    retrier.emit({
      type: "tunnel.created",
      message: `created tunnel ${tunnelName} (${tunnel.id})`,
      tunnelId: tunnel.id,
    });
    // A new tunnel has no ingress and no record can point at it yet: the state read before still holds.
    current = { ...current, tunnel, ingress: [], configVersion: null };
    result = makePlan(current, desired, planOptions);
    if (result.conflicts.length > 0) throw refuse(result);
  }
  retrier.emit({
    type: "plan",
    message: result.hasChanges ? "applying changes" : "no changes",
    hasChanges: result.hasChanges,
  });
  if (!result.hasChanges) {
    return { tunnel: { id: tunnel.id, name: tunnelName, created }, plan: result, applied: false };
  }
  const apply = await applyPlan({ ...common, plan: result });
  return { tunnel: { id: tunnel.id, name: tunnelName, created }, plan: result, applied: true, apply };
}
