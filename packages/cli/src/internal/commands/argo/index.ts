import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "argo",
  summary: "Argo CD: bootstrap, status, upgrade, rollback, add-app, password",
  commands: {
    bootstrap: () => import("./bootstrap.js").then((m) => m.command),
    status: () => import("./status.js").then((m) => m.command),
    upgrade: () => import("./upgrade.js").then((m) => m.command),
    rollback: () => import("./rollback.js").then((m) => m.command),
    "add-app": () => import("./add-app.js").then((m) => m.command),
    password: () => import("./password.js").then((m) => m.command),
  },
});
