import { HomelabError } from "../../errors.js";
import { Secret } from "../../secret.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveReference } from "./reference.js";

// The one place the Cloudflare API token is found, for the direct engine, the tofu engine and every
// command that calls Cloudflare: $CLOUDFLARE_API_TOKEN when set (the per-shell override, as
// SOPS_AGE_KEY or TALOSCONFIG are), else homelab.yaml's `tunnel.apiToken` reference (typically
// `sops:cloudflare.apiToken`, so a committed repo holds it encrypted).

/** The scopes the token needs, for messages. */
export const CLOUDFLARE_TOKEN_SCOPES = "Cloudflare Tunnel:Edit, DNS:Edit and Access: Apps and Policies:Edit";

/** Where the token comes from, for messages: `CLOUDFLARE_API_TOKEN` or `tunnel.apiToken (sops:…)`. */
export function cloudflareTokenSource(
  loaded: Pick<LoadedConfig, "config">,
  env: Record<string, string | undefined>,
): string | undefined {
  if (env.CLOUDFLARE_API_TOKEN) return "CLOUDFLARE_API_TOKEN";
  const ref = loaded.config.tunnel?.apiToken;
  return ref === undefined ? undefined : `tunnel.apiToken (${ref})`;
}

/**
 * The Cloudflare API token: $CLOUDFLARE_API_TOKEN, else `tunnel.apiToken` resolved (env:, file: or
 * sops:); undefined when neither is set.
 * @throws HomelabError SECRET_UNRESOLVED when `tunnel.apiToken` is set but gives no value
 */
export async function cloudflareApiToken(
  loaded: Pick<LoadedConfig, "config" | "dir" | "secrets">,
  env: Record<string, string | undefined>,
): Promise<Secret | undefined> {
  const fromEnv = env.CLOUDFLARE_API_TOKEN;
  if (fromEnv) return new Secret(fromEnv, "env:CLOUDFLARE_API_TOKEN");
  const ref = loaded.config.tunnel?.apiToken;
  if (ref === undefined) return undefined;
  const resolved = await resolveReference(ref, { dir: loaded.dir, env, secrets: loaded.secrets });
  if ("value" in resolved) return new Secret(resolved.value, ref);
  throw new HomelabError("SECRET_UNRESOLVED", `homelab.yaml tunnel.apiToken: ${resolved.problem}`, {
    hint: resolved.hint ?? "or set CLOUDFLARE_API_TOKEN",
  });
}

/** The error for a command that needs Cloudflare and has no token. */
export function missingCloudflareToken(what = "Cloudflare cannot be reached"): HomelabError {
  return new HomelabError(
    "MISSING_CREDENTIALS",
    `no Cloudflare API token (CLOUDFLARE_API_TOKEN is not set and homelab.yaml has no tunnel.apiToken): ${what}`,
    {
      hint: `set tunnel.apiToken: sops:cloudflare.apiToken in homelab.yaml (value via \`homelab secrets edit\`) or export CLOUDFLARE_API_TOKEN; the token needs ${CLOUDFLARE_TOKEN_SCOPES}`,
    },
  );
}
