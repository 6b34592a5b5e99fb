import { isIP } from "node:net";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, visit } from "yaml";
import type { z } from "zod";
import { type ConfigIssue, HomelabError } from "../../errors.js";
import { Secret } from "../../secret.js";
import { resolveReference } from "../secrets/reference.js";
import { createSecretsStore, type SecretsStore } from "../secrets/store.js";
import { readConfigSource } from "./read.js";
import { type HomelabFile, homelabSchema, keysAt } from "./schema.js";
import { didYouMean } from "./suggest.js";
import { decodeUtf8 } from "./utf8.js";
import { type ValidationNote, validateAll } from "./validate.js";

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
  /** Non-fatal findings of the library checks (lint warnings), for `doctor`. */
  notes: ValidationNote[];
  /** The name issues are reported under (path relative to cwd, or `<stdin>`). */
  displayName?: string;
}

/** Options for {@link loadConfig} and {@link parseConfig}. */
export interface LoadConfigOptions {
  /** Environment used for `env:NAME` references. */
  env: Record<string, string | undefined>;
  /** Resolve secret references (default true); false validates their form only. */
  resolveSecrets?: boolean;
  /**
   * Also check, before anything runs, that the references resolved later (argocd.clusterSecrets; tunnel.apiToken
   * unless CLOUDFLARE_API_TOKEN is set) give a value, so `up` names every missing one at once, with its line.
   */
  checkReferences?: boolean;
  /** Reads `file:PATH` references; default node:fs. */
  readSecretFile?: (path: string) => Promise<string>;
  /** Name shown in error locations (default: path relative to cwd). */
  displayName?: string | undefined;
  /** Directory relative secret paths resolve from (default: the file's directory). */
  dir?: string;
  /**
   * For the simulated lab only: a reference that cannot be resolved becomes a labelled placeholder
   * (the emulators never check it) and a warning, instead of an error.
   */
  placeholderSecrets?: boolean;
  /** Home directory, for the default age keys file (`sops:` references); default $HOME. */
  homedir?: string;
  /** Reads all of stdin, for `--config -`. */
  readStdin?: (() => Promise<Uint8Array>) | undefined;
  /** True when stdin is a terminal (`--config -` is then refused). */
  stdinIsTTY?: boolean;
  /** Aborts waiting on a pipe. */
  signal?: AbortSignal | undefined;
}

/** Alias expansions allowed while reading homelab.yaml (a few anchors are fine; a "billion laughs" is not). */
export const MAX_ALIAS_COUNT = 100;

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

  add(
    path: readonly PathKey[],
    message: string,
    options: { at?: Node | null; hint?: string | undefined } = {},
  ): void {
    const node = options.at === undefined ? nodeAt(this.root, path).node : options.at;
    this.addAt(node?.range?.[0] ?? 0, formatPath(path), message, options.hint);
  }

  addAt(offset: number, path: string, message: string, hint?: string): void {
    const pos = this.lines.linePos(offset);
    const issue: ConfigIssue = { file: this.file, line: pos.line, col: pos.col, path, message };
    if (hint) issue.hint = hint;
    const dup = this.issues.some(
      (i) =>
        i.line === issue.line && i.col === issue.col && i.path === issue.path && i.message === issue.message,
    );
    if (!dup) this.issues.push(issue);
  }
}

function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

function bound(issue: z.core.$ZodIssue & { code: "too_small" | "too_big" }, actual: unknown): string {
  const op =
    issue.code === "too_small"
      ? issue.inclusive === false
        ? ">"
        : ">="
      : issue.inclusive === false
        ? "<"
        : "<=";
  const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
  if (issue.origin === "string" && issue.code === "too_small" && limit === "1")
    return "expected a non-empty string";
  if (issue.origin === "array")
    return `expected ${op} ${limit} item(s), got ${Array.isArray(actual) ? actual.length : 0}`;
  if (issue.origin === "string") return `expected ${op} ${limit} characters`;
  return `expected a number ${op} ${limit}, got ${describeValue(actual)}`;
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  const actual = getAt(input, issue.path as PathKey[]);
  const key = String(issue.path[issue.path.length - 1] ?? "");
  if (actual === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value"))
    return `missing required key '${key}'`;
  switch (issue.code) {
    case "invalid_type":
      if (issue.message.startsWith("expected ")) return `${issue.message}, got ${describeValue(actual)}`;
      return `expected ${issue.expected}, got ${describeValue(actual)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(actual)}`;
    case "unrecognized_keys":
      return `unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    case "too_small":
    case "too_big":
      return issue.message.startsWith("expected ") && !issue.message.includes(" to ")
        ? issue.message
        : bound(issue, actual);
    case "invalid_union":
      return key === "tailscale"
        ? `expected false or a mapping with hostname/extraArgs, got ${describeValue(actual)}`
        : `expected another form, got ${describeValue(actual)}`;
    case "invalid_format":
      if (issue.format === "email") return `expected an email address, got ${describeValue(actual)}`;
      return `${issue.message}, got ${describeValue(actual)}`;
    default: {
      const secretish = issue.message.includes("secret reference");
      const scalar = typeof actual === "string" || typeof actual === "number" || typeof actual === "boolean";
      return !secretish && scalar ? `${issue.message}, got ${describeValue(actual)}` : issue.message;
    }
  }
}

function issueHint(issue: z.core.$ZodIssue, input: unknown): string | undefined {
  const actual = getAt(input, issue.path as PathKey[]);
  const key = String(issue.path[issue.path.length - 1] ?? "");
  if ((issue.code === "invalid_type" || issue.code === "invalid_value") && actual === undefined)
    return `add '${key}:' here`;
  if (issue.code === "invalid_value" && typeof actual === "string") {
    const near = didYouMean(
      actual,
      issue.values.map((v) => String(v)),
    );
    return near ? near.trim().replace(/^\(|\)$/g, "") : undefined;
  }
  return undefined;
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
    if (n.installDisk === undefined && n.installDiskSelector === undefined)
      c.add(
        ["nodes", i],
        "expected 'installDisk' or 'installDiskSelector': Talos refuses a config without an install disk (it does not pick one)",
      );
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
    c.add(["tailscale"], "tailscale is configured but cluster.extensions lacks 'siderolabs/tailscale'", {
      hint: "add siderolabs/tailscale to cluster.extensions, or remove the tailscale section",
    });
  if (file.tunnel && !ext.includes("siderolabs/cloudflared"))
    c.add(["tunnel"], "a tunnel is configured but cluster.extensions lacks 'siderolabs/cloudflared'", {
      hint: "add siderolabs/cloudflared to cluster.extensions, or remove the tunnel section",
    });
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

/** Names the YAML problem in our words; the parser's own text stays for what we do not know. */
function yamlProblem(
  code: string,
  raw: string,
  source: string,
  pos: [number, number],
): { message: string; hint?: string } {
  switch (code) {
    case "DUPLICATE_KEY": {
      const token = /^("[^"\n]*"|'[^'\n]*'|[^:\s]+)/.exec(source.slice(pos[0]))?.[1] ?? "?";
      const key = token.replace(/^["']|["']$/g, "");
      return {
        message: `duplicate key '${key}' in this mapping`,
        hint: `keep one '${key}' (YAML keys are unique; a second one would silently win elsewhere)`,
      };
    }
    case "TAB_AS_INDENT":
      return { message: "a tab is used for indentation", hint: "indent with spaces" };
    case "BAD_INDENT":
    case "MISSING_CHAR":
    case "UNEXPECTED_TOKEN":
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
      return { message: raw, hint: "check the indentation and the ':' after each key on this line" };
    default:
      return { message: raw };
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/** Parses and validates homelab.yaml text; throws CONFIG_INVALID with every located issue. */
export async function parseConfig(
  text: string,
  options: LoadConfigOptions & { path: string },
): Promise<LoadedConfig> {
  const file = options.displayName ?? options.path;
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const all = Array.isArray(docs) ? docs : [];
  const doc = all[0];
  const root = (doc?.contents ?? null) as Node | null;
  const c = new IssueCollector(file, root, lines);
  for (const d of all) {
    // every duplicate key, but only the first syntax error: the ones after it are its echoes
    const syntax = d.errors.find((e) => e.code !== "DUPLICATE_KEY");
    for (const e of d.errors.filter((e) => e.code === "DUPLICATE_KEY" || e === syntax).slice(0, 20)) {
      const p = yamlProblem(e.code, firstLine(e.message), text, e.pos);
      const at = e.code === "DUPLICATE_KEY" ? pathAtOffset(d.contents as Node | null, e.pos[0]) : [];
      c.addAt(e.pos[0], at.length > 0 ? formatPath(at) : "(yaml)", p.message, p.hint);
    }
  }
  const extra = all
    .slice(1)
    .filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null));
  if (extra.length > 0) {
    const second = extra[0] as (typeof all)[number];
    c.addAt(
      second.range[0],
      "(document)",
      `the file holds ${extra.length + 1} YAML documents (a '---' line starts each); homelab.yaml is one document`,
      "remove the '---' separator and merge the sections into one mapping, or keep one homelab.yaml per cluster",
    );
  }
  if (c.issues.length > 0) throw invalid(c.issues);

  let input: unknown;
  try {
    input = doc ? (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown) : null;
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    const unresolved = /Unresolved alias[^:]*: (.*)$/.exec(error.message)?.[1];
    let first = 0;
    let found = false;
    if (doc)
      visit(doc, {
        Alias(_key, node) {
          if (!found) {
            first = node.range?.[0] ?? 0;
            found = true;
          }
          return visit.BREAK;
        },
      });
    if (unresolved !== undefined) {
      // point at the alias that has no anchor, not merely the first alias
      if (doc)
        visit(doc, {
          Alias(_key, node) {
            if (node.source !== unresolved) return undefined;
            first = node.range?.[0] ?? first;
            return visit.BREAK;
          },
        });
      c.addAt(
        first,
        pathAtOffset(root, first).length > 0 ? formatPath(pathAtOffset(root, first)) : "(yaml)",
        `alias *${unresolved} has no anchor`,
        `define &${unresolved} on a value before this alias, or write the value out`,
      );
    } else
      c.addAt(
        first,
        pathAtOffset(root, first).length > 0 ? formatPath(pathAtOffset(root, first)) : "(yaml)",
        `aliases expand to more than ${MAX_ALIAS_COUNT} nodes (nested anchors grow exponentially)`,
        "write the values out, or use fewer nested *aliases",
      );
    throw invalid(c.issues);
  }
  if (input === null || input === undefined) {
    c.addAt(0, "(document)", "the file is empty", "start from `homelab init` or examples/homelab.yaml");
    throw invalid(c.issues);
  }
  const parsed = homelabSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as PathKey[];
      if (issue.code === "unrecognized_keys") {
        const known = keysAt(path, input);
        for (const key of issue.keys) {
          const near = didYouMean(key, known);
          const hint =
            key === "<<"
              ? "YAML merge keys ('<<') are YAML 1.1, not 1.2: write the keys out"
              : near
                ? undefined
                : `allowed here: ${known.join(", ")}`;
          c.add([...path, key], `unknown key '${key}'${near}`, { at: keyNodeAt(root, path, key), hint });
        }
        continue;
      }
      c.add(path, issueMessage(issue, input), { hint: issueHint(issue, input) });
    }
    throw invalid(c.issues);
  }
  crossFieldChecks(parsed.data, c);
  const notes: ValidationNote[] = [];
  const routeOf = (p: string) => /^tunnel\.routes\[\d+\]/.exec(p)?.[0];
  await validateAll(parsed.data, {
    error: (path, message, hint) => {
      // a library that finds what the loader already said (in its own words) adds nothing
      const at = formatPath(path);
      const route = routeOf(at);
      if (c.issues.some((i) => i.path === at || (route !== undefined && routeOf(i.path) === route))) return;
      c.add(path, message, { hint });
    },
    note: (n) => notes.push(n),
  });
  const structural = c.issues.length;

  const dir = options.dir ?? dirname(options.path);
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
  // the simulated lab needs neither (its own Cloudflare token; placeholders for the cluster's Secrets)
  if (options.resolveSecrets !== false && options.checkReferences === true && !options.placeholderSecrets) {
    const scope = { ...options, dir, secrets };
    if (rest.tunnel?.apiToken !== undefined && !options.env.CLOUDFLARE_API_TOKEN)
      await resolveSecret(rest.tunnel.apiToken, ["tunnel", "apiToken"], scope, c);
    for (const [index, secret] of (rest.argocd?.clusterSecrets ?? []).entries())
      for (const [key, ref] of Object.entries(secret.data))
        await resolveSecret(ref, ["argocd", "clusterSecrets", index, "data", key], scope, c);
  }
  if (c.issues.length > structural && options.placeholderSecrets) {
    for (const issue of c.issues.slice(structural))
      warnings.push(
        `${issue.path}: ${issue.message}; the simulated lab uses a placeholder (a real run needs it)`,
      );
    if (tailscale)
      config.tailscale = {
        ...tailscale,
        authKey: new Secret("simulated-placeholder-auth-key", tailscale.authKey),
      };
    c.issues.length = structural;
  }
  if (c.issues.length > 0) throw invalid(c.issues, structural > 0 ? "CONFIG_INVALID" : "SECRET_UNRESOLVED");
  return {
    path: options.path,
    dir,
    config,
    text,
    warnings,
    notes,
    displayName: file,
    ...(secrets ? { secrets } : {}),
  };
}

async function resolveSecret(
  ref: string,
  path: PathKey[],
  options: LoadConfigOptions & { dir: string; secrets: SecretsStore | undefined },
  c: IssueCollector,
): Promise<Secret> {
  const resolved = await resolveReference(ref, options);
  if ("value" in resolved) return new Secret(resolved.value, ref);
  c.add(path, resolved.problem, { hint: resolved.hint });
  return new Secret("", ref);
}

function invalid(unsorted: ConfigIssue[], code: "CONFIG_INVALID" | "SECRET_UNRESOLVED" = "CONFIG_INVALID") {
  const issues = [...unsorted].sort((a, b) => a.line - b.line || a.col - b.col);
  const lines = issues.map(
    (i) => `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}${i.hint ? `\n      fix: ${i.hint}` : ""}`,
  );
  const file = issues[0]?.file ?? "homelab.yaml";
  const head =
    code === "CONFIG_INVALID"
      ? `${file} is invalid (${issues.length} problem${issues.length === 1 ? "" : "s"}; nothing was changed)`
      : "a secret reference cannot be resolved (nothing was changed)";
  return new HomelabError(code, `${head}:\n  ${lines.join("\n  ")}`, { issues });
}

/**
 * A CONFIG_INVALID error for problems found after loading (e.g. a chart version the repository
 * lacks), located in the loaded file like every other problem.
 */
export function invalidAt(
  loaded: Pick<LoadedConfig, "text" | "path">,
  problems: { path: readonly PathKey[]; message: string; hint?: string }[],
  displayName = loaded.path,
): HomelabError {
  const lines = new LineCounter();
  const docs = parseAllDocuments(loaded.text, { lineCounter: lines, prettyErrors: false });
  const root = (Array.isArray(docs) ? (docs[0]?.contents ?? null) : null) as Node | null;
  const c = new IssueCollector(displayName, root, lines);
  for (const p of problems) c.add(p.path, p.message, { hint: p.hint });
  return invalid(c.issues);
}

/** Decodes homelab.yaml bytes as strict UTF-8; an invalid byte is a located CONFIG_INVALID, never U+FFFD. */
export function decodeConfig(bytes: Uint8Array, file: string): string {
  const decoded = decodeUtf8(bytes);
  if (decoded.ok) return decoded.text;
  // locate it: the text before the bad byte is valid, so the parser can name the key it sits in
  const before = decoded.prefix;
  const lines = new LineCounter();
  const docs = parseAllDocuments(decoded.lossy, { lineCounter: lines, prettyErrors: false });
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  const path = doc ? pathAtOffset(doc.contents as Node | null, before.length) : [];
  const c = new IssueCollector(file, null, lines);
  c.addAt(
    before.length,
    path.length > 0 ? formatPath(path) : "(file)",
    `invalid UTF-8 (byte 0x${decoded.byte.toString(16).padStart(2, "0")})`,
    "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
  );
  throw invalid(c.issues);
}

/** The path of the innermost value whose range holds `offset`. */
function pathAtOffset(root: Node | null, offset: number): PathKey[] {
  const path: PathKey[] = [];
  let current: Node | null = root;
  for (;;) {
    if (current === null) return path;
    if (isMap(current)) {
      const pair = current.items.find((p) => {
        const k = p.key as Node | null;
        const v = p.value as Node | null;
        const start = k?.range?.[0] ?? v?.range?.[0] ?? 0;
        const end = v?.range?.[2] ?? k?.range?.[2] ?? 0;
        return offset >= start && offset <= end;
      });
      if (!pair || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      current = (pair.value as Node | null) ?? null;
    } else if (isSeq(current)) {
      const i = current.items.findIndex((item) => {
        const r = (item as Node).range;
        return r !== undefined && r !== null && offset >= r[0] && offset <= r[2];
      });
      if (i < 0) return path;
      path.push(i);
      current = current.items[i] as Node;
    } else return path;
  }
}

/**
 * Reads, parses and validates a homelab.yaml file (`-` reads stdin): every problem, from the file
 * itself to what the libraries would reject later, is reported at once with its location.
 */
export async function loadConfig(
  path: string,
  options: LoadConfigOptions & { cwd: string },
): Promise<LoadedConfig> {
  const source = await readConfigSource(path, {
    cwd: options.cwd,
    readStdin: options.readStdin,
    stdinIsTTY: options.stdinIsTTY === true,
    signal: options.signal,
    displayName: options.displayName,
  });
  const text = decodeConfig(source.bytes, source.displayName);
  return parseConfig(text, {
    ...options,
    path: source.path,
    dir: source.dir,
    displayName: source.displayName,
  });
}
