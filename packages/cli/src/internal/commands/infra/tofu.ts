import { join, resolve } from "node:path";
import type { Context } from "../../../context.js";
import type { TofuExec } from "../../../tofu/index.js";
import type { Invocation } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { writeFilesAtomic } from "../../fs/atomic.js";
import { cloudflareApiToken } from "../../secrets/cloudflare-token.js";
import { renderFiles } from "../render-run.js";

/** The tofu runner's executor over the Context's one `exec` (so tests and the lab see every process). */
export function tofuExecOf(ctx: Context): TofuExec {
  return async (command, args, options) => {
    try {
      const r = await ctx.exec(command, args, {
        cwd: options.cwd,
        env: options.env,
        interruptible: true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
        ...(options.onStderrLine ? { onStderrLine: options.onStderrLine } : {}),
      });
      return {
        exitCode: r.signal ? null : r.exitCode,
        signal: r.signal ?? null,
        stdout: r.stdout,
        stderr: r.stderr,
        aborted: r.aborted === true,
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "EACCES") throw error;
      const { TofuError } = await import("../../../tofu/index.js");
      throw new TofuError("TOFU_NOT_FOUND", `cannot run ${command}: ${code}`, { cause: error });
    }
  };
}

/** A tofu runner for the project's infrastructure/ with resolved secrets passed as TF_VAR_* (never on disk). */
export async function tofuFor(inv: Invocation, loaded: LoadedConfig, dirOption?: string) {
  const { createTofuRunner, tofuSecretEnv } = await import("../../../tofu/index.js");
  const dir = resolve(inv.ctx.cwd, dirOption ?? join(loaded.dir, "infrastructure"));
  // the Cloudflare provider reads CLOUDFLARE_API_TOKEN: from the environment, or homelab.yaml's tunnel.apiToken
  const cloudflareToken = await cloudflareApiToken(loaded, inv.ctx.env);
  const secretEnv = tofuSecretEnv({
    ...(loaded.config.tailscale ? { tailscaleAuthKey: loaded.config.tailscale.authKey.reveal() } : {}),
    ...(cloudflareToken ? { cloudflareApiToken: cloudflareToken.reveal() } : {}),
  });
  const runner = createTofuRunner({
    cwd: dir,
    env: { ...inv.ctx.env, ...secretEnv },
    color: inv.out.colorErr,
    exec: tofuExecOf(inv.ctx),
  });
  return { runner, dir };
}

/** Renders patches and tfvars into infrastructure/ and runs `tofu init` (plan and apply start here). */
export async function renderAndInit(inv: Invocation, loaded: LoadedConfig, dirOption?: string) {
  const { files } = await renderFiles(inv, loaded, { outDir: undefined });
  await writeFilesAtomic(files);
  const tofu = await tofuFor(inv, loaded, dirOption);
  const step = inv.out.step("tofu init");
  await tofu.runner
    .init({ onProgress: (e) => e.message && step.update(e.message), signal: inv.ctx.signal })
    .catch((error: unknown) => {
      step.fail();
      throw error;
    });
  step.done("tofu init");
  return { ...tofu, files };
}
