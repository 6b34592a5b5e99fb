import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CfTunnelError } from "../errors.js";
import { type CloudflareEmulatorOptions, createEmulatorCore, type EmulatorCore } from "./emulator.js";

/** msw when installed (an optional peer dependency that only `handlers` needs). */
const msw: typeof import("msw") | undefined = await import("msw").catch(() => undefined);

/** The base URL the `cloudflare` SDK uses by default; {@link CloudflareEmulator.handlers} intercept it. */
export const CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/** A running HTTP server wrapping the emulator. */
export interface EmulatorServer {
  /** `http://127.0.0.1:PORT/client/v4`: pass it as the SDK's `baseURL`. */
  url: string;
  close(): Promise<void>;
}

/** A stateful in-memory Cloudflare API with msw handlers and a real HTTP server. */
export interface CloudflareEmulator extends EmulatorCore {
  /**
   * msw handlers for `https://api.cloudflare.com/client/v4` wrapping {@link EmulatorCore.handle}: pass them to
   * `server.use(...emulator.handlers)`. Typed `never[]` so that this declaration pulls in none of msw's
   * DOM-based types (consumers without the DOM lib still type-check) while the spread stays assignable.
   */
  readonly handlers: never[];
  /** Starts a node:http server on 127.0.0.1 (random port) serving {@link EmulatorCore.handle}. */
  listen(): Promise<EmulatorServer>;
}

/**
 * Creates a stateful Cloudflare API emulator: zones, tunnels (list filters, token, configurations,
 * connections), DNS records (filters, real pagination, create/patch/put/delete/batch, CNAME conflicts),
 * Access applications and reusable policies, the real envelope and error codes, fault injection and a
 * request log.
 *
 * @example
 * ```ts
 * const emulator = createCloudflareEmulator({ zones: [{ name: "example.com" }] });
 * const server = await emulator.listen();
 * const client = new Cloudflare({ apiToken: "test", baseURL: server.url, maxRetries: 0 });
 * // ... later
 * await server.close();
 * ```
 */
export function createCloudflareEmulator(options: CloudflareEmulatorOptions = {}): CloudflareEmulator {
  const core = createEmulatorCore(options);
  let handlers: never[] | undefined;
  return {
    ...core,
    // msw is an optional peer dependency: only `handlers` needs it, `listen()` and `handle()` do not.
    get handlers(): never[] {
      if (!msw) {
        throw new CfTunnelError(
          "INTERNAL",
          "emulator.handlers needs the msw package: install msw next to @talos-homelab/cf-tunnel, or use listen()",
        );
      }
      const { http } = msw;
      handlers ??= [
        http.all(`${CLOUDFLARE_API_BASE_URL}/*`, ({ request }) => core.handle(request)),
      ] as never[];
      return handlers;
    },
    listen: () => listen(core),
  };
}

async function listen(core: EmulatorCore): Promise<EmulatorServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(key, value);
        else if (Array.isArray(value)) for (const v of value) headers.append(key, v);
      }
      const method = req.method ?? "GET";
      const body = chunks.length > 0 && method !== "GET" && method !== "HEAD" ? Buffer.concat(chunks) : null;
      const request = new Request(`http://127.0.0.1${req.url ?? "/"}`, { method, headers, body });
      core
        .handle(request)
        .then(async (response) => {
          const text = await response.text();
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              success: false,
              errors: [{ code: 10001, message: "Internal server error" }],
              messages: [],
              result: null,
            }),
          );
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/client/v4`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export type {
  CloudflareEmulatorOptions,
  EmulatedAccessApp,
  EmulatedAccessPolicy,
  EmulatedConnector,
  EmulatedDnsRecord,
  EmulatedTunnel,
  EmulatedZone,
  EmulatorCore,
  EmulatorSnapshot,
  EmulatorState,
  FaultRule,
  RequestLogEntry,
  SeedDnsRecord,
} from "./emulator.js";
