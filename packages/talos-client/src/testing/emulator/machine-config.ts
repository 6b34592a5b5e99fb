import { X509Certificate } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { parseAllDocuments } from "yaml";
import { decodePemValue } from "../../internal/pem.js";
import { type ParsedConfig, StatusError } from "./types.js";

function b64Pem(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, `${field} is missing from the machine config`);
  }
  try {
    return decodePemValue(value);
  } catch {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, `${field} is not base64 PEM`);
  }
}

/** Reads what the emulator needs from a machine config; bad input fails INVALID_ARGUMENT like apid. */
export function parseMachineConfig(raw: string, configured = false): ParsedConfig {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(raw).map((d) => {
      if (d.errors.length > 0) throw d.errors[0];
      return d.toJS() as unknown;
    });
  } catch (error) {
    throw new StatusError(
      grpc.status.INVALID_ARGUMENT,
      `failed to parse config: invalid YAML at line ${(error as { linePos?: { line: number }[] }).linePos?.[0]?.line ?? "?"}`,
    );
  }
  const objects = docs.filter((d): d is Record<string, unknown> => d !== null && typeof d === "object");
  const v1 = objects.find((d) => d.version === "v1alpha1");
  if (v1 === undefined) {
    // A configured node refuses a config without the v1alpha1 document (talos v1.13.9
    // internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go ApplyConfiguration); the
    // emulator needs it in maintenance too (its CA and cluster identity live there).
    throw new StatusError(
      grpc.status.INVALID_ARGUMENT,
      configured
        ? "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?"
        : "the machine config has no v1alpha1 document",
    );
  }
  const machine = (v1.machine ?? {}) as Record<string, unknown>;
  const cluster = (v1.cluster ?? {}) as Record<string, unknown>;
  const type = machine.type;
  if (type !== "controlplane" && type !== "worker" && type !== "init") {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, `unknown machine type ${JSON.stringify(type)}`);
  }
  const caNode = (machine.ca ?? {}) as Record<string, unknown>;
  // Workers carry only the CA certificate; their apid certificate comes from trustd on a control plane.
  const hasKey = typeof caNode.key === "string" && caNode.key !== "";
  if (!hasKey && type !== "worker") {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "machine.ca.key is missing from the machine config");
  }
  const ca = {
    crt: b64Pem(caNode.crt, "machine.ca.crt"),
    key: hasKey ? b64Pem(caNode.key, "machine.ca.key") : "",
  };
  try {
    new X509Certificate(ca.crt);
  } catch {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "machine.ca.crt is not a certificate");
  }
  const hostnameDoc = objects.find((d) => d.kind === "HostnameConfig");
  const network = (machine.network ?? {}) as Record<string, unknown>;
  const hostname =
    typeof hostnameDoc?.hostname === "string"
      ? hostnameDoc.hostname
      : typeof network.hostname === "string"
        ? network.hostname
        : undefined;
  const controlPlane = (cluster.controlPlane ?? {}) as Record<string, unknown>;
  // 1.14+ configs carry the cluster identity in a KubeClusterConfig document instead.
  const kubeCluster = objects.find((d) => d.kind === "KubeClusterConfig") ?? {};
  const extensions = objects
    .filter((d) => d.kind === "ExtensionServiceConfig" && typeof d.name === "string")
    .map((d) => ({
      name: d.name as string,
      environment: Array.isArray(d.environment) ? d.environment.map((e) => String(e)) : [],
      configFiles: Array.isArray(d.configFiles)
        ? d.configFiles.map((f) => String((f as Record<string, unknown>)?.mountPath ?? ""))
        : [],
    }));
  return {
    raw,
    type,
    ca,
    clusterName:
      typeof cluster.clusterName === "string"
        ? cluster.clusterName
        : typeof kubeCluster.clusterName === "string"
          ? kubeCluster.clusterName
          : "talos",
    endpoint:
      typeof controlPlane.endpoint === "string"
        ? controlPlane.endpoint
        : typeof kubeCluster.endpoint === "string"
          ? kubeCluster.endpoint
          : "https://127.0.0.1:6443",
    hostname,
    extensions,
  };
}
