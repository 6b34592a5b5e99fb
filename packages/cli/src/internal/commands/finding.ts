/** One doctor finding, whatever its source. */
export interface Finding {
  source: "homelab.yaml" | "talos-config" | "cf-tunnel" | "argo-bootstrap" | "live";
  severity: "error" | "warning" | "info";
  code: string;
  path: string;
  message: string;
  hint?: string;
}
