import { defineGroup } from "../../../cli/command.js";

export const group = defineGroup({
  name: "etcd",
  summary: "etcd members and snapshots",
  commands: {
    members: () => import("./members.js").then((m) => m.command),
    snapshot: () => import("./snapshot.js").then((m) => m.command),
  },
});
