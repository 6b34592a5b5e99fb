import type { Invocation } from "../cli/command.js";
import { applyDown, planDown, renderDownPlan } from "../down/down.js";
import { acquireStateLock } from "../pipeline/lock.js";
import { projectSystems } from "../state/systems.js";
import { confirm, loadProject } from "./common.js";
import type { DOWN_OPTIONS } from "./down.js";

/** The `homelab down` handler (loaded only when the command runs, so `--help` stays light). */
export async function runDown(inv: Invocation<typeof DOWN_OPTIONS>): Promise<number> {
  const { out, ctx } = inv;
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const systems = await projectSystems(inv, loaded);
  const step = out.step("reading what `up` created");
  const plan = await planDown(loaded, systems, ctx.signal).catch((error: unknown) => {
    step.fail();
    throw error;
  });
  step.done(`${plan.changes} thing(s) to remove`);
  const { cloudflare: _internal, nodes: _nodes, files: _files, ...shown } = plan;
  if (plan.changes === 0) {
    out.result({ ...shown, applied: false }, () => `${renderDownPlan(plan)}\nNothing to remove.`);
    return 0;
  }
  if (!inv.flags.json) out.info(renderDownPlan(plan));
  if (!(await confirm(inv, `remove these ${plan.changes} thing(s) of ${plan.cluster}? Nodes are wiped`))) {
    out.info("aborted: nothing changed");
    return 1;
  }
  // never while an `up` changes the same homelab
  const lock = await acquireStateLock(systems.state.dir, "down", ctx.clock);
  const result = await applyDown(plan, loaded, systems, {
    signal: ctx.signal,
    onStep: (s) =>
      out.info(`✓ ${s.title}: ${s.items.length === 0 ? "nothing to do" : `${s.items.length} removed`}`),
  }).finally(() => lock.release());
  out.result(
    { ...shown, applied: true, removed: result.removed },
    () => `${plan.cluster}: down (${plan.changes} removed).`,
  );
  return 0;
}
