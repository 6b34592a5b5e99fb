import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { KubernetesAccess } from "@talos-homelab/talos-client";
import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import type { ClusterAccess } from "../state/cluster-access.js";
import { createKubernetesAccess } from "./access.js";

/** The project's kubeconfig: --kubeconfig, $KUBECONFIG, else the state's (0600 file or SOPS file). */
export async function projectKubeconfig(
  inv: Invocation,
  access: ClusterAccess,
): Promise<{ text: string; source: string } | undefined> {
  const flag = inv.options.kubeconfig;
  const env = inv.ctx.env.KUBECONFIG?.split(":").find((p) => p !== "");
  const explicit = typeof flag === "string" ? flag : env;
  if (explicit !== undefined) {
    const path = resolve(inv.ctx.cwd, explicit);
    try {
      return { text: await readFile(path, "utf8"), source: path };
    } catch (cause) {
      throw new HomelabError("MISSING_CREDENTIALS", `cannot read kubeconfig ${path}`, { cause });
    }
  }
  const text = await access.state.read("kubeconfig");
  return text === undefined ? undefined : { text, source: access.state.describe("kubeconfig") };
}

/** The project's Kubernetes API: cordon, drain, Node deletion. */
export interface ProjectKubernetes {
  access: KubernetesAccess;
  /** Deletes a Node (as `kubectl delete node`); "gone" when there was none. */
  deleteNode(name: string, signal?: AbortSignal): Promise<"deleted" | "gone">;
}

/**
 * Kubernetes access from the project's kubeconfig.
 * @throws HomelabError MISSING_CREDENTIALS when there is none
 */
export async function projectKubernetes(inv: Invocation, access: ClusterAccess): Promise<ProjectKubernetes> {
  const found = await projectKubeconfig(inv, access);
  if (!found)
    throw new HomelabError("MISSING_CREDENTIALS", "no kubeconfig: the node cannot be drained", {
      hint: "run `homelab up` (it keeps one in the state), or pass --kubeconfig",
    });
  const kube = await createKubernetesAccess(found.text, found.source);
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromString(found.text);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    access: kube,
    async deleteNode(name, signal) {
      if (signal?.aborted) throw new HomelabError("INTERRUPTED", "interrupted");
      try {
        await core.deleteNode({ name });
        return "deleted";
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return "gone";
        throw new HomelabError("COMMAND_FAILED", `Kubernetes API: deleting node ${name} failed`, {
          cause: error,
        });
      }
    },
  };
}
