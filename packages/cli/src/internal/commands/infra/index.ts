import { defineGroup } from "../../cli/command.js";

// Four verbs, four modules: a verb that is not listed here is a usage error, never another verb.
export const group = defineGroup({
  name: "infra",
  summary: "OpenTofu for infrastructure/: plan, apply, output, destroy",
  commands: {
    plan: () => import("./plan.js").then((m) => m.command),
    apply: () => import("./apply.js").then((m) => m.command),
    output: () => import("./output.js").then((m) => m.command),
    destroy: () => import("./destroy.js").then((m) => m.command),
  },
});
