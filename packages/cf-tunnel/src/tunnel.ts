import { randomBytes } from "node:crypto";
import { CfTunnelError } from "./errors.js";
import { createRetrier, PERMISSIONS, type Retrier } from "./internal/call.js";
import type { ClientOptions } from "./types.js";

/** A tunnel as the library sees it. */
export interface TunnelInfo {
  id: string;
  name: string;
}

/** Options for {@link ensureTunnel}. */
export interface EnsureTunnelOptions extends ClientOptions {
  accountId: string;
  /** Tunnel name (unique among the account's live tunnels). */
  name: string;
  /** Read the connector token (default true). */
  withToken?: boolean;
}

/** Result of {@link ensureTunnel}. `token` is a secret: never log it. */
export interface EnsureTunnelResult {
  id: string;
  name: string;
  /** The connector token for `cloudflared tunnel run --token` (empty when `withToken: false`). */
  token: string;
  created: boolean;
}

/** @internal Finds the live (not deleted) tunnel with this name. */
export async function findTunnel(
  retrier: Retrier,
  options: { client: ClientOptions["client"]; accountId: string; name: string },
): Promise<TunnelInfo | undefined> {
  const { client, accountId, name } = options;
  return retrier.call({
    what: `looking up tunnel "${name}"`,
    permission: PERMISSIONS.tunnelRead,
    run: async (requestOptions) => {
      const page = await client.zeroTrust.tunnels.cloudflared.list(
        { account_id: accountId, name, is_deleted: false, per_page: 50 },
        requestOptions,
      );
      const hit = page.result.find((t) => t.name === name && !t.deleted_at && typeof t.id === "string");
      if (
        hit &&
        (hit.config_src === "local" || (hit.config_src === undefined && hit.remote_config === false))
      ) {
        throw new CfTunnelError(
          "CONFLICT",
          `tunnel "${name}" is locally managed (config_src: local); cf-tunnel manages remotely managed tunnels only: pick another tunnel name or migrate it in the dashboard`,
          { details: { tunnelId: hit.id, tunnelName: name } },
        );
      }
      return hit ? { id: hit.id as string, name } : undefined;
    },
  });
}

/** @internal Reads the connector token of a tunnel. */
export async function readToken(
  retrier: Retrier,
  options: { client: ClientOptions["client"]; accountId: string; tunnelId: string },
): Promise<string> {
  const { client, accountId, tunnelId } = options;
  const token = await retrier.call({
    what: "reading the tunnel token",
    permission: PERMISSIONS.tunnelWrite,
    run: (requestOptions) =>
      client.zeroTrust.tunnels.cloudflared.token.get(tunnelId, { account_id: accountId }, requestOptions),
  });
  if (typeof token !== "string" || token === "") {
    throw new CfTunnelError("API_ERROR", "Cloudflare returned no tunnel token", { details: { tunnelId } });
  }
  return token;
}

/** @internal Creates a remotely managed tunnel, idempotently (a lost response is recovered by name). */
export async function createTunnel(
  retrier: Retrier,
  options: { client: ClientOptions["client"]; accountId: string; name: string },
): Promise<TunnelInfo> {
  const { client, accountId, name } = options;
  return retrier.call({
    what: `creating tunnel "${name}"`,
    permission: PERMISSIONS.tunnelWrite,
    run: async (requestOptions) => {
      const t = await client.zeroTrust.tunnels.cloudflared.create(
        { account_id: accountId, name, config_src: "cloudflare" },
        requestOptions,
      );
      if (typeof t.id !== "string")
        throw new CfTunnelError("API_ERROR", "Cloudflare returned a tunnel without id");
      return { id: t.id, name };
    },
    recover: () => findTunnel(retrier, options),
    // "You already have a tunnel with this name": another run (or a replayed request) created it first.
    alreadyExistsCodes: [1013],
  });
}

/**
 * Finds the remotely managed tunnel by name (ignoring deleted ones) or creates it with `config_src: cloudflare`,
 * then reads its connector token.
 *
 * @throws CfTunnelError `UNAUTHORIZED` (naming the missing token permission), `RATE_LIMITED`, `API_ERROR`,
 *   `ABORTED`.
 */
export async function ensureTunnel(options: EnsureTunnelOptions): Promise<EnsureTunnelResult> {
  const retrier = createRetrier(options);
  const { client, accountId, name } = options;
  if (typeof name !== "string" || name.trim() === "") {
    throw new CfTunnelError("INVALID_ROUTE", "tunnelName: a tunnel name is required", {
      details: { field: "name" },
    });
  }
  let tunnel = await findTunnel(retrier, { client, accountId, name });
  let created = false;
  if (!tunnel) {
    tunnel = await createTunnel(retrier, { client, accountId, name });
    created = true;
    retrier.emit({
      type: "tunnel.created",
      message: `created tunnel ${name} (${tunnel.id})`,
      tunnelId: tunnel.id,
    });
  }
  const token =
    options.withToken === false ? "" : await readToken(retrier, { client, accountId, tunnelId: tunnel.id });
  const result: EnsureTunnelResult = { id: tunnel.id, name, token, created };
  hideToken(result);
  return result;
}

/** Keeps `token` out of JSON, `util.inspect` and string conversions while leaving it readable. */
function hideToken<T extends { token: string }>(result: T): void {
  const token = result.token;
  Object.defineProperty(result, "token", { value: token, enumerable: false, writable: false });
  Object.defineProperty(result, Symbol.for("nodejs.util.inspect.custom"), {
    value: () => ({ ...result, token: "[redacted]" }),
    enumerable: false,
  });
}

/** Options for {@link rotateTunnelToken}. */
export interface RotateTunnelTokenOptions extends ClientOptions {
  accountId: string;
  tunnelId: string;
}

/**
 * Gives the tunnel a new random secret and returns the new connector token. Connectors using the old token keep
 * their current connections but cannot reconnect: roll the new token out to every node.
 *
 * @throws CfTunnelError `UNAUTHORIZED`, `NOT_FOUND`, `RATE_LIMITED`, `API_ERROR`, `ABORTED`.
 */
export async function rotateTunnelToken(options: RotateTunnelTokenOptions): Promise<{ token: string }> {
  const retrier = createRetrier(options);
  const { client, accountId, tunnelId } = options;
  const secret = randomBytes(32).toString("base64");
  await retrier.call({
    what: "setting a new tunnel secret",
    permission: PERMISSIONS.tunnelWrite,
    run: (requestOptions) =>
      client.zeroTrust.tunnels.cloudflared.edit(
        tunnelId,
        { account_id: accountId, tunnel_secret: secret },
        requestOptions,
      ),
  });
  retrier.emit({
    type: "tunnel.token.rotated",
    message: `rotated the secret of tunnel ${tunnelId}`,
    tunnelId,
  });
  const result = { token: await readToken(retrier, { client, accountId, tunnelId }) };
  hideToken(result);
  return result;
}
