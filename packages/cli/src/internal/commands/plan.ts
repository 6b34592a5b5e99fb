import { defineCommand } from "../cli/command.js";
import { PLAN_OPTIONS } from "./options.js";

export const command = defineCommand({
  name: "plan",
  summary: "Every layer planned against what is live, with diffs (exit 0 no changes, 2 changes, 1 error)",
  options: PLAN_OPTIONS,
  async run(inv) {
    const { runPlanCommand } = await import("./plan-run.js");
    return runPlanCommand(inv);
  },
});
