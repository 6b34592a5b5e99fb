import { stat } from "node:fs/promises";
import { isMap, isSeq, parseDocument } from "yaml";
import { HomelabError } from "../../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";

// Edits of homelab.yaml through the yaml Document API: the user's comments, order and layout stay.

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
  if (!isSeq(nodes)) throw new HomelabError("CONFIG_INVALID", `${file}: nodes: expected a list of nodes`);
  return { doc, nodes };
}

function nameOf(item: unknown): unknown {
  return isMap(item) ? item.get("name") : undefined;
}

/**
 * homelab.yaml's text with `entry` appended to `nodes` (flow-style interfaces like the examples).
 * @throws HomelabError USAGE when a node of that name or address is listed already
 */
export function addNodeText(text: string, file: string, entry: NodeEntry): string {
  const { doc, nodes } = nodesOf(text, file);
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
  const node = doc.createNode(entry);
  const interfaces = isMap(node) ? node.get("interfaces", true) : undefined;
  if (isSeq(interfaces)) for (const i of interfaces.items) if (isMap(i)) i.flow = true;
  const selector = isMap(node) ? node.get("installDiskSelector", true) : undefined;
  if (isMap(selector)) selector.flow = true;
  nodes.items.push(node);
  return doc.toString();
}

/**
 * homelab.yaml's text without the node `name` (its comments go with it).
 * @throws HomelabError USAGE when no node has that name
 */
export function removeNodeText(text: string, file: string, name: string): string {
  const { doc, nodes } = nodesOf(text, file);
  const index = nodes.items.findIndex((item) => nameOf(item) === name);
  if (index < 0) throw new HomelabError("USAGE", `${file}: nodes lists no ${name}`);
  nodes.items.splice(index, 1);
  return doc.toString();
}

/** Writes homelab.yaml atomically, keeping its file mode. */
export async function writeConfigText(path: string, text: string): Promise<void> {
  const mode = (await stat(path).catch(() => undefined))?.mode;
  await writeFileAtomic(path, text, mode === undefined ? 0o644 : mode & 0o777);
}
