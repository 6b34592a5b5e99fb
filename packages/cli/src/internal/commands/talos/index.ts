import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "talos",
  summary: "Talos machine API: version, health, services, kubeconfig, logs, apply, upgrade, etcd ...",
  commands: {
    version: () => import("./version.js").then((m) => m.command),
    health: () => import("./health.js").then((m) => m.command),
    services: () => import("./services.js").then((m) => m.command),
    kubeconfig: () => import("./kubeconfig.js").then((m) => m.command),
    logs: () => import("./logs.js").then((m) => m.command),
    dmesg: () => import("./dmesg.js").then((m) => m.command),
    get: () => import("./get.js").then((m) => m.command),
    apply: () => import("./apply.js").then((m) => m.command),
    upgrade: () => import("./upgrade.js").then((m) => m.command),
    reboot: () => import("./reboot.js").then((m) => m.command),
    reset: () => import("./reset.js").then((m) => m.command),
    etcd: () => import("./etcd/index.js").then((m) => m.group),
  },
});
