import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { optionalProject } from "../../state/locate.js";
import { confirm } from "../common.js";
import { KUBECONFIG_OPTION, TALOS_CONNECTION } from "../options.js";
import { renderValue, targetsOf, withTalos } from "./shared.js";

/** `homelab talos upgrade --image IMAGE` */
export const command = defineCommand({
  name: "upgrade",
  summary:
    "Upgrade Talos on the nodes, one at a time: cordon and drain (with a kubeconfig), install, reboot, wait until back and Ready, uncordon (asks first; --yes skips)",
  options: {
    ...TALOS_CONNECTION,
    kubeconfig: KUBECONFIG_OPTION,
    "no-drain": {
      type: "boolean",
      description: "Do not cordon and drain the Kubernetes node first (it is still awaited Ready)",
    },
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
      const { kubernetesFromFlags } = await import("../../kube/access.js");
      const kube = await kubernetesFromFlags(inv, () => optionalProject(inv));
      if (kube.access === undefined)
        inv.out.warn(`the nodes are not cordoned and drained first: ${kube.why}`);
      const results: unknown[] = [];
      for (const n of nodes ?? [undefined]) {
        const step = inv.out.step(`upgrading ${n ?? "the default node"} to ${image}`);
        results.push(
          await client
            .upgrade({
              image,
              stage: inv.options.stage === true,
              ...(n ? { node: n } : {}),
              ...(kube.access === undefined ? {} : { kubernetes: kube.access }),
              ...(inv.options["no-drain"] === true ? { drain: false } : {}),
              signal: inv.ctx.signal,
              clock: inv.ctx.clock,
              onProgress: (e) => step.update(e),
            })
            .then(
              (r) => {
                step.done();
                return r;
              },
              (error: unknown) => {
                step.fail();
                throw error;
              },
            ),
        );
      }
      inv.out.result({ upgraded: results }, () => results.map((r) => renderValue(r)).join("\n"));
      return 0;
    }),
});
