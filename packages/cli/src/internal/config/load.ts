import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { type ConfigIssue, HomelabError } from "../../errors.js";
import { Secret } from "../../secret.js";
import { createSecretsStore, type SecretsStore } from "../secrets/store.js";
import { type HomelabFile, homelabSchema } from "./schema.js";

type PathKey = string | number;

/** A loaded, validated homelab.yaml with its secrets resolved. */
export interface HomelabConfig extends Omit<HomelabFile, "tailscale"> {
  tailscale?: Omit<NonNullable<HomelabFile["tailscale"]>, "authKey"> & { authKey: Secret };
}

/** What {@link loadConfig} returns. */
export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  /** Directory of the file: relative paths in it resolve from here. */
  dir: string;
  /** The validated configuration. */
  config: HomelabConfig;
  /** The raw YAML text. */
  text: string;
  /** Non-fatal notes (e.g. placeholder secrets in the simulated lab). */
  warnings: string[];
  /** The SOPS-encrypted secrets file, when homelab.yaml has a `secrets:` section. */
  secrets?: SecretsStore;
}

/** Options for {@link loadConfig} and {@link parseConfig}. */
export interface LoadConfigOptions {
  /** Environment used for `env:NAME` references. */
  env: Record<string, string | undefined>;
  /** Resolve secret references (default true); false validates their form only. */
  resolveSecrets?: boolean;
  /** Reads `file:PATH` references; default node:fs. */
  readSecretFile?: (path: string) => Promise<string>;
  /** Name shown in error locations (default: path relative to cwd). */
  displayName?: string;
  /**
   * For the simulated lab only: a reference that cannot be resolved becomes a labelled placeholder
   * (the emulators never check it) and a warning, instead of an error.
   */
  placeholderSecrets?: boolean;
  /** Home directory, for the default age keys file (`sops:` references); default $HOME. */
  homedir?: string;
}

export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const k of path) {
    if (typeof k === "number") out += `[${k}]`;
    else out += out === "" ? k : `.${k}`;
  }
  return out === "" ? "(document)" : out;
}

/** Finds the YAML node closest to `path`: the value when present, else the key's parent map. */
function nodeAt(root: Node | null, path: readonly PathKey[]): { node: Node | null; missingKey?: boolean } {
  let current: Node | null = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (current === null) return { node: null };
    if (isMap(current)) {
      const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) return { node: current, missingKey: true };
      // for a key that is itself the culprit (unknown key), point at the key
      if (i === path.length - 1 && pair.value === null) return { node: pair.key as Node };
      current = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(current) && typeof key === "number") {
      const item = current.items[key] as Node | undefined;
      if (item === undefined) return { node: current, missingKey: true };
      current = item;
    } else {
      return { node: current };
    }
  }
  return { node: current };
}

function keyNodeAt(root: Node | null, path: readonly PathKey[], key: string): Node | null {
  const parent = nodeAt(root, path).node;
  if (parent && isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair) return pair.key as Node;
  }
  return parent;
}

class IssueCollector {
  readonly issues: ConfigIssue[] = [];
  readonly file: string;
  readonly root: Node | null;
  readonly lines: LineCounter;
  constructor(file: string, root: Node | null, lines: LineCounter) {
    this.file = file;
    this.root = root;
    this.lines = lines;
  }

  add(path: readonly PathKey[], message: string, at?: Node | null): void {
    const node = at === undefined ? nodeAt(this.root, path).node : at;
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    this.issues.push({ file: this.file, line: pos.line, col: pos.col, path: formatPath(path), message });
  }
}

function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  const actual = getAt(input, issue.path as PathKey[]);
  switch (issue.code) {
    case "invalid_type":
      if (actual === undefined) return `missing required key '${String(issue.path[issue.path.length - 1])}'`;
      if (issue.message.startsWith("expected ")) return `${issue.message}, got ${describeValue(actual)}`;
      return `expected ${issue.expected}, got ${describeValue(actual)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(actual)}`;
    case "unrecognized_keys":
      return `unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    case "too_small":
      return issue.message.replace(/^Too small: /, "");
    default: {
      const secretish = issue.message.includes("secret reference");
      const scalar = typeof actual === "string" || typeof actual === "number" || typeof actual === "boolean";
      return !secretish && scalar ? `${issue.message}, got ${describeValue(actual)}` : issue.message;
    }
  }
}

function getAt(value: unknown, path: readonly PathKey[]): unknown {
  let v: unknown = value;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PathKey, unknown>)[k];
  }
  return v;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "";
  }
}

function crossFieldChecks(file: HomelabFile, c: IssueCollector): void {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  file.nodes.forEach((n, i) => {
    const prevName = names.get(n.name);
    if (prevName !== undefined)
      c.add(["nodes", i, "name"], `duplicate node name '${n.name}' (also nodes[${prevName}])`);
    else names.set(n.name, i);
    const prevAddr = addresses.get(n.address);
    if (prevAddr !== undefined)
      c.add(["nodes", i, "address"], `duplicate node address ${n.address} (also nodes[${prevAddr}])`);
    else addresses.set(n.address, i);
    if (n.role === "worker" && n.interfaces.some((f) => f.vip !== undefined || f.vlans?.some((v) => v.vip)))
      c.add(
        ["nodes", i, "interfaces"],
        "a VIP is only announced by control-plane nodes; remove it from this worker",
      );
  });
  const controlPlanes = file.nodes.filter((n) => n.role === "controlplane");
  if (controlPlanes.length === 0) c.add(["nodes"], "expected at least one node with role 'controlplane'");
  const vips = new Set<string>();
  for (const n of controlPlanes)
    for (const f of n.interfaces) {
      if (f.vip) vips.add(f.vip);
      for (const v of f.vlans ?? []) if (v.vip) vips.add(v.vip);
    }
  const host = hostOf(file.cluster.endpoint);
  const cpAddresses = controlPlanes.map((n) => n.address);
  if (host !== "" && isIP(host) !== 0 && !cpAddresses.includes(host) && !vips.has(host)) {
    c.add(
      ["cluster", "endpoint"],
      `endpoint host ${host} is neither a control-plane address (${cpAddresses.join(", ") || "none"}) nor a VIP`,
    );
  }
  if (file.tunnel) {
    const zone = file.tunnel.zone.toLowerCase();
    const seen = new Map<string, number>();
    file.tunnel.routes.forEach((r, i) => {
      const h = r.hostname.toLowerCase();
      if (h !== zone && !h.endsWith(`.${zone}`))
        c.add(
          ["tunnel", "routes", i, "hostname"],
          `hostname ${r.hostname} is not in zone ${file.tunnel?.zone}`,
        );
      const key = `${h}${r.path ?? ""}`;
      const prev = seen.get(key);
      if (prev !== undefined)
        c.add(["tunnel", "routes", i, "hostname"], `duplicate route (also tunnel.routes[${prev}])`);
      else seen.set(key, i);
      if (r.public !== true && r.access === undefined)
        c.add(
          ["tunnel", "routes", i],
          "expected 'access' (who may reach it) or 'public: true' (a route is never exposed without saying so)",
        );
      if (r.public === true && r.access !== undefined)
        c.add(["tunnel", "routes", i, "public"], "expected either 'public: true' or 'access', not both");
    });
    if (!file.nodes.some((n) => n.tunnel) && file.tunnel.routes.length > 0)
      c.add(["nodes"], "every node has 'tunnel: false': no node would run cloudflared for the tunnel");
  }
  const ext = file.cluster.extensions;
  if (file.tailscale && !ext.includes("siderolabs/tailscale"))
    c.add(["tailscale"], "tailscale is configured but cluster.extensions lacks 'siderolabs/tailscale'");
  if (file.tunnel && !ext.includes("siderolabs/cloudflared"))
    c.add(["tunnel"], "a tunnel is configured but cluster.extensions lacks 'siderolabs/cloudflared'");
  for (const [i, n] of file.nodes.entries()) {
    if (n.interfaces.length === 0) continue;
    const own = n.interfaces.flatMap((f) => [
      ...(f.addresses ?? []),
      ...(f.vlans ?? []).flatMap((v) => v.addresses ?? []),
    ]);
    const dhcp = n.interfaces.some((f) => f.dhcp || f.vlans?.some((v) => v.dhcp));
    if (!dhcp && own.length > 0 && !own.some((a) => a.split("/")[0] === n.address))
      c.add(["nodes", i, "address"], `address ${n.address} is not among this node's interface addresses`);
  }
}

/** Parses and validates homelab.yaml text; throws CONFIG_INVALID with every located issue. */
export async function parseConfig(
  text: string,
  options: LoadConfigOptions & { path: string },
): Promise<LoadedConfig> {
  const file = options.displayName ?? options.path;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const root = doc.contents as Node | null;
  const c = new IssueCollector(file, root, lines);
  if (doc.errors.length > 0) {
    for (const e of doc.errors.slice(0, 1)) {
      const pos = lines.linePos(e.pos[0]);
      c.issues.push({
        file,
        line: pos.line,
        col: pos.col,
        path: "(yaml)",
        message: e.message.split("\n")[0] ?? e.message,
      });
    }
    throw invalid(c.issues);
  }
  const input = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const parsed = homelabSchema.safeParse(input ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as PathKey[];
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys)
          c.add([...path, key], `unknown key '${key}'`, keyNodeAt(root, path, key));
        continue;
      }
      c.add(path, issueMessage(issue, input));
    }
    throw invalid(c.issues);
  }
  crossFieldChecks(parsed.data, c);
  if (c.issues.length > 0) throw invalid(c.issues);

  const dir = dirname(options.path);
  const warnings: string[] = [];
  const { tailscale, ...rest } = parsed.data;
  const config: HomelabConfig = { ...rest };
  const secrets = rest.secrets
    ? createSecretsStore({
        file: resolve(dir, rest.secrets.file),
        recipients: rest.secrets.recipients,
        env: options.env,
        homedir: options.homedir ?? options.env.HOME ?? "/",
      })
    : undefined;
  if (tailscale) {
    const authKey =
      options.resolveSecrets === false
        ? new Secret("", tailscale.authKey)
        : await resolveSecret(tailscale.authKey, ["tailscale", "authKey"], { ...options, dir, secrets }, c);
    config.tailscale = { ...tailscale, authKey };
  }
  if (c.issues.length > 0 && options.placeholderSecrets) {
    for (const issue of c.issues)
      warnings.push(
        `${issue.path}: ${issue.message}; the simulated lab uses a placeholder (a real run needs it)`,
      );
    if (tailscale)
      config.tailscale = {
        ...tailscale,
        authKey: new Secret("simulated-placeholder-auth-key", tailscale.authKey),
      };
    c.issues.length = 0;
  }
  if (c.issues.length > 0) throw invalid(c.issues, "SECRET_UNRESOLVED");
  return { path: options.path, dir, config, text, warnings, ...(secrets ? { secrets } : {}) };
}

async function resolveSecret(
  ref: string,
  path: PathKey[],
  options: LoadConfigOptions & { dir: string; secrets: SecretsStore | undefined },
  c: IssueCollector,
): Promise<Secret> {
  if (ref.startsWith("sops:")) return resolveSopsSecret(ref, path, options.secrets, c);
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const value = options.env[name];
    if (value === undefined || value === "") {
      c.add(path, `secret reference ${ref}: environment variable ${name} is not set`);
      return new Secret("", ref);
    }
    return new Secret(value, ref);
  }
  const p = ref.slice(5);
  const full = isAbsolute(p) ? p : resolve(options.dir, p);
  try {
    const read = options.readSecretFile ?? ((f: string) => readFile(f, "utf8"));
    const value = (await read(full)).trim();
    if (value === "") {
      c.add(path, `secret reference ${ref}: the file is empty`);
      return new Secret("", ref);
    }
    return new Secret(value, ref);
  } catch {
    c.add(path, `secret reference ${ref}: cannot read ${full}`);
    return new Secret("", ref);
  }
}

async function resolveSopsSecret(
  ref: string,
  path: PathKey[],
  secrets: SecretsStore | undefined,
  c: IssueCollector,
): Promise<Secret> {
  if (!secrets) {
    c.add(
      path,
      `secret reference ${ref}: homelab.yaml has no secrets: section (see \`homelab secrets init\`)`,
    );
    return new Secret("", ref);
  }
  const keyPath = ref.slice("sops:".length);
  let value: unknown;
  try {
    value = await secrets.get(keyPath);
  } catch (error) {
    const reason = (error as { rawMessage?: string }).rawMessage ?? (error as Error).message;
    c.add(path, `secret reference ${ref}: cannot decrypt ${secrets.path}: ${reason}`);
    return new Secret("", ref);
  }
  if (typeof value === "number" || typeof value === "bigint") value = String(value);
  if (typeof value !== "string" || value === "") {
    c.add(path, `secret reference ${ref}: ${secrets.path} has no text value at ${keyPath}`);
    return new Secret("", ref);
  }
  return new Secret(value, ref);
}

function invalid(unsorted: ConfigIssue[], code: "CONFIG_INVALID" | "SECRET_UNRESOLVED" = "CONFIG_INVALID") {
  const issues = [...unsorted].sort((a, b) => a.line - b.line || a.col - b.col);
  const lines = issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`);
  const head =
    code === "CONFIG_INVALID" ? "homelab.yaml is invalid" : "a secret reference cannot be resolved";
  return new HomelabError(code, `${head}:\n  ${lines.join("\n  ")}`, { issues });
}

/** Reads, parses and validates a homelab.yaml file. */
export async function loadConfig(
  path: string,
  options: LoadConfigOptions & { cwd: string },
): Promise<LoadedConfig> {
  const full = resolve(options.cwd, path);
  let text: string;
  try {
    text = await readFile(full, "utf8");
  } catch (cause) {
    throw new HomelabError("CONFIG_NOT_FOUND", `cannot read ${path}`, {
      cause,
      hint: "create one with `homelab init`, or pass --config FILE",
    });
  }
  const displayName = options.displayName ?? (relative(options.cwd, full) || full);
  return parseConfig(text, { ...options, path: full, displayName });
}
