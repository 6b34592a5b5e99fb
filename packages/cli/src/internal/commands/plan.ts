import { HomelabError } from "../../errors.js";
import type { RunFn } from "../cli/spec.js";

/** `homelab plan`: lands with the libraries it composes. */
export const run: RunFn = async (inv) => {
  throw new HomelabError("NOT_AVAILABLE", `homelab ${inv.path.join(" ")} is not available yet in this build`);
};
