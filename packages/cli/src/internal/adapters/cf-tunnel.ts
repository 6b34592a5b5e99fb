import { loadLibrary } from "./load-module.js";

// The cf-tunnel surface the CLI uses, as fixed in CONTRACTS.md.

export interface RouteInput {
  hostname: string;
  service: string;
  path?: string;
  originRequest?: Record<string, unknown>;
  public?: boolean;
  access?: { emails?: string[]; emailDomains?: string[]; groups?: string[]; serviceTokens?: string[] };
  adopt?: boolean;
}

export type Plan = { changes?: unknown[]; [key: string]: unknown };

export interface CfTunnelModule {
  validateRoutes(options: { zone: string; routes: RouteInput[] }): unknown;
  ensureTunnel(options: { client: unknown; accountId: string; name: string }): Promise<{
    id: string;
    name: string;
    token: string;
    created: boolean;
  }>;
  reconcile(options: {
    client: unknown;
    accountId: string;
    zone: string;
    tunnelName: string;
    routes: RouteInput[];
    dryRun?: boolean;
    onProgress?: (event: { type: string; message: string }) => void;
    signal?: AbortSignal;
  }): Promise<{ tunnel: { id: string; name: string; created: boolean }; plan: Plan; applied: boolean }>;
  renderPlan(plan: Plan): string;
  audit(options: {
    client: unknown;
    accountId: string;
    zone: string;
    tunnelName?: string;
    tunnelId?: string;
  }): Promise<Record<string, unknown>>;
  rotateTunnelToken(options: {
    client: unknown;
    accountId: string;
    tunnelId: string;
  }): Promise<{ token: string }>;
}

export interface CloudflareEmulator {
  listen(): Promise<{ url: string; close(): Promise<void> }>;
  state: unknown;
  requestLog: unknown[];
}

export interface CfTunnelTestingModule {
  createCloudflareEmulator(options?: {
    accountId?: string;
    zones?: { name: string; id?: string }[];
  }): CloudflareEmulator;
}

/** cf-tunnel, or a NOT_AVAILABLE error naming `feature`. */
export function loadCfTunnel(
  feature: string,
  needed: readonly string[] = ["reconcile", "renderPlan"],
): Promise<CfTunnelModule> {
  return loadLibrary<CfTunnelModule>("@talos-homelab/cf-tunnel", needed, feature);
}

/** cf-tunnel/testing (the Cloudflare emulator), or NOT_AVAILABLE. */
export function loadCfTesting(feature: string): Promise<CfTunnelTestingModule> {
  return loadLibrary<CfTunnelTestingModule>(
    "@talos-homelab/cf-tunnel/testing",
    ["createCloudflareEmulator"],
    feature,
  );
}
