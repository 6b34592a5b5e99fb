import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "upgrade",
  summary: "Day 2: roll Talos or Kubernetes to a new version node by node (planned, resumable)",
  commands: {
    talos: () => import("./talos.js").then((m) => m.command),
    kubernetes: () => import("./kubernetes.js").then((m) => m.command),
  },
});
