import type { BatchPutParam, CNAMERecordParam, RecordBatchParams } from "cloudflare/resources/dns/records";
import type {
  ApplicationCreateParams,
  ApplicationUpdateParams,
} from "cloudflare/resources/zero-trust/access/applications/applications";
import type { PolicyCreateParams } from "cloudflare/resources/zero-trust/access/policies";
import type { ConfigurationUpdateParams } from "cloudflare/resources/zero-trust/tunnels/cloudflared/configurations";
import { listAccessApps, listAccessPolicies, listDnsRecords } from "./current.js";
import { CfTunnelError } from "./errors.js";
import { createRetrier, PERMISSIONS, type Retrier } from "./internal/call.js";
import { ingressEqual, type Plan } from "./plan.js";
import type { ClientOptions, IngressRule } from "./types.js";

/** Options for {@link applyPlan}. */
export interface ApplyPlanOptions extends ClientOptions {
  plan: Plan;
}

/** What {@link applyPlan} did. */
export interface ApplyResult {
  /** Write requests that succeeded, by step. */
  steps: { step: string; writes: number }[];
  writes: number;
}

type RequestOptions = { maxRetries: 0; signal?: AbortSignal };

/**
 * Applies a plan in the order that never opens a gap: Access policies and applications first (a protected
 * hostname is covered before it gets DNS), then the staged ingress (new rules before their DNS), then DNS in
 * batch requests, then the final ingress (rules removed after their DNS), and Access removals last. Every step
 * is idempotent, so a run interrupted at any point is finished by the next reconcile.
 *
 * @throws CfTunnelError `CONFLICT` when the plan has conflicts (nothing is changed), `INVALID_ROUTE` for a plan
 *   without a tunnel id, `UNAUTHORIZED`, `RATE_LIMITED`, `API_ERROR`, `ABORTED`.
 */
export async function applyPlan(options: ApplyPlanOptions): Promise<ApplyResult> {
  const { plan, client } = options;
  if (plan.conflicts.length > 0) {
    throw new CfTunnelError(
      "CONFLICT",
      `${plan.conflicts.length} conflict(s) block this plan: ${plan.conflicts.map((c) => `${c.hostname}: ${c.message}`).join("; ")}`,
      { details: { conflicts: plan.conflicts } },
    );
  }
  if (plan.tunnel.id === "") {
    throw new CfTunnelError(
      "INVALID_ROUTE",
      "tunnel: this plan was made before the tunnel existed; create it and plan again",
      {
        details: { field: "tunnel" },
      },
    );
  }
  const retrier = createRetrier(options);
  const steps: ApplyResult["steps"] = [];
  const count = (step: string, writes: number) => {
    if (writes > 0) steps.push({ step, writes });
  };
  const accountId = plan.accountId;
  const policyBody = (p: Plan["access"]["createPolicies"][number]): PolicyCreateParams => ({
    account_id: accountId,
    name: p.name,
    decision: p.decision,
    include: p.include,
    session_duration: p.sessionDuration,
  });

  // 1. Access policies, then applications (before any protected hostname gets DNS).
  const policyIds = new Map<string, string>(Object.entries(plan.access.policyIds));
  let written = 0;
  for (const p of plan.access.createPolicies) {
    const id = await retrier.call({
      what: `creating Access policy ${p.name}`,
      permission: PERMISSIONS.accessWrite,
      run: async (ro: RequestOptions) => {
        const created = await client.zeroTrust.access.policies.create(policyBody(p), ro);
        return created.id as string;
      },
      recover: async () =>
        (await listAccessPolicies(retrier, client, accountId)).find((x) => x.name === p.name)?.id,
    });
    policyIds.set(p.name, id);
    written++;
    retrier.emit({ type: "access.policy.created", message: `created Access policy ${p.name}`, name: p.name });
  }
  count("access.policies.create", written);
  written = 0;
  for (const p of plan.access.updatePolicies) {
    await retrier.call({
      what: `restoring Access policy ${p.name}`,
      permission: PERMISSIONS.accessWrite,
      run: (ro: RequestOptions) => client.zeroTrust.access.policies.update(p.id, policyBody(p), ro),
    });
    written++;
    retrier.emit({
      type: "access.policy.restored",
      message: `restored Access policy ${p.name}`,
      name: p.name,
    });
  }
  count("access.policies.update", written);

  const appBody = (
    app: Plan["access"]["createApps"][number],
  ): ApplicationCreateParams.SelfHostedApplication & ApplicationUpdateParams.SelfHostedApplication => {
    const policies = app.policies.map((name, i) => {
      const id = policyIds.get(name);
      if (id === undefined) {
        throw new CfTunnelError("INTERNAL", `Access policy ${name} for ${app.hostname} is missing`, {
          details: { hostname: app.hostname },
        });
      }
      return { id, precedence: i + 1 };
    });
    return {
      account_id: accountId,
      type: "self_hosted",
      name: app.name,
      domain: app.hostname,
      destinations: [{ type: "public", uri: app.hostname }],
      policies,
      session_duration: app.sessionDuration,
      app_launcher_visible: false,
    };
  };
  written = 0;
  for (const app of plan.access.createApps) {
    const body = appBody(app);
    await retrier.call<unknown>({
      what: `creating the Access application for ${app.hostname}`,
      permission: PERMISSIONS.accessWrite,
      run: (ro: RequestOptions) => client.zeroTrust.access.applications.create(body, ro),
      recover: async () =>
        (await listAccessApps(retrier, client, accountId, plan.tunnel.name)).find((a) => a.name === app.name),
      // Cloudflare's "application already exists" (409 code 11010, shared/reviews/cloudflare-tofu.md A1):
      // ours when another run created it since the plan; anything else stays a conflict.
      alreadyExistsCodes: [11010],
    });
    written++;
    retrier.emit({
      type: "access.app.created",
      message: `protected ${app.hostname} with Access`,
      hostname: app.hostname,
    });
  }
  count("access.apps.create", written);
  written = 0;
  for (const app of plan.access.updateApps) {
    const body = appBody(app);
    await retrier.call({
      what: `updating the Access application for ${app.hostname}`,
      permission: PERMISSIONS.accessWrite,
      run: (ro: RequestOptions) => client.zeroTrust.access.applications.update(app.id as string, body, ro),
    });
    written++;
    retrier.emit({
      type: "access.app.updated",
      message: `updated Access for ${app.hostname}`,
      hostname: app.hostname,
    });
  }
  count("access.apps.update", written);

  // 2. Staged ingress: new and changed rules; removed rules stay while DNS still points at them.
  const putIngress = async (ingress: IngressRule[], step: string) => {
    await retrier.call({
      what: "updating the tunnel ingress",
      permission: PERMISSIONS.tunnelWrite,
      run: (ro: RequestOptions) =>
        client.zeroTrust.tunnels.cloudflared.configurations.update(
          plan.tunnel.id,
          // Top-level settings set elsewhere (originRequest, warp-routing) go back unchanged.
          { account_id: accountId, config: { ...plan.ingress.settings, ingress: ingress.map(sdkRule) } },
          ro,
        ),
    });
    count(step, 1);
    retrier.emit({
      type: "ingress.updated",
      message: `wrote ${ingress.length} ingress rule(s)`,
      rules: ingress.length,
    });
  };
  let ingressNow = plan.ingress.current;
  if (!ingressEqual(ingressNow, plan.ingress.staged)) {
    await putIngress(plan.ingress.staged, "ingress.stage");
    ingressNow = plan.ingress.staged;
  }

  // 3. DNS in batches (deletes, puts, posts), chunked.
  count("dns.batch", await applyDns(retrier, options, plan));

  // 4. Final ingress: drop the removed rules now that their DNS is gone.
  if (!ingressEqual(ingressNow, plan.ingress.desired)) {
    await putIngress(plan.ingress.desired, "ingress.final");
  }

  // 5. Access removals last.
  written = 0;
  for (const app of plan.access.deleteApps) {
    await retrier.call({
      what: `deleting the Access application for ${app.hostname}`,
      permission: PERMISSIONS.accessWrite,
      notFoundIsSuccess: undefined,
      run: (ro: RequestOptions) =>
        client.zeroTrust.access.applications.delete(app.id, { account_id: accountId }, ro),
    });
    written++;
    retrier.emit({
      type: "access.app.deleted",
      message: `removed Access for ${app.hostname}`,
      hostname: app.hostname,
    });
  }
  count("access.apps.delete", written);
  written = 0;
  for (const p of plan.access.deletePolicies) {
    await retrier.call({
      what: `deleting Access policy ${p.name}`,
      permission: PERMISSIONS.accessWrite,
      notFoundIsSuccess: undefined,
      run: (ro: RequestOptions) =>
        client.zeroTrust.access.policies.delete(p.id, { account_id: accountId }, ro),
    });
    written++;
  }
  count("access.policies.delete", written);
  return { steps, writes: steps.reduce((n, s) => n + s.writes, 0) };
}

/**
 * An ingress rule as the SDK types it. The SDK makes `hostname` required, but cloudflared's catch-all rule
 * has none (cloudflared ingress/ingress.go: a rule without hostname or path matches everything), and
 * sending `hostname: ""` would be read back as a difference: the one cast in this package.
 */
function sdkRule(rule: IngressRule): ConfigurationUpdateParams.Config.Ingress {
  return rule as ConfigurationUpdateParams.Config.Ingress;
}

type BatchOp =
  | { kind: "deletes"; id: string }
  | { kind: "puts"; id: string; body: CNAMERecordParam }
  | { kind: "posts"; body: CNAMERecordParam };

async function applyDns(retrier: Retrier, options: ApplyPlanOptions, plan: Plan): Promise<number> {
  const { client } = options;
  const body = (w: Plan["dns"]["create"][number]): CNAMERecordParam => ({
    name: w.name,
    type: w.type,
    content: w.content,
    proxied: w.proxied,
    ttl: w.ttl,
    comment: w.comment,
  });
  const ops: BatchOp[] = [
    ...plan.dns.delete.map((d) => ({ kind: "deletes" as const, id: d.id })),
    ...plan.dns.update.map((u) => ({ kind: "puts" as const, id: u.id as string, body: body(u) })),
    ...plan.dns.create.map((c) => ({ kind: "posts" as const, body: body(c) })),
  ];
  const size = Math.max(1, plan.batchSize);
  let requests = 0;
  for (let i = 0; i < ops.length; i += size) {
    const chunk = ops.slice(i, i + size);
    const deletes: RecordBatchParams.Delete[] = [];
    const puts: BatchPutParam[] = [];
    const posts: CNAMERecordParam[] = [];
    for (const o of chunk) {
      if (o.kind === "deletes") deletes.push({ id: o.id });
      else if (o.kind === "puts") puts.push({ id: o.id, ...o.body });
      else posts.push(o.body);
    }
    const params: RecordBatchParams = { zone_id: plan.zone.id, deletes, puts, posts };
    await retrier.call({
      what: `writing ${chunk.length} DNS change(s) in ${plan.zone.name}`,
      permission: PERMISSIONS.dnsWrite,
      run: (ro: RequestOptions) => client.dns.records.batch(params, ro),
      // A batch is one transaction: when its response was lost, either all of it or none of it happened.
      recover: async () => {
        const fresh = await listDnsRecords(retrier, client, plan.zone, plan.tunnel.id);
        const ids = new Set(fresh.map((r) => r.id));
        const done = chunk.every((o) => {
          if (o.kind === "deletes") return !ids.has(o.id);
          const match = fresh.find((r) => r.name === o.body.name && r.owned);
          return (
            match !== undefined &&
            (o.kind === "posts" || match.id === o.id) &&
            match.proxied &&
            match.ttl === 1
          );
        });
        return done ? {} : undefined;
      },
      // "Record already exists" / "does not exist": a replayed batch; fine when the zone already matches.
      alreadyExistsCodes: [81044, 81053, 81054, 81057, 81058],
    });
    requests++;
    retrier.emit({
      type: "dns.batch",
      message: `wrote ${chunk.length} DNS change(s) in one batch`,
      deletes: deletes.length,
      puts: puts.length,
      posts: posts.length,
    });
  }
  return requests;
}
