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
import {
  cloudflareApiToken,
  cloudflareTokenSource,
  missingCloudflareToken,
} from "../secrets/cloudflare-token.js";
import type { ClusterAccess } from "../state/cluster-access.js";
import { type Located, locateKubeconfig, locateTalosconfig, optionalProject } from "../state/locate.js";
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
    inv.out.debug(`talosconfig: ${found.path} (${found.source})`);
    options.talosconfig = await readLocated(found, "talosconfig");
  }
  return { client: lib.createTalosClient(options), nodes };
}

/** The Cloudflare client for a project: the running lab's emulator, else the project's token's account. */
export async function projectCloudflare(
  inv: Invocation,
  access: Pick<ClusterAccess, "lab">,
  loaded: Pick<LoadedConfig, "config" | "dir" | "secrets">,
): Promise<Cloudflare> {
  if (access.lab)
    return createCloudflare({
      apiToken: access.lab.cloudflare.apiToken,
      baseURL: access.lab.cloudflare.url,
      maxRetries: 2,
    });
  return cloudflareClient(inv, loaded);
}

/**
 * A Cloudflare SDK client with the project's token ({@link cloudflareApiToken}: CLOUDFLARE_API_TOKEN, else
 * homelab.yaml's tunnel.apiToken) and CLOUDFLARE_BASE_URL when set.
 */
export async function cloudflareClient(
  inv: Invocation,
  loaded: Pick<LoadedConfig, "config" | "dir" | "secrets">,
): Promise<Cloudflare> {
  const token = await cloudflareApiToken(loaded, inv.ctx.env);
  if (!token) throw missingCloudflareToken();
  inv.out.debug(`Cloudflare API token: ${cloudflareTokenSource(loaded, inv.ctx.env)}`);
  const baseURL = cloudflareBaseURL(inv.ctx.env);
  if (baseURL) inv.out.warn(`Cloudflare API calls go to ${new URL(baseURL).origin} (CLOUDFLARE_BASE_URL)`);
  return createCloudflare({ apiToken: token.reveal(), baseURL, maxRetries: 2 });
}

/**
 * The project's kubeconfig ({@link locateKubeconfig}): its text and a path for helm (a 0600 temp copy
 * when it is kept in the SOPS file); `project` when it is the project's own (state dir or SOPS file).
 */
export async function projectKubeconfig(
  inv: Invocation,
  loaded: LoadedConfig,
): Promise<{ path: string; text: string; project: boolean }> {
  const found = await locateKubeconfig(inv, loaded);
  if (!found)
    throw new HomelabError("MISSING_CREDENTIALS", "no kubeconfig found", {
      hint: "run `homelab up` (it writes one to the state directory next to homelab.yaml), or pass --kubeconfig or set $KUBECONFIG",
    });
  const text = await readLocated(found, "kubeconfig");
  // helm and kubectl take a path: a SOPS-kept kubeconfig gets a 0600 temp copy, removed when done
  const file = await found.materialize();
  if (!file) throw new HomelabError("MISSING_CREDENTIALS", `cannot read kubeconfig ${found.path}`);
  inv.defer(file.dispose);
  return { path: file.path, text, project: found.source === "state" || found.source === "sops" };
}

/** The content of a located credential, or MISSING_CREDENTIALS naming where it was looked for. */
async function readLocated(found: Located, what: string): Promise<string> {
  let text: string | undefined;
  try {
    text = await found.read();
  } catch (cause) {
    throw new HomelabError("MISSING_CREDENTIALS", `cannot read ${what} ${found.path}`, { cause });
  }
  if (text === undefined) throw new HomelabError("MISSING_CREDENTIALS", `cannot read ${what} ${found.path}`);
  return text;
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
