import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "secrets",
  summary: "SOPS + age encryption of the project's secrets file (and any YAML, JSON or dotenv file)",
  commands: {
    init: () => import("./init.js").then((m) => m.command),
    encrypt: () => import("./encrypt.js").then((m) => m.command),
    decrypt: () => import("./decrypt.js").then((m) => m.command),
    edit: () => import("./edit.js").then((m) => m.command),
    rotate: () => import("./rotate.js").then((m) => m.command),
  },
});
