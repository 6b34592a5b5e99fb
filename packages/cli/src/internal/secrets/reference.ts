import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { SecretsStore } from "./store.js";

// One meaning for a secret reference wherever homelab.yaml holds one (tailscale.authKey,
// tunnel.apiToken, argocd.clusterSecrets[].data): `env:NAME`, `file:PATH` (relative to homelab.yaml)
// or `sops:key.path` (a value in the `secrets:` file).

/** Where references are resolved. */
export interface ReferenceScope {
  /** homelab.yaml's directory (`file:` paths are relative to it). */
  dir: string;
  env: Record<string, string | undefined>;
  /** The SOPS file, when homelab.yaml has `secrets:`. */
  secrets?: SecretsStore | undefined;
  /** Reads a `file:` reference (default: the file system). */
  readSecretFile?: ((path: string) => Promise<string>) | undefined;
}

/** A resolved reference: its value, or why there is none (never the value itself). */
export type Resolved = { value: string } | { problem: string; hint?: string };

function errnoReason(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return "cannot read it";
}

/** Resolves one secret reference; a missing variable, file or key is a `problem`, not a throw. */
export async function resolveReference(ref: string, scope: ReferenceScope): Promise<Resolved> {
  if (ref.startsWith("env:")) {
    const name = ref.slice("env:".length);
    const value = scope.env[name];
    if (value === undefined || value === "")
      return {
        problem: `secret reference ${ref}: environment variable ${name} is not set`,
        hint: `export ${name}=… before running homelab, or use file:PATH or sops:key.path`,
      };
    return { value };
  }
  if (ref.startsWith("file:")) {
    const path = ref.slice("file:".length);
    const full = isAbsolute(path) ? path : resolve(scope.dir, path);
    let text: string;
    try {
      text = await (scope.readSecretFile ?? ((f: string) => readFile(f, "utf8")))(full);
    } catch (error) {
      return {
        problem: `secret reference ${ref}: ${errnoReason(error)} (${full})`,
        hint: "paths are relative to homelab.yaml's directory; create the file (mode 0600) or fix the path",
      };
    }
    const value = text.trim();
    if (value === "")
      return { problem: `secret reference ${ref}: the file is empty`, hint: `write the secret into ${full}` };
    return { value };
  }
  if (ref.startsWith("sops:")) {
    if (!scope.secrets)
      return {
        problem: `secret reference ${ref}: homelab.yaml has no secrets: section`,
        hint: "run `homelab secrets init` to set one up",
      };
    const keyPath = ref.slice("sops:".length);
    let value: unknown;
    try {
      value = await scope.secrets.get(keyPath);
    } catch (error) {
      const reason = (error as { rawMessage?: string }).rawMessage ?? (error as Error).message;
      return { problem: `secret reference ${ref}: cannot decrypt ${scope.secrets.path}: ${reason}` };
    }
    if (typeof value === "number" || typeof value === "bigint") value = String(value);
    if (typeof value !== "string" || value === "")
      return {
        problem: `secret reference ${ref}: ${scope.secrets.path} has no text value at ${keyPath}`,
        hint: `add it with \`homelab secrets edit\` (key ${keyPath})`,
      };
    return { value };
  }
  return { problem: `${ref} is not a secret reference (env:NAME, file:PATH or sops:key.path)` };
}

/** A reference of homelab.yaml that gives no value, with where it is (`argocd.clusterSecrets[0].data.x`). */
export interface ReferenceProblem {
  path: string;
  ref: string;
  problem: string;
  hint?: string;
}

/**
 * Every secret reference of homelab.yaml that gives no value: tailscale.authKey, tunnel.apiToken (unless
 * CLOUDFLARE_API_TOKEN is set, which wins) and argocd.clusterSecrets. Values are never returned.
 */
export async function referenceProblems(
  loaded: {
    dir: string;
    secrets?: SecretsStore | undefined;
    config: {
      tailscale?: { authKey: { source: string } } | undefined;
      tunnel?: { apiToken?: string | undefined } | undefined;
      argocd?: { clusterSecrets?: { data: Record<string, string> }[] | undefined } | undefined;
    };
  },
  env: Record<string, string | undefined>,
): Promise<ReferenceProblem[]> {
  const refs: { path: string; ref: string }[] = [];
  const { tailscale, tunnel, argocd } = loaded.config;
  if (tailscale) refs.push({ path: "tailscale.authKey", ref: tailscale.authKey.source });
  if (tunnel?.apiToken !== undefined && !env.CLOUDFLARE_API_TOKEN)
    refs.push({ path: "tunnel.apiToken", ref: tunnel.apiToken });
  for (const [index, secret] of (argocd?.clusterSecrets ?? []).entries())
    for (const [key, ref] of Object.entries(secret.data))
      refs.push({ path: `argocd.clusterSecrets[${index}].data.${key}`, ref });
  const scope = { dir: loaded.dir, env, secrets: loaded.secrets };
  const problems: ReferenceProblem[] = [];
  for (const { path, ref } of refs) {
    const resolved = await resolveReference(ref, scope);
    if ("problem" in resolved)
      problems.push({
        path,
        ref,
        problem: resolved.problem,
        ...(resolved.hint ? { hint: resolved.hint } : {}),
      });
  }
  return problems;
}
