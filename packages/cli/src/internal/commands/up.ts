import { HomelabError } from "../../errors.js";
import type { RunFn } from "../cli/spec.js";
import { loadProject } from "./common.js";

/** `homelab up`: the pipeline lands with the libraries it composes. */
export const run: RunFn = async (inv) => {
  await loadProject(inv, { resolveSecrets: true });
  throw new HomelabError(
    "NOT_AVAILABLE",
    "homelab up is not available yet in this build: its libraries have not landed",
  );
};
