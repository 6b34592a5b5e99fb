import { access, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type Cloudflare from "cloudflare";
import { HomelabError } from "../../errors.js";
import { createCloudflare } from "../adapters/cf-tunnel.js";
import { loadTalosClient, type TalosClient, type TalosClientOptions } from "../adapters/talos-client.js";
import type { Invocation } from "../cli/spec.js";
import { cloudflareBaseURL } from "../pipeline/target.js";
import { listOption, stringOption } from "./common.js";

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The talosconfig path: --talosconfig, then $TALOSCONFIG, then ~/.talos/config (undefined if none exists). */
export async function talosconfigPath(inv: Invocation): Promise<string | undefined> {
  const explicit = stringOption(inv, "talosconfig");
  if (explicit) return resolve(inv.ctx.cwd, explicit);
  const env = inv.ctx.env.TALOSCONFIG;
  if (env) return resolve(inv.ctx.cwd, env);
  const home = join(inv.ctx.homedir, ".talos", "config");
  return (await exists(home)) ? home : undefined;
}

/** A talos-client built from the connection flags. */
export async function talosClientFromFlags(
  inv: Invocation,
): Promise<{ client: TalosClient; nodes: string[] | undefined }> {
  const lib = await loadTalosClient();
  const options: TalosClientOptions = {};
  const endpoints = listOption(inv, "endpoints");
  const nodes = listOption(inv, "nodes");
  if (endpoints) options.endpoints = endpoints;
  if (nodes) options.nodes = nodes;
  const context = stringOption(inv, "context");
  if (context) options.context = context;
  if (inv.options.insecure === true) {
    options.insecure = true;
    if (!endpoints && nodes) options.endpoints = nodes;
  } else {
    const path = await talosconfigPath(inv);
    if (!path)
      throw new HomelabError("MISSING_CREDENTIALS", "no talosconfig found", {
        hint: "pass --talosconfig, set $TALOSCONFIG, or use --insecure for a node in maintenance mode",
      });
    options.talosconfig = await readFile(path, "utf8").catch((cause: unknown) => {
      throw new HomelabError("MISSING_CREDENTIALS", `cannot read talosconfig ${path}`, { cause });
    });
  }
  return { client: lib.createTalosClient(options), nodes };
}

/** A Cloudflare SDK client from CLOUDFLARE_API_TOKEN (and CLOUDFLARE_BASE_URL when set). */
export async function cloudflareClient(inv: Invocation): Promise<Cloudflare> {
  const token = inv.ctx.env.CLOUDFLARE_API_TOKEN;
  if (!token)
    throw new HomelabError("MISSING_CREDENTIALS", "CLOUDFLARE_API_TOKEN is not set", {
      hint: "create an API token with Cloudflare Tunnel:Edit, DNS:Edit and Access: Apps and Policies:Edit",
    });
  const baseURL = cloudflareBaseURL(inv.ctx.env);
  if (baseURL) inv.out.warn(`Cloudflare API calls go to ${new URL(baseURL).origin} (CLOUDFLARE_BASE_URL)`);
  return createCloudflare({ apiToken: token, baseURL, maxRetries: 2 });
}

/** The kubeconfig text: --kubeconfig, then $KUBECONFIG, then `fallback` (the state dir's). */
export async function kubeconfigText(inv: Invocation, fallback?: string): Promise<string> {
  const explicit = stringOption(inv, "kubeconfig") ?? inv.ctx.env.KUBECONFIG;
  const path = explicit ? resolve(inv.ctx.cwd, explicit) : fallback;
  if (!path)
    throw new HomelabError("MISSING_CREDENTIALS", "no kubeconfig found", {
      hint: "pass --kubeconfig, set $KUBECONFIG, or run `homelab up` (it writes one to the state directory)",
    });
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new HomelabError("MISSING_CREDENTIALS", `cannot read kubeconfig ${path}`, { cause });
  }
}
