import { writeFileAtomic } from "../../fs/atomic.js";
import { readOptional } from "../state.js";
import type { Step } from "../step.js";
import { controlPlaneClient } from "./bootstrap.js";

/** The admin kubeconfig, fetched from the first control plane into the state dir (0600). */
export const kubeconfigStep: Step<string> = {
  id: "kubeconfig",
  title: "kubeconfig",
  async plan(ctx) {
    const existing = await readOptional(ctx.files.kubeconfig);
    const base = { id: "kubeconfig", step: "kubeconfig", subject: "kubeconfig" };
    if (existing === undefined)
      return [{ ...base, action: "create", summary: "fetch the admin kubeconfig (0600)" }];
    ctx.found.kubeconfig = existing;
    // the lab's Kubernetes API moves with every lab: compare with what the node hands out now
    if (ctx.target.kind === "lab" && ctx.found.talosconfig !== undefined) {
      const client = controlPlaneClient(ctx);
      try {
        const live = await client.kubeconfig({});
        if (live !== existing)
          return [
            { ...base, action: "update", summary: "the cluster hands out another kubeconfig", data: live },
          ];
      } catch {
        // not bootstrapped yet: kept until the cluster runs
      } finally {
        client.close();
      }
    }
    return [{ ...base, action: "none", summary: "exists" }];
  },
  async apply(ctx, change) {
    let text = change.data;
    if (text === undefined) {
      const client = controlPlaneClient(ctx);
      try {
        text = await client.kubeconfig({});
      } finally {
        client.close();
      }
    }
    await writeFileAtomic(ctx.files.kubeconfig, text, 0o600);
    ctx.found.kubeconfig = text;
    return `kubeconfig written: ${ctx.files.kubeconfig} (0600)`;
  },
};
