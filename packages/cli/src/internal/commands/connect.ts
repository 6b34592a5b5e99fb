import { readFile } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import type Cloudflare from "cloudflare";
import { HomelabError } from "../../errors.js";
import { createCloudflare } from "../adapters/cf-tunnel.js";
import { loadTalosClient, type TalosClient, type TalosClientOptions } from "../adapters/talos-client.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { cloudflareBaseURL } from "../pipeline/target.js";
import type { ClusterAccess } from "../state/cluster-access.js";
import { locateKubeconfig, locateTalosconfig, optionalProject } from "../state/locate.js";
import { listOption, stringOption } from "./common.js";

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
    const found = await locateTalosconfig(inv, () => optionalProject(inv));
    if (!found)
      throw new HomelabError("MISSING_CREDENTIALS", "no talosconfig found", {
        hint: "run `homelab up` (it writes one to the state directory next to homelab.yaml), pass --talosconfig or --config, set $TALOSCONFIG, or use --insecure for a node in maintenance mode",
      });
    const path = found.path;
    inv.out.debug(`talosconfig: ${path} (${found.source})`);
    options.talosconfig = await readFile(path, "utf8").catch((cause: unknown) => {
      throw new HomelabError("MISSING_CREDENTIALS", `cannot read talosconfig ${path}`, { cause });
    });
  }
  return { client: lib.createTalosClient(options), nodes };
}

/** The Cloudflare client for a project: the running lab's emulator, else CLOUDFLARE_API_TOKEN's. */
export async function projectCloudflare(
  inv: Invocation,
  access: Pick<ClusterAccess, "lab">,
): Promise<Cloudflare> {
  if (access.lab)
    return createCloudflare({
      apiToken: access.lab.cloudflare.apiToken,
      baseURL: access.lab.cloudflare.url,
      maxRetries: 2,
    });
  return cloudflareClient(inv);
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

/** The project's kubeconfig ({@link locateKubeconfig}): its path and text. */
export async function projectKubeconfig(
  inv: Invocation,
  loaded: LoadedConfig,
): Promise<{ path: string; text: string }> {
  const found = await locateKubeconfig(inv, loaded);
  if (!found)
    throw new HomelabError("MISSING_CREDENTIALS", "no kubeconfig found", {
      hint: "run `homelab up` (it writes one to the state directory next to homelab.yaml), or pass --kubeconfig or set $KUBECONFIG",
    });
  const path = found.path;
  try {
    return { path, text: await readFile(path, "utf8") };
  } catch (cause) {
    throw new HomelabError("MISSING_CREDENTIALS", `cannot read kubeconfig ${path}`, { cause });
  }
}

/**
 * Merges a cluster's kubeconfig into the user's, as `talosctl kubeconfig` does: the file is
 * $KUBECONFIG (when it names one file) or ~/.kube/config; clashing names get a -N suffix unless
 * --force; the merged context becomes current. Written 0600, atomically.
 */
export async function mergeIntoUserKubeconfig(inv: Invocation, kubeconfig: string) {
  const list = (inv.ctx.env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  if (list.length > 1)
    throw new HomelabError("USAGE", "$KUBECONFIG lists several files: cannot tell which one to merge into", {
      hint: "pass --out FILE, or set KUBECONFIG to one file",
    });
  const path = list[0] ? resolve(inv.ctx.cwd, list[0]) : join(inv.ctx.homedir, ".kube", "config");
  const existing = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw new HomelabError("COMMAND_FAILED", `cannot read ${path}`, { cause: error });
  });
  const { mergeKubeconfig } = await import("../state/kubeconfig-merge.js");
  const merged = mergeKubeconfig(existing, kubeconfig, {
    force: inv.options.force === true,
    existingName: path,
  });
  await writeFileAtomic(path, merged.text, 0o600);
  return { path, context: merged.context, renamed: merged.renamed, overwritten: merged.overwritten };
}
