import { defineCommand } from "../../../cli/command.js";
import { TALOS_CONNECTION } from "../../options.js";
import { withTalos } from "../shared.js";

/** `homelab talos etcd members` */
export const command = defineCommand({
  name: "members",
  summary: "List etcd members",
  options: { ...TALOS_CONNECTION },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const node = nodes?.[0];
      const members = await client.etcdMemberList(node ? { node } : {});
      const plain = members.map((m) => ({ ...m, id: String(m.id) }));
      inv.out.result({ members: plain }, () =>
        plain
          .map(
            (m) =>
              `${m.id.padEnd(20)} ${m.hostname.padEnd(12)} ${m.peerUrls.join(",")}${m.isLearner ? " (learner)" : ""}`,
          )
          .join("\n"),
      );
      return 0;
    }),
});
