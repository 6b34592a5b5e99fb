import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseAllDocuments,
  parseDocument,
  Scalar,
  YAMLMap,
} from "yaml";
import { SopsError } from "../errors.js";
import type { LeafValue } from "./cipher.js";

/** The file formats SOPS stores values in. */
export type SopsFormat = "yaml" | "json" | "dotenv";

/** One value of the tree, in document order, with its key path (list indices are not part of it). */
export interface Leaf {
  path: readonly string[];
  get(): LeafValue;
  set(value: LeafValue): void;
}

/** One comment line, with the key path of the mapping or list that holds it. */
export interface CommentSlot {
  container: readonly string[];
  get(): string;
  set(value: string): void;
}

/** A parsed file: its values and comments in document order, and its top-level `sops` metadata. */
export interface SopsDocument {
  leaves(): Leaf[];
  comments(): CommentSlot[];
  /** The `sops` metadata as a plain object, or undefined when the file has none. */
  metadata(): Record<string, unknown> | undefined;
  setMetadata(metadata: Record<string, unknown> | undefined): void;
  /** The data as plain JS (ints as numbers when safe, else bigint), without the metadata. */
  toData(): Record<string, unknown>;
  serialize(options: { encrypted: boolean }): string;
}

const METADATA_KEY = "sops";

function keyOf(key: unknown, where: string): string {
  const value = isScalar(key) ? key.value : key;
  if (typeof value === "string") return value;
  throw new SopsError("INVALID_INPUT", `${where}: key ${JSON.stringify(String(value))} is not a string`, {
    details: { path: where },
  });
}

function display(path: readonly string[]): string {
  return path.length === 0 ? "(top level)" : path.join(".");
}

function toLeafValue(scalar: Scalar): LeafValue | null {
  const value: unknown = scalar.value;
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "bigint" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    const isFloat =
      !Number.isInteger(value) || (scalar.minFractionDigits ?? 0) > 0 || scalar.format === "EXP";
    return isFloat ? value : BigInt(value);
  }
  return String(value);
}

function plainJs(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(plainJs);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainJs(item)]));
  }
  return value;
}

class YamlDocument implements SopsDocument {
  readonly #doc: Document;
  readonly #format: "yaml" | "json";

  constructor(doc: Document, format: "yaml" | "json") {
    this.#doc = doc;
    this.#format = format;
  }

  #root(): YAMLMap {
    const root = this.#doc.contents;
    if (!isMap(root)) throw new SopsError("INVALID_INPUT", "the top level must be a mapping");
    return root;
  }

  #walk(visit: { leaf?: (leaf: Leaf) => void; comment?: (slot: CommentSlot) => void }): void {
    const commentSlots = (
      holder: { commentBefore?: string | null; comment?: string | null },
      container: string[],
    ) => {
      if (visit.comment === undefined) return;
      for (const prop of ["commentBefore", "comment"] as const) {
        const text = holder[prop];
        if (typeof text !== "string" || text === "") continue;
        const lines = text.split("\n");
        lines.forEach((line, index) => {
          if (line === "") return;
          visit.comment?.({
            container,
            get: () => line,
            set: (value) => {
              lines[index] = value;
              holder[prop] = lines.join("\n");
            },
          });
        });
      }
    };
    const walk = (node: unknown, path: string[], container: string[]): void => {
      if (node === null || node === undefined) return;
      if (isAlias(node)) {
        throw new SopsError(
          "INVALID_INPUT",
          `${display(path)}: YAML aliases are not supported; write the value out`,
          {
            details: { path: display(path) },
          },
        );
      }
      commentSlots(node as Node, container);
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = keyOf(pair.key, display(path));
          if (path.length === 0 && key === METADATA_KEY) continue;
          if (isScalar(pair.key)) commentSlots(pair.key, path);
          walk(pair.value, [...path, key], path);
        }
      } else if (isSeq(node)) {
        for (const item of node.items) walk(item, path, path);
      } else if (isScalar(node)) {
        const scalar = node;
        const value = toLeafValue(scalar);
        if (value === null) return;
        visit.leaf?.({
          path,
          get: () => toLeafValue(scalar) ?? "",
          set: (next) => {
            scalar.value = next;
            delete scalar.tag;
            delete scalar.format;
            delete scalar.type;
            delete scalar.minFractionDigits;
            if (typeof next === "number" && Number.isInteger(next)) scalar.minFractionDigits = 1;
          },
        });
      }
    };
    commentSlots(this.#doc, []);
    walk(this.#root(), [], []);
  }

  leaves(): Leaf[] {
    const out: Leaf[] = [];
    this.#walk({ leaf: (leaf) => out.push(leaf) });
    return out;
  }

  comments(): CommentSlot[] {
    const out: CommentSlot[] = [];
    this.#walk({ comment: (slot) => out.push(slot) });
    return out;
  }

  metadata(): Record<string, unknown> | undefined {
    const node = this.#root().get(METADATA_KEY, true);
    if (node === undefined) return undefined;
    const value: unknown = (node as Node).toJSON();
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new SopsError("METADATA_NOT_FOUND", "the top-level `sops` key is not a mapping");
    }
    return value as Record<string, unknown>;
  }

  setMetadata(metadata: Record<string, unknown> | undefined): void {
    const root = this.#root();
    root.delete(METADATA_KEY);
    if (metadata === undefined) return;
    const pair = this.#doc.createPair(METADATA_KEY, metadata);
    // Quoted like sops writes it, so YAML 1.1 readers never see a timestamp.
    const stamp = (pair.value as YAMLMap).get("lastmodified", true);
    if (isScalar(stamp)) stamp.type = Scalar.QUOTE_DOUBLE;
    root.add(pair);
  }

  toData(): Record<string, unknown> {
    const data = plainJs(this.#root().toJS(this.#doc)) as Record<string, unknown>;
    delete data[METADATA_KEY];
    return data;
  }

  serialize(options: { encrypted: boolean }): string {
    if (this.#format === "json") return `${jsonText(this.#root(), "")}\n`;
    return this.#doc.toString({
      indent: options.encrypted ? 4 : 2,
      indentSeq: true,
      lineWidth: 0,
      minContentWidth: 0,
    });
  }
}

function jsonScalar(node: Scalar): string {
  const value: unknown = node.value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new SopsError("INVALID_INPUT", "JSON cannot hold NaN or infinity");
    return Number.isInteger(value) && (node.minFractionDigits ?? 0) > 0
      ? value.toFixed(1)
      : JSON.stringify(value);
  }
  return JSON.stringify(value ?? null);
}

function jsonText(node: unknown, indent: string): string {
  const inner = `${indent}\t`;
  if (isMap(node)) {
    if (node.items.length === 0) return "{}";
    const lines = node.items.map(
      (pair) => `${inner}${JSON.stringify(keyOf(pair.key, "(json)"))}: ${jsonText(pair.value, inner)}`,
    );
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  if (isSeq(node)) {
    if (node.items.length === 0) return "[]";
    return `[\n${node.items.map((item) => `${inner}${jsonText(item, inner)}`).join(",\n")}\n${indent}]`;
  }
  if (isScalar(node)) return jsonScalar(node);
  return "null";
}

// Several YAML documents in one file: values walk document after document; sops writes the same metadata into
// every document and reads it from the first.
class MultiYamlDocument implements SopsDocument {
  readonly #docs: YamlDocument[];

  constructor(docs: YamlDocument[]) {
    this.#docs = docs;
  }

  leaves(): Leaf[] {
    return this.#docs.flatMap((doc) => doc.leaves());
  }

  comments(): CommentSlot[] {
    return this.#docs.flatMap((doc) => doc.comments());
  }

  metadata(): Record<string, unknown> | undefined {
    return this.#docs[0]?.metadata();
  }

  setMetadata(metadata: Record<string, unknown> | undefined): void {
    for (const doc of this.#docs) doc.setMetadata(metadata);
  }

  /** The first document's data (the clear text holds them all). */
  toData(): Record<string, unknown> {
    return this.#docs[0]?.toData() ?? {};
  }

  serialize(options: { encrypted: boolean }): string {
    return this.#docs.map((doc) => doc.serialize(options).replace(/^---\n/, "")).join("---\n");
  }
}

function parseYamlLike(text: string, format: "yaml" | "json", source: string): SopsDocument {
  if (format === "json") {
    try {
      JSON.parse(text);
    } catch (cause) {
      throw new SopsError("INVALID_INPUT", `${source}: not valid JSON (${(cause as Error).message})`, {
        cause,
      });
    }
  }
  const docs = parseAllDocuments(text, { intAsBigInt: true, uniqueKeys: true, keepSourceTokens: false });
  if (!Array.isArray(docs)) return new YamlDocument(emptyDocument(), format);
  const parsed = docs.map((doc, index) => {
    const problem = doc.errors[0];
    const where = docs.length > 1 ? `${source} (document ${index + 1})` : source;
    if (problem !== undefined) {
      throw new SopsError("INVALID_INPUT", `${where}: not valid YAML: ${problem.message.split("\n")[0]}`);
    }
    if (doc.contents === null) doc.contents = new YAMLMap() as never;
    if (!isMap(doc.contents)) {
      throw new SopsError("INVALID_INPUT", `${where}: the top level must be a mapping (key: value pairs)`);
    }
    return new YamlDocument(doc as Document, format);
  });
  if (parsed.length === 0) return new YamlDocument(emptyDocument(), format);
  return parsed.length === 1 ? (parsed[0] as YamlDocument) : new MultiYamlDocument(parsed);
}

function emptyDocument(): Document {
  const doc = parseDocument("{}", { intAsBigInt: true });
  doc.contents = new YAMLMap() as never;
  return doc;
}

// dotenv: `KEY=value` lines and `#` comment lines; values are strings with `\n` escaped. SOPS flattens its
// metadata into `sops_`-prefixed keys, lists as `__list_<i>` and nested maps as `__map_<key>`.
interface DotenvEntry {
  key?: string;
  value: string;
}

const DOTENV_PREFIX = "sops_";

function flatten(prefix: string, value: unknown, out: [string, string][], isTop: boolean): void {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) flatten(`${prefix}__list_${index}`, item, out, false);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      flatten(isTop ? `${prefix}${key}` : `${prefix}__map_${key}`, item, out, false);
    }
  } else {
    out.push([prefix, String(value)]);
  }
}

function unflatten(entries: [string, string][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [flatKey, raw] of entries) {
    const tokens = flatKey.slice(DOTENV_PREFIX.length).split(/(?=__list_\d+|__map_)/);
    let cursor: Record<string, unknown> | unknown[] = root;
    tokens.forEach((token, index) => {
      const list = /^__list_(\d+)$/.exec(token);
      const key: string | number = list ? Number(list[1]) : token.replace(/^__map_/, "");
      const isLast = index === tokens.length - 1;
      const nextIsList = !isLast && /^__list_/.test(tokens[index + 1] ?? "");
      const container = cursor as Record<string | number, unknown>;
      if (isLast) {
        container[key] = raw === "true" ? true : raw === "false" ? false : raw;
      } else {
        container[key] ??= nextIsList ? [] : {};
        cursor = container[key] as Record<string, unknown> | unknown[];
      }
    });
  }
  return root;
}

class DotenvDocument implements SopsDocument {
  #entries: DotenvEntry[];

  constructor(entries: DotenvEntry[]) {
    this.#entries = entries;
  }

  #data(): DotenvEntry[] {
    return this.#entries.filter((entry) => entry.key === undefined || !entry.key.startsWith(DOTENV_PREFIX));
  }

  leaves(): Leaf[] {
    return this.#data()
      .filter((entry): entry is Required<DotenvEntry> => entry.key !== undefined)
      .map((entry) => ({
        path: [entry.key],
        get: () => entry.value,
        set: (value) => {
          entry.value = String(value);
        },
      }));
  }

  comments(): CommentSlot[] {
    return this.#data()
      .filter((entry) => entry.key === undefined)
      .map((entry) => ({
        container: [],
        get: () => entry.value,
        set: (value) => {
          entry.value = value;
        },
      }));
  }

  metadata(): Record<string, unknown> | undefined {
    const flat = this.#entries
      .filter((entry) => entry.key?.startsWith(DOTENV_PREFIX))
      .map((entry) => [entry.key ?? "", entry.value] as [string, string]);
    return flat.length === 0 ? undefined : unflatten(flat);
  }

  setMetadata(metadata: Record<string, unknown> | undefined): void {
    this.#entries = this.#data();
    if (metadata === undefined) return;
    const flat: [string, string][] = [];
    flatten(DOTENV_PREFIX, metadata, flat, true);
    for (const [key, value] of flat) this.#entries.push({ key, value });
  }

  toData(): Record<string, unknown> {
    return Object.fromEntries(this.leaves().map((leaf) => [leaf.path[0], leaf.get()]));
  }

  serialize(): string {
    return this.#entries
      .map((entry) =>
        entry.key === undefined
          ? `#${entry.value}\n`
          : `${entry.key}=${entry.value.replaceAll("\n", "\\n")}\n`,
      )
      .join("");
  }
}

function parseDotenv(text: string, source: string): DotenvDocument {
  const entries: DotenvEntry[] = [];
  text.split("\n").forEach((line, index) => {
    if (line === "") return;
    if (line.startsWith("#")) {
      entries.push({ value: line.slice(1) });
      return;
    }
    const at = line.indexOf("=");
    if (at === -1) {
      throw new SopsError(
        "INVALID_INPUT",
        `${source}: line ${index + 1} is neither KEY=value nor a # comment`,
        {
          details: { line: index + 1 },
        },
      );
    }
    entries.push({ key: line.slice(0, at), value: line.slice(at + 1).replaceAll("\\n", "\n") });
  });
  return new DotenvDocument(entries);
}

/** Parses a YAML, JSON or dotenv file into the tree SOPS encrypts. `source` names the file in errors. */
export function parseSopsDocument(text: string, format: SopsFormat, source = "input"): SopsDocument {
  return format === "dotenv" ? parseDotenv(text, source) : parseYamlLike(text, format, source);
}
