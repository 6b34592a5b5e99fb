import Cloudflare from "cloudflare";
import { afterEach } from "vitest";
import type { RetryOptions, RouteInput } from "../src/index.js";
import {
  CLOUDFLARE_API_BASE_URL,
  type CloudflareEmulator,
  createCloudflareEmulator,
  type RequestLogEntry,
} from "../src/testing/index.js";
import { createValidator } from "./openapi.js";
import { server } from "./setup.js";

export const ACCOUNT = "0123456789abcdef0123456789abcdef";
export const ZONE = "example.com";
export const TUNNEL = "homelab";

const validator = createValidator();
const active: CloudflareEmulator[] = [];

afterEach(() => {
  const emulators = active.splice(0);
  const errors = emulators.flatMap((e) => e.requestLog.flatMap((entry) => validator.validate(entry)));
  if (errors.length > 0) {
    throw new Error(`emulator exchanges drifted from the OpenAPI subset:\n${errors.slice(0, 10).join("\n")}`);
  }
});

/** What {@link setup} returns. */
export interface Harness {
  emulator: CloudflareEmulator;
  client: Cloudflare;
  sleeps: number[];
  retry: RetryOptions;
  base: { client: Cloudflare; accountId: string; zone: string; tunnelName: string; retry: RetryOptions };
  writes(): RequestLogEntry[];
  mark(): number;
  since(mark: number): RequestLogEntry[];
}

/** An emulator wired into msw, a fake-token SDK client and recorded sleeps. */
export function setup(options: { zones?: string[]; batchLimit?: number; maxPerPage?: number } = {}): Harness {
  const emulator = createCloudflareEmulator({
    accountId: ACCOUNT,
    zones: (options.zones ?? [ZONE]).map((name) => ({ name })),
    ...(options.batchLimit === undefined ? {} : { batchLimit: options.batchLimit }),
    ...(options.maxPerPage === undefined ? {} : { maxPerPage: options.maxPerPage }),
  });
  active.push(emulator);
  server.use(...emulator.handlers);
  const client = new Cloudflare({ apiToken: "test-token", baseURL: CLOUDFLARE_API_BASE_URL, maxRetries: 0 });
  const sleeps: number[] = [];
  const retry: RetryOptions = {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
  };
  const base = { client, accountId: ACCOUNT, zone: ZONE, tunnelName: TUNNEL, retry };
  return {
    emulator,
    client,
    sleeps,
    retry,
    base,
    writes: () => emulator.requestLog.filter((e) => e.method !== "GET"),
    mark: () => emulator.requestLog.length,
    since: (m) => emulator.requestLog.slice(m),
  };
}

/** `n` protected routes app-0 .. app-(n-1). */
export function routes(n: number, extra: Partial<RouteInput> = {}): RouteInput[] {
  return Array.from({ length: n }, (_, i) => ({
    hostname: `app-${i}.${ZONE}`,
    service: `http://app-${i}.apps.svc.cluster.local:80`,
    access: { emails: ["me@example.org"] },
    ...extra,
  }));
}
