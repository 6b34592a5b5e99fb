import { join, resolve } from "node:path";
import type { Invocation, RunFn } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFilesAtomic } from "../fs/atomic.js";
import { stateSecretsOf, storeStateFiles } from "../secrets/state-secrets.js";
import { confirm, loadProject, stateDirOf, stringOption } from "./common.js";
import { renderFiles } from "./render.js";

/** A tofu runner for the project's infrastructure/ with resolved secrets passed as TF_VAR_* (never on disk). */
export async function tofuFor(inv: Invocation, loaded: LoadedConfig) {
  const { createTofuRunner, tofuSecretEnv } = await import("../../tofu/index.js");
  const dir = resolve(inv.ctx.cwd, stringOption(inv, "dir") ?? join(loaded.dir, "infrastructure"));
  const secretEnv = tofuSecretEnv(
    loaded.config.tailscale ? { tailscaleAuthKey: loaded.config.tailscale.authKey.reveal() } : {},
  );
  const runner = createTofuRunner({
    cwd: dir,
    env: { ...inv.ctx.env, ...secretEnv },
    color: inv.out.colorErr,
  });
  return { runner, dir };
}

/** `homelab infra <plan|apply|output|destroy>` through the tofu runner. */
export const run: RunFn = async (inv) => {
  const { out, path, ctx } = inv;
  const verb = path[1];
  const loaded = await loadProject(inv, { resolveSecrets: verb !== "output" });
  const { runner, dir } = await tofuFor(inv, loaded);
  const progress = (label: string) => {
    const step = out.step(label);
    return {
      step,
      onProgress: (e: { message?: string }) => e.message && step.update(e.message),
      signal: ctx.signal,
    };
  };
  if (verb === "plan" || verb === "apply") {
    const { files } = await renderFiles(inv, loaded, { outDir: undefined });
    await writeFilesAtomic(files);
    const init = progress("tofu init");
    await runner.init({ onProgress: init.onProgress, signal: ctx.signal });
    init.step.done("tofu init");
    if (verb === "plan") {
      const p = progress("tofu plan");
      const result = await runner.plan({ onProgress: p.onProgress, signal: ctx.signal });
      p.step.done(result.hasChanges ? `${result.changes.length} change(s)` : "no changes");
      out.result(
        { hasChanges: result.hasChanges, changes: result.changes, summary: result.summary ?? null },
        () =>
          result.changes.length === 0
            ? "No changes."
            : result.changes.map((c) => `${c.action.padEnd(8)} ${c.address}`).join("\n"),
      );
      return result.hasChanges ? 2 : 0;
    }
    if (!(await confirm(inv, `tofu apply in ${dir}?`))) return 1;
    const a = progress("tofu apply");
    const result = await runner.apply({ onProgress: a.onProgress, signal: ctx.signal });
    a.step.done("tofu apply");
    out.result({ applied: true, summary: result.summary ?? null }, "tofu apply: done");
    return 0;
  }
  if (verb === "output") {
    const outputs = await runner.output({ signal: ctx.signal });
    const stateDir = stateDirOf(inv, loaded);
    const written: string[] = [];
    const shown: Record<string, unknown> = {};
    const files = [];
    for (const [name, o] of Object.entries(outputs)) {
      if (!o.sensitive) shown[name] = o.value;
      else if ((name === "talosconfig" || name === "kubeconfig") && typeof o.value.reveal() === "string") {
        files.push({ path: join(stateDir, name), content: o.value.reveal() as string, mode: 0o600 });
        written.push(join(stateDir, name));
      } else shown[name] = "(sensitive)";
    }
    if (loaded.secrets) {
      written.splice(0, written.length, ...(await storeStateFiles(stateSecretsOf(loaded, stateDir), files)));
    } else await writeFilesAtomic(files);
    out.result({ outputs: shown, written }, () =>
      [
        ...Object.entries(shown).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
        ...written.map((w) => `wrote ${w}${loaded.secrets ? " (encrypted)" : " (0600)"}`),
      ].join("\n"),
    );
    return 0;
  }
  if (!(await confirm(inv, `destroy everything tofu manages in ${dir}?`))) return 1;
  const d = progress("tofu destroy");
  const result = await runner.destroy({ onProgress: d.onProgress, signal: ctx.signal });
  d.step.done("tofu destroy");
  out.result({ destroyed: true, summary: result.summary ?? null }, "tofu destroy: done");
  return 0;
};
