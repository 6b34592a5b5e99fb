import * as grpc from "@grpc/grpc-js";
import { CONTROL_PLANE_ONLY } from "../../talos-lines.js";
import type { NodeImpl } from "../store.js";
import { type ParsedConfig, StatusError } from "../types.js";

export function requireConfigured(node: NodeImpl): ParsedConfig {
  if (node.config === undefined)
    throw new StatusError(grpc.status.FAILED_PRECONDITION, "the node is not configured");
  return node.config;
}

/** talos internal/app/internal/machinehelper/machinehelper.go CheckControlplane (UNIMPLEMENTED on a worker). */
export function requireControlPlane(node: NodeImpl, method: string): ParsedConfig {
  const what = CONTROL_PLANE_ONLY[method] ?? method;
  if (node.config === undefined) {
    throw new StatusError(grpc.status.UNIMPLEMENTED, `machine type is not set, cannot use ${what} API`);
  }
  if (node.config.type === "worker") {
    throw new StatusError(grpc.status.UNIMPLEMENTED, `${what} is only available on control plane nodes`);
  }
  return node.config;
}
