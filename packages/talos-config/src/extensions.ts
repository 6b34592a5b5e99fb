import type { CloudflaredIntent, ExtensionsIntent, TailscaleIntent } from "./builders/intent.js";
import { fail, requireHostname, requireString } from "./builders/util.js";
import { TalosConfigError } from "./errors.js";
import type { ConfigDocument } from "./model/document.js";
import type { ExtensionServiceConfigDocument } from "./model/runtime.js";
import { formatCidr, formatIp, networkOf, parseCidr, parseIp } from "./net.js";
import { isPlainObject } from "./patch/values.js";

/** The extension services this package knows how to configure, with their Image Factory names. */
export const KNOWN_EXTENSION_SERVICES: Readonly<Record<"cloudflared" | "tailscale", string>> = Object.freeze({
  cloudflared: "siderolabs/cloudflared",
  tailscale: "siderolabs/tailscale",
});

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envEntry(name: string, value: string, field: string, secret: boolean): string {
  if (!ENV_NAME_RE.test(name)) fail(field, `${JSON.stringify(name)} is not an environment variable name`);
  requireString(value, field, secret);
  return `${name}=${value}`;
}

function extraEnvironment(env: unknown, field: string): [string, string][] {
  if (env === undefined) return [];
  if (!isPlainObject(env)) fail(field, "must be a mapping of variable names to values");
  return Object.entries(env).map(([k, v]) => {
    envEntry(k, v as string, `${field}.${k}`, true);
    return [k, v as string];
  });
}

function serviceDoc(name: string, pairs: [string, string][]): ExtensionServiceConfigDocument {
  return setExtensionEnvironment(
    { apiVersion: "v1alpha1", kind: "ExtensionServiceConfig", name, environment: [] },
    Object.fromEntries(pairs),
  );
}

/**
 * The ExtensionServiceConfig for cloudflared: `TUNNEL_TOKEN` (required) and `TUNNEL_METRICS` (optional);
 * with `nameservers`, a `configFiles` entry that mounts cloudflared's own `/etc/resolv.conf`.
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `extensions.cloudflared.<field>` (never the token).
 */
export function cloudflaredServiceConfig(options: CloudflaredIntent): ExtensionServiceConfigDocument {
  const field = "extensions.cloudflared";
  if (!isPlainObject(options)) fail(field, "must be a mapping");
  const token = requireString(options.token, `${field}.token`, true);
  if (/\s/.test(token)) fail(`${field}.token`, "must not contain whitespace");
  const pairs: [string, string][] = [["TUNNEL_TOKEN", token]];
  if (options.metrics !== undefined) {
    const metrics = requireString(options.metrics, `${field}.metrics`);
    if (!/^[^\s:]*:\d{1,5}$/.test(metrics) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(metrics)) {
      fail(`${field}.metrics`, `${JSON.stringify(metrics)} is not host:port like localhost:2000`);
    }
    pairs.push(["TUNNEL_METRICS", metrics]);
  }
  pairs.push(...extraEnvironment(options.environment, `${field}.environment`));
  const doc = serviceDoc("cloudflared", pairs);
  if (options.nameservers !== undefined) {
    if (!Array.isArray(options.nameservers) || options.nameservers.length === 0)
      fail(`${field}.nameservers`, "must be a non-empty list of IP addresses");
    const servers = options.nameservers.map((ns, i) => formatIp(parseIp(ns, `${field}.nameservers[${i}]`)));
    if (servers.length > 3)
      fail(`${field}.nameservers`, "a resolv.conf takes 3 nameservers at most (later ones are ignored)");
    doc.configFiles = [{ content: cloudflaredResolvConf(servers), mountPath: "/etc/resolv.conf" }];
  }
  return doc;
}

/**
 * cloudflared's own resolv.conf: the servers in order, one-second timeouts, two rounds. Mounted over
 * the host's (see docs/dns.md), so only cloudflared asks CoreDNS first.
 */
function cloudflaredResolvConf(servers: readonly string[]): string {
  return `${servers.map((s) => `nameserver ${s}`).join("\n")}\noptions timeout:1 attempts:2\n`;
}

/**
 * The ExtensionServiceConfig for tailscale: `TS_AUTHKEY` (required), `TS_AUTH_ONCE`, `TS_ROUTES` (comma-separated CIDRs),
 * `TS_HOSTNAME`, `TS_EXTRA_ARGS` (space-separated).
 *
 * @throws TalosConfigError `INVALID_INPUT` / `INVALID_CIDR` naming `extensions.tailscale.<field>` (never the key).
 */
export function tailscaleServiceConfig(options: TailscaleIntent): ExtensionServiceConfigDocument {
  const field = "extensions.tailscale";
  if (!isPlainObject(options)) fail(field, "must be a mapping");
  const authKey = requireString(options.authKey, `${field}.authKey`, true);
  if (/\s/.test(authKey)) fail(`${field}.authKey`, "must not contain whitespace");
  const pairs: [string, string][] = [["TS_AUTHKEY", authKey]];
  if (options.authOnce !== undefined) {
    if (typeof options.authOnce !== "boolean") fail(`${field}.authOnce`, "must be true or false");
    pairs.push(["TS_AUTH_ONCE", String(options.authOnce)]);
  }
  if (options.routes !== undefined) {
    if (!Array.isArray(options.routes)) fail(`${field}.routes`, "must be a list of CIDRs");
    const routes = options.routes.map((r, i) => formatCidr(networkOf(parseCidr(r, `${field}.routes[${i}]`))));
    if (routes.length > 0) pairs.push(["TS_ROUTES", routes.join(",")]);
  }
  if (options.hostname !== undefined)
    pairs.push(["TS_HOSTNAME", requireHostname(options.hostname, `${field}.hostname`)]);
  if (options.extraArgs !== undefined) {
    if (!Array.isArray(options.extraArgs)) fail(`${field}.extraArgs`, "must be a list of arguments");
    const args = options.extraArgs.map((a, i) => {
      const arg = requireString(a, `${field}.extraArgs[${i}]`);
      if (/\s/.test(arg))
        fail(`${field}.extraArgs[${i}]`, "must not contain whitespace (one argument per entry)");
      return arg;
    });
    if (args.length > 0) pairs.push(["TS_EXTRA_ARGS", args.join(" ")]);
  }
  pairs.push(...extraEnvironment(options.environment, `${field}.environment`));
  return serviceDoc("tailscale", pairs);
}

/**
 * ExtensionServiceConfig documents for every extension in `extensions`.
 *
 * @throws TalosConfigError `UNKNOWN_EXTENSION` naming `extensions.<name>` for an extension this package does not know.
 */
export function buildExtensionServices(extensions: ExtensionsIntent): ConfigDocument[] {
  if (!isPlainObject(extensions)) fail("extensions", "must be a mapping");
  const docs: ConfigDocument[] = [];
  for (const name of Object.keys(extensions).sort()) {
    const value = (extensions as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (name === "cloudflared") docs.push(cloudflaredServiceConfig(value as CloudflaredIntent));
    else if (name === "tailscale") docs.push(tailscaleServiceConfig(value as TailscaleIntent));
    else {
      throw new TalosConfigError(
        "UNKNOWN_EXTENSION",
        `extensions.${name}: unknown extension (known: ${Object.keys(KNOWN_EXTENSION_SERVICES).join(", ")})`,
        { details: { field: `extensions.${name}` } },
      );
    }
  }
  return docs;
}

/** The variable name of a `KEY=value` entry (the whole entry when it has no `=`). */
export function environmentName(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.slice(0, eq);
}

/**
 * A copy of an ExtensionServiceConfig with variables set (replaced in place, never duplicated; new ones
 * appended) or removed (`undefined` value). Existing duplicates of a set variable collapse into one.
 *
 * @throws TalosConfigError `INVALID_INPUT` for an invalid variable name or value (never echoing the value).
 */
export function setExtensionEnvironment<D extends ConfigDocument>(
  doc: D,
  variables: Record<string, string | undefined>,
): D {
  const current = Array.isArray(doc.environment) ? (doc.environment as string[]) : [];
  const out: string[] = [];
  const written = new Set<string>();
  for (const entry of current) {
    const name = environmentName(entry);
    if (!Object.hasOwn(variables, name)) {
      out.push(entry);
      continue;
    }
    const value = variables[name];
    if (value === undefined || written.has(name)) continue;
    out.push(envEntry(name, value, `environment.${name}`, true));
    written.add(name);
  }
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined || written.has(name)) continue;
    out.push(envEntry(name, value, `environment.${name}`, true));
    written.add(name);
  }
  const copy = { ...doc, environment: out };
  if (out.length === 0) delete (copy as ConfigDocument).environment;
  return copy;
}

/**
 * Merges ExtensionServiceConfig `updates` into a full config: a service that already has a document gets
 * its variables replaced (not appended, unlike a strategic-merge patch) and its config files replaced by
 * mount path; a new service is appended. Other documents are kept as they are.
 */
export function upsertExtensionServices(
  docs: readonly ConfigDocument[],
  updates: readonly ConfigDocument[],
): ConfigDocument[] {
  const out = docs.map((d) => d);
  for (const update of updates) {
    const index = out.findIndex((d) => d.kind === "ExtensionServiceConfig" && d.name === update.name);
    if (index < 0) {
      out.push(update);
      continue;
    }
    const existing = out[index]!;
    const vars: Record<string, string> = {};
    for (const entry of (update.environment as string[] | undefined) ?? []) {
      const eq = entry.indexOf("=");
      vars[environmentName(entry)] = eq < 0 ? "" : entry.slice(eq + 1);
    }
    let merged = setExtensionEnvironment(existing, vars);
    const files = update.configFiles as { mountPath: string; content: string }[] | undefined;
    if (files !== undefined) {
      const kept = ((existing.configFiles as { mountPath: string }[] | undefined) ?? []).filter(
        (f) => !files.some((n) => n.mountPath === f.mountPath),
      );
      merged = { ...merged, configFiles: [...kept, ...files] };
    }
    out[index] = merged;
  }
  return out;
}

/**
 * Patches that replace ExtensionServiceConfig documents on an existing config without duplicating
 * variables: the first patch deletes each service's document (`$patch: delete`, skipped by Talos when it
 * does not exist), the second adds the new one. Apply them in order, as two patches (a strategic-merge
 * patch alone would append to `environment`).
 */
export function replaceExtensionServicesPatches(updates: readonly ConfigDocument[]): ConfigDocument[][] {
  const deletes = updates.map((doc) => {
    if (doc.kind !== "ExtensionServiceConfig" || typeof doc.name !== "string") {
      fail("updates", "must be ExtensionServiceConfig documents with a name");
    }
    return { apiVersion: "v1alpha1", kind: "ExtensionServiceConfig", name: doc.name, $patch: "delete" };
  });
  return [deletes, updates.map((doc) => ({ ...doc }))];
}
