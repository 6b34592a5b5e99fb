import { stat } from "node:fs/promises";
import { isMap, isSeq, parseDocument, stringify } from "yaml";
import { HomelabError } from "../../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";

// Edits of homelab.yaml: the yaml Document API finds the node entries, and only their lines are
// cut or added, so the rest of the file (comments, layout, flow style) stays byte for byte.

/** A node entry as written into homelab.yaml. */
export interface NodeEntry {
  name: string;
  role: "controlplane" | "worker";
  address: string;
  installDisk?: string;
  installDiskSelector?: Record<string, unknown>;
  interfaces?: { name: string; addresses: string[]; gateway?: string; vip?: string }[];
  tunnel?: boolean;
}

function nodesOf(text: string, file: string) {
  const doc = parseDocument(text);
  const nodes = doc.get("nodes", true);
  if (!isSeq(nodes) || nodes.flow)
    throw new HomelabError("CONFIG_INVALID", `${file}: nodes: expected a (block) list of nodes`);
  return nodes;
}

function nameOf(item: unknown): unknown {
  return isMap(item) ? item.get("name") : undefined;
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

function nextLine(text: string, pos: number): number {
  const i = text.indexOf("\n", pos);
  return i < 0 ? text.length : i + 1;
}

/** A value in flow style, as the examples write interfaces: `{ name: eno1, addresses: [10.0.0.2/24] }`. */
function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(", ")}]`;
  if (value !== null && typeof value === "object")
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${flow(v)}`)
      .join(", ")} }`;
  return stringify(value).trimEnd();
}

/**
 * homelab.yaml's text with `entry` appended to `nodes`, indented like the entries before it.
 * @throws HomelabError USAGE when a node of that name or address is listed already
 */
export function addNodeText(text: string, file: string, entry: NodeEntry): string {
  const nodes = nodesOf(text, file);
  for (const item of nodes.items) {
    if (nameOf(item) === entry.name)
      throw new HomelabError("USAGE", `${file}: nodes already lists ${entry.name}`, {
        hint: `run \`homelab node add ${entry.name}\` without the node flags to join the node as listed`,
      });
    if (isMap(item) && item.get("address") === entry.address)
      throw new HomelabError(
        "USAGE",
        `${file}: ${String(nameOf(item))} already has address ${entry.address}`,
      );
  }
  const last = nodes.items.at(-1) as { range?: [number, number, number] } | undefined;
  const firstRange = (nodes.items[0] as { range?: [number, number, number] } | undefined)?.range;
  // the "- " sits two columns left of the first entry's first key
  const indent = firstRange
    ? " ".repeat(Math.max(0, firstRange[0] - lineStart(text, firstRange[0]) - 2))
    : "  ";
  const lines = [`${indent}- name: ${flow(entry.name)}`];
  for (const [key, value] of Object.entries(entry)) {
    if (key === "name" || value === undefined) continue;
    if (key === "interfaces" && Array.isArray(value)) {
      lines.push(`${indent}  interfaces:`);
      for (const i of value) lines.push(`${indent}    - ${flow(i)}`);
    } else lines.push(`${indent}  ${key}: ${flow(value)}`);
  }
  const block = `${lines.join("\n")}\n`;
  if (!last?.range) throw new HomelabError("CONFIG_INVALID", `${file}: nodes: expected at least one node`);
  const at = nextLine(text, last.range[1] - 1);
  const before = text.slice(0, at);
  return `${before}${before.endsWith("\n") ? "" : "\n"}${block}${text.slice(at)}`;
}

/**
 * homelab.yaml's text without the node `name` (the lines of its entry cut out).
 * @throws HomelabError USAGE when no node has that name
 */
export function removeNodeText(text: string, file: string, name: string): string {
  const nodes = nodesOf(text, file);
  const item = nodes.items.find((i) => nameOf(i) === name) as
    | { range?: [number, number, number] }
    | undefined;
  if (!item?.range) throw new HomelabError("USAGE", `${file}: nodes lists no ${name}`);
  return text.slice(0, lineStart(text, item.range[0])) + text.slice(nextLine(text, item.range[1] - 1));
}

/** Writes homelab.yaml atomically, keeping its file mode. */
export async function writeConfigText(path: string, text: string): Promise<void> {
  const mode = (await stat(path).catch(() => undefined))?.mode;
  await writeFileAtomic(path, text, mode === undefined ? 0o644 : mode & 0o777);
}
