import { HomelabError } from "../../errors.js";
import type { RunFn } from "../cli/spec.js";
import { loadProject } from "./common.js";

/** `homelab infra <plan|apply|output|destroy>`: wired to the tofu runner once it is in this build. */
export const run: RunFn = async (inv) => {
  await loadProject(inv, { resolveSecrets: false });
  throw new HomelabError(
    "NOT_AVAILABLE",
    `homelab ${inv.path.join(" ")} is not available yet: the tofu runner is not part of this build`,
    {
      hint: "use `homelab up --engine direct`, or `homelab up --simulate` to try the pipeline",
    },
  );
};
