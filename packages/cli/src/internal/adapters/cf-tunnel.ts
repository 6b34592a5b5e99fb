import type * as CfTunnelLibrary from "@talos-homelab/cf-tunnel";
import type * as CfTunnelTestingLibrary from "@talos-homelab/cf-tunnel/testing";
import type Cloudflare from "cloudflare";

// Loaded on first use so `--help`/`--version` never pay for the Cloudflare SDK; the types are the library's own.

export type { Plan, ProgressEvent, ReconcileResult, RouteInput } from "@talos-homelab/cf-tunnel";
export type { CloudflareEmulator } from "@talos-homelab/cf-tunnel/testing";

export type CfTunnelModule = typeof CfTunnelLibrary;
export type CfTunnelTestingModule = typeof CfTunnelTestingLibrary;

/** @talos-homelab/cf-tunnel, imported lazily. */
export function loadCfTunnel(): Promise<CfTunnelModule> {
  return import("@talos-homelab/cf-tunnel");
}

/** @talos-homelab/cf-tunnel/testing (the Cloudflare emulator), imported lazily. */
export function loadCfTesting(): Promise<CfTunnelTestingModule> {
  return import("@talos-homelab/cf-tunnel/testing");
}

/** A Cloudflare SDK client (the SDK is imported lazily); `baseURL` points it at the emulator. */
export async function createCloudflare(options: {
  apiToken: string;
  baseURL?: string | undefined;
  maxRetries: number;
}): Promise<Cloudflare> {
  const { default: Cloudflare } = await import("cloudflare");
  return new Cloudflare({
    apiToken: options.apiToken,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    maxRetries: options.maxRetries,
  });
}
