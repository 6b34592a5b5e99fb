import { type ConfigDocument, type DocumentKey, documentKey, documentLabel } from "./model/document.js";
import { documentKeyString } from "./patch/document-id.js";
import { deepEqual, isPlainObject } from "./patch/values.js";
import { REDACTED, redactValue as redact, stringifyDocuments } from "./yaml.js";

/** One changed field inside a document. Secret values are already replaced by {@link REDACTED}. */
export interface FieldChange {
  /** Path from the document root, e.g. `machine.network.interfaces[0].mtu`. */
  readonly path: string;
  readonly type: "added" | "removed" | "changed";
  readonly before?: unknown;
  readonly after?: unknown;
}

/** How one document (keyed by apiVersion/kind/name) differs between two configs. */
export interface DocumentDiff {
  readonly key: DocumentKey;
  /** `v1alpha1`, `HostnameConfig`, `LinkConfig/eno1`. */
  readonly label: string;
  readonly status: "added" | "removed" | "changed" | "unchanged";
  /** Field changes of a changed document (empty otherwise). */
  readonly changes: readonly FieldChange[];
  /** The whole (redacted) document when it was added or removed. */
  readonly document?: ConfigDocument;
}

/** The difference between two configs, document by document. Holds no secret values. */
export interface ConfigDiff {
  readonly documents: readonly DocumentDiff[];
  readonly hasChanges: boolean;
}

type Segment = string | number;

function formatPath(path: readonly Segment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(document)" : out;
}

const IDENTITY_KEYS = [
  "name",
  "interface",
  "vlanId",
  "mountPath",
  "address",
  "destination",
  "network",
  "path",
];

function identity(item: unknown): string | undefined {
  if (!isPlainObject(item)) return undefined;
  for (const key of IDENTITY_KEYS) {
    const value = item[key];
    if (typeof value === "string" || typeof value === "number") return `${key}=${value}`;
  }
  if (isPlainObject(item.deviceSelector)) return `deviceSelector=${JSON.stringify(item.deviceSelector)}`;
  return undefined;
}

function diffValue(before: unknown, after: unknown, path: Segment[], out: FieldChange[]): void {
  if (deepEqual(before, after)) return;
  if (before === undefined) {
    out.push({ path: formatPath(path), type: "added", after: redact(after, path) });
    return;
  }
  if (after === undefined) {
    out.push({ path: formatPath(path), type: "removed", before: redact(before, path) });
    return;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !Object.hasOwn(before, k))];
    for (const key of keys) diffValue(before[key], after[key], [...path, key], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    diffList(before, after, path, out);
    return;
  }
  out.push({
    path: formatPath(path),
    type: "changed",
    before: redact(before, path),
    after: redact(after, path),
  });
}

function diffList(before: unknown[], after: unknown[], path: Segment[], out: FieldChange[]): void {
  const beforeIds = before.map(identity) as string[];
  const afterIds = after.map(identity) as string[];
  const keyed =
    beforeIds.every((id) => id !== undefined) &&
    afterIds.every((id) => id !== undefined) &&
    new Set(beforeIds).size === before.length &&
    new Set(afterIds).size === after.length;
  if (keyed) {
    before.forEach((item, i) => {
      const j = afterIds.indexOf(beforeIds[i] as string);
      if (j < 0)
        out.push({ path: formatPath([...path, i]), type: "removed", before: redact(item, [...path, i]) });
      else diffValue(item, after[j], [...path, j], out);
    });
    after.forEach((item, j) => {
      if (!beforeIds.includes(afterIds[j] as string)) {
        out.push({ path: formatPath([...path, j]), type: "added", after: redact(item, [...path, j]) });
      }
    });
    return;
  }
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) diffValue(before[i], after[i], [...path, i], out);
  for (let i = common; i < before.length; i++) {
    out.push({ path: formatPath([...path, i]), type: "removed", before: redact(before[i], [...path, i]) });
  }
  for (let i = common; i < after.length; i++) {
    out.push({ path: formatPath([...path, i]), type: "added", after: redact(after[i], [...path, i]) });
  }
}

/**
 * Compares two configs document by document (matched by apiVersion/kind/name, as the patch engine
 * matches them) and field by field. List elements with an identity (`name`, `interface`, `vlanId`,
 * `mountPath`, ...) are matched by it, other lists by position. Secret values are redacted in the result.
 */
export function diffConfigs(before: readonly ConfigDocument[], after: readonly ConfigDocument[]): ConfigDiff {
  const afterByKey = new Map(after.map((doc) => [documentKeyString(doc), doc]));
  const beforeKeys = new Set(before.map((doc) => documentKeyString(doc)));
  const documents: DocumentDiff[] = [];
  for (const doc of before) {
    const key = documentKeyString(doc);
    const other = afterByKey.get(key);
    if (other === undefined) {
      documents.push({
        key: documentKey(doc),
        label: documentLabel(doc),
        status: "removed",
        changes: [],
        document: redact(doc, []) as ConfigDocument,
      });
      continue;
    }
    const changes: FieldChange[] = [];
    diffValue(doc, other, [], changes);
    documents.push({
      key: documentKey(doc),
      label: documentLabel(doc),
      status: changes.length === 0 ? "unchanged" : "changed",
      changes,
    });
  }
  for (const doc of after) {
    if (beforeKeys.has(documentKeyString(doc))) continue;
    documents.push({
      key: documentKey(doc),
      label: documentLabel(doc),
      status: "added",
      changes: [],
      document: redact(doc, []) as ConfigDocument,
    });
  }
  return { documents, hasChanges: documents.some((d) => d.status !== "unchanged") };
}

function show(value: unknown): string {
  if (typeof value === "string") {
    const text = value.length > 72 ? `${value.slice(0, 48)}…(${value.length} chars)` : value;
    return JSON.stringify(text);
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 120 ? `${json.slice(0, 100)}…` : json;
}

function indent(text: string, prefix: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n");
}

/**
 * Renders a {@link ConfigDiff} for people: one block per added (`+`), removed (`-`) or changed (`~`)
 * document, changed fields below it. Unchanged documents are left out. Contains no secret values.
 */
export function renderDiff(diff: ConfigDiff): string {
  if (!diff.hasChanges) return "no changes\n";
  const blocks: string[] = [];
  for (const doc of diff.documents) {
    if (doc.status === "unchanged") continue;
    if (doc.status === "added" || doc.status === "removed") {
      const sign = doc.status === "added" ? "+" : "-";
      const body = doc.document === undefined ? "" : stringifyDocuments([doc.document]);
      blocks.push(`${sign} ${doc.label} (${doc.status})\n${indent(body, `  ${sign} `)}`);
      continue;
    }
    const lines = doc.changes.map((change) => {
      if (change.type === "added") return `  + ${change.path}: ${show(change.after)}`;
      if (change.type === "removed") return `  - ${change.path}: ${show(change.before)}`;
      return `  ~ ${change.path}: ${show(change.before)} → ${show(change.after)}`;
    });
    blocks.push(`~ ${doc.label}\n${lines.join("\n")}`);
  }
  return `${blocks.join("\n")}\n`;
}
