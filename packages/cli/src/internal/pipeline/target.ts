import type { ProcessRunner } from "../adapters/argo-bootstrap.js";
import type { LabInfo } from "../lab/lab.js";

/** How the pipeline reaches nodes, Cloudflare and helm: real hardware or the simulated lab. */
export interface Target {
  kind: "real" | "lab";
  /** The Talos API endpoint of a node (real: its address, port 50000; lab: 127.0.0.1:PORT). */
  talosEndpoint(node: { name: string; address: string }): string;
  /** Cloudflare API base URL and token (real: from the environment). */
  cloudflare: { baseURL?: string; apiToken?: string };
  /** The helm runner. */
  helm: ProcessRunner;
}

/** A target that reaches the simulated lab described by `info`. */
export function labTarget(info: LabInfo, helm: ProcessRunner): Target {
  const byName = new Map(info.nodes.map((n) => [n.name, n.endpoint]));
  return {
    kind: "lab",
    talosEndpoint: (node) => byName.get(node.name) ?? node.address,
    cloudflare: { baseURL: info.cloudflare.url, apiToken: info.cloudflare.apiToken },
    helm,
  };
}

/** A target for real hardware; Cloudflare credentials come from the environment. */
export function realTarget(env: Record<string, string | undefined>, helm: ProcessRunner): Target {
  const cloudflare: Target["cloudflare"] = {};
  if (env.CLOUDFLARE_API_TOKEN) cloudflare.apiToken = env.CLOUDFLARE_API_TOKEN;
  if (env.CLOUDFLARE_BASE_URL) cloudflare.baseURL = env.CLOUDFLARE_BASE_URL;
  return { kind: "real", talosEndpoint: (node) => node.address, cloudflare, helm };
}
