import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "tunnel",
  summary: "Cloudflare tunnel, DNS and Access",
  commands: {
    plan: () => import("./plan.js").then((m) => m.command),
    sync: () => import("./sync.js").then((m) => m.command),
    audit: () => import("./audit.js").then((m) => m.command),
    "rotate-token": () => import("./rotate-token.js").then((m) => m.command),
  },
});
