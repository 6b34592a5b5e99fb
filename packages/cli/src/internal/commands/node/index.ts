import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "node",
  summary: "Add a node to the cluster or retire one (planned, resumable)",
  commands: {
    add: () => import("./add.js").then((m) => m.command),
    remove: () => import("./remove.js").then((m) => m.command),
  },
});
