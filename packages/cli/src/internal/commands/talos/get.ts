import { defineCommand } from "../../cli/command.js";
import { TALOS_CONNECTION } from "../options.js";
import { renderValue, withTalos } from "./shared.js";

/** `homelab talos get TYPE [ID] [--namespace NS]` */
export const command = defineCommand({
  name: "get",
  summary: "Get or list COSI resources",
  args: [
    { name: "type", description: "Resource type or alias, e.g. members, machinestatus", required: true },
    { name: "id", description: "Resource id" },
  ],
  options: {
    ...TALOS_CONNECTION,
    namespace: { type: "string", valueName: "NS", description: "Resource namespace" },
  },
  run: (inv) =>
    withTalos(inv, async (client, nodes) => {
      const node = nodes?.[0];
      const [type, id] = inv.args;
      const ns = inv.options.namespace;
      const request = { type: type as string, ...(ns ? { namespace: ns } : {}), ...(node ? { node } : {}) };
      const value = id === undefined ? await client.list(request) : await client.get({ ...request, id });
      inv.out.result({ resources: value }, () => renderValue(value));
      return 0;
    }),
});
