import { defineGroup } from "../cli/command.js";

/**
 * The root of the command tree. Each entry is a dynamic import: `--version` loads none of them,
 * `--help` only the modules of the level it lists, a command only its own path.
 */
export const ROOT = defineGroup({
  name: "homelab",
  summary: "one declarative file to a running Talos Kubernetes homelab",
  commands: {
    init: () => import("./init.js").then((m) => m.command),
    render: () => import("./render.js").then((m) => m.command),
    doctor: () => import("./doctor.js").then((m) => m.command),
    plan: () => import("./plan.js").then((m) => m.command),
    up: () => import("./up.js").then((m) => m.command),
    status: () => import("./status.js").then((m) => m.command),
    upgrade: () => import("./upgrade/index.js").then((m) => m.group),
    down: () => import("./down.js").then((m) => m.command),
    lab: () => import("./lab.js").then((m) => m.command),
    backup: () => import("./backup.js").then((m) => m.command),
    restore: () => import("./restore.js").then((m) => m.command),
    node: () => import("./node/index.js").then((m) => m.group),
    talos: () => import("./talos/index.js").then((m) => m.group),
    image: () => import("./image/index.js").then((m) => m.group),
    tunnel: () => import("./tunnel/index.js").then((m) => m.group),
    argo: () => import("./argo/index.js").then((m) => m.group),
    infra: () => import("./infra/index.js").then((m) => m.group),
    secrets: () => import("./secrets/index.js").then((m) => m.group),
    completion: () => import("./completion.js").then((m) => m.command),
  },
});
