import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { confirm } from "../common.js";
import { TALOS_CONNECTION } from "../options.js";
import { renderValue, targetsOf, withTalos } from "./shared.js";

/** `homelab talos upgrade --image IMAGE` */
export const command = defineCommand({
  name: "upgrade",
  summary: "Upgrade Talos on the nodes (asks first; --yes skips)",
  options: {
    ...TALOS_CONNECTION,
    image: {
      type: "string",
      valueName: "IMAGE",
      description: "Installer image (see `homelab image urls`)",
    },
    stage: { type: "boolean", description: "Stage the upgrade for the next reboot" },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const image = inv.options.image;
      if (!image)
        throw new HomelabError(
          "USAGE",
          "talos upgrade needs --image (see `homelab image urls` for the installer image)",
        );
      if (!(await confirm(inv, `upgrade ${targetsOf(nodes)} to ${image}?`))) return 1;
      const results: unknown[] = [];
      for (const n of nodes ?? [undefined])
        results.push(
          await client.upgrade({ image, stage: inv.options.stage === true, ...(n ? { node: n } : {}) }),
        );
      inv.out.result({ upgraded: results }, () => results.map((r) => renderValue(r)).join("\n"));
      return 0;
    }),
});
