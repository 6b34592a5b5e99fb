import { it } from "vitest";
import { loadTalosConfig } from "../src/internal/adapters/talos-config.js";
import { loadConfig } from "../src/internal/config/load.js";
import { nodeMachineConfig, sharedStringify } from "../src/internal/plan/intent.js";
import { schematicOf } from "../src/internal/plan/schematic.js";
import { EXAMPLES } from "./helpers.js";

it("renders every node's machine config exactly as stringifyDocuments does when documents are shared", async ({
  expect,
}) => {
  const tc = await loadTalosConfig();
  const { config } = await loadConfig("ha.yaml", { cwd: EXAMPLES, env: { TS_AUTHKEY: "tskey-shared" } });
  const bundle = tc.generateSecrets();
  const shared = sharedStringify(tc);
  const schematicId = schematicOf(tc, config).id;
  for (const node of config.nodes) {
    const machine = nodeMachineConfig(tc, config, node, bundle, { schematicId, withTailscale: true });
    expect(machine.render(shared)).toBe(machine.render());
  }
});
