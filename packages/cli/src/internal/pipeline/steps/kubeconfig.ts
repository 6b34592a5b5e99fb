import type { Step } from "../step.js";
import { controlPlaneClient } from "./bootstrap.js";

/** The admin kubeconfig, fetched from the first control plane into the state dir (0600). */
export const kubeconfigStep: Step<string> = {
  id: "kubeconfig",
  title: "kubeconfig",
  async plan(ctx) {
    const existing = await ctx.state.read("kubeconfig");
    const base = { id: "kubeconfig", step: "kubeconfig", subject: "kubeconfig" };
    if (existing === undefined)
      return [{ ...base, action: "create", summary: "fetch the admin kubeconfig (0600)" }];
    ctx.found.kubeconfig = existing;
    // the lab's Kubernetes API moves with every lab: compare with what the node hands out now
    if (ctx.target.kind === "lab") {
      // a kept kubeconfig (state dir, or the SOPS file of a fresh clone) from an earlier lab points at its
      // API; when this lab cannot be asked yet, fetch again once it runs
      const refetch = [{ ...base, action: "update" as const, summary: "fetch this lab's kubeconfig" }];
      if (ctx.found.talosconfig === undefined) return refetch;
      const client = controlPlaneClient(ctx);
      try {
        const live = await client.kubeconfig({});
        if (live !== existing)
          return [
            { ...base, action: "update", summary: "the cluster hands out another kubeconfig", data: live },
          ];
      } catch {
        return refetch;
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
    await ctx.state.write("kubeconfig", text);
    ctx.found.kubeconfig = text;
    return `kubeconfig written: ${ctx.state.describe("kubeconfig")}${ctx.state.encrypted ? " (encrypted)" : " (0600)"}`;
  },
};
