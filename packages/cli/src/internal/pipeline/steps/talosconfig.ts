import { parse } from "yaml";
import { writeFileAtomic } from "../../fs/atomic.js";
import { readOptional } from "../state.js";
import type { Step, StepContext } from "../step.js";

function controlPlaneEndpoints(ctx: StepContext): string[] {
  return ctx.config.nodes.filter((n) => n.role === "controlplane").map((n) => ctx.target.talosEndpoint(n));
}

function generate(ctx: StepContext): string {
  const first = ctx.config.nodes.find((n) => n.role === "controlplane");
  if (!ctx.found.bundle) throw new Error("talosconfig: no secrets bundle (the secrets step runs first)");
  return ctx.libs.tc.generateTalosconfig({
    secrets: ctx.found.bundle,
    contextName: ctx.config.cluster.name,
    endpoints: controlPlaneEndpoints(ctx),
    nodes: first ? [first.address] : [],
  });
}

/** The CA and endpoints a talosconfig trusts (its client certificate differs on every generation). */
function identity(text: string, name: string): string {
  try {
    const doc = parse(text) as { contexts?: Record<string, { ca?: string; endpoints?: string[] }> };
    const c = doc.contexts?.[name];
    return JSON.stringify([c?.ca ?? "", c?.endpoints ?? []]);
  } catch {
    return "";
  }
}

/** The admin talosconfig: made from the secrets' OS CA for the control-plane endpoints. */
export const talosconfigStep: Step = {
  id: "talosconfig",
  title: "talosconfig",
  async plan(ctx) {
    const subject = "talosconfig";
    const text = await readOptional(ctx.files.talosconfig);
    if (text === undefined || !ctx.found.bundle)
      return [
        {
          id: "talosconfig",
          step: "talosconfig",
          subject,
          action: "create",
          summary: "write talosconfig (0600)",
        },
      ];
    const name = ctx.config.cluster.name;
    if (identity(text, name) !== identity(generate(ctx), name))
      return [
        {
          id: "talosconfig",
          step: "talosconfig",
          subject,
          action: "update",
          summary: "CA or control-plane endpoints changed: rewrite talosconfig (0600)",
        },
      ];
    ctx.found.talosconfig = text;
    return [
      {
        id: "talosconfig",
        step: "talosconfig",
        subject,
        action: "none",
        summary: "matches the secrets and endpoints",
      },
    ];
  },
  async apply(ctx) {
    const text = generate(ctx);
    await writeFileAtomic(ctx.files.talosconfig, text, 0o600);
    ctx.found.talosconfig = text;
    return "wrote talosconfig (0600)";
  },
};
