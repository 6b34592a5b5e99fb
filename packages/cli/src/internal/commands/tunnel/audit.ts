import { loadCfTunnel } from "../../adapters/cf-tunnel.js";
import { defineCommand } from "../../cli/command.js";
import { loadProject } from "../common.js";
import { cloudflareClient } from "../connect.js";
import { tunnelOf } from "./common.js";

/** `homelab tunnel audit`: exit 1 when a finding is an error. */
export const command = defineCommand({
  name: "audit",
  summary: "Check DNS, ingress rules, Access and connectors",
  async run(inv) {
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const tunnel = tunnelOf(loaded);
    const cf = await loadCfTunnel();
    const report = await cf.audit({
      client: await cloudflareClient(inv, loaded),
      accountId: tunnel.accountId,
      zone: tunnel.zone,
      tunnelName: tunnel.name,
      publicHostnames: tunnel.routes.filter((r) => r.public).map((r) => r.hostname),
    });
    inv.out.result(report, () =>
      [
        `tunnel ${tunnel.name}: ${report.ok ? "ok" : "problems found"}; ${report.connectors.length} connector(s)${report.connectors.length ? ` (${report.connectors.flatMap((c) => c.originIps).join(", ")})` : ""}`,
        ...report.findings.map((f) => `  ${f.severity} ${f.code}: ${f.message}`),
      ].join("\n"),
    );
    return report.ok ? 0 : 1;
  },
});
