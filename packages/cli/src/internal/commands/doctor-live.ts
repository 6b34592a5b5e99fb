import type { Invocation } from "../cli/spec.js";
import type { LoadedConfig } from "../config/load.js";
import type { Finding } from "./doctor.js";

/** `doctor --live` checks: lands with talos-client and cf-tunnel. */
export async function liveChecks(_inv: Invocation, _loaded: LoadedConfig): Promise<Finding[]> {
  return [
    {
      source: "live",
      severity: "info",
      code: "NOT_AVAILABLE",
      path: "",
      message: "live checks are not part of this build yet",
    },
  ];
}
