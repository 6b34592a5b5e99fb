import { isDeepStrictEqual } from "node:util";
import { parse, stringify } from "yaml";
import { HomelabError } from "../../errors.js";

// Merging a cluster's kubeconfig into the user's, as `talosctl kubeconfig` does
// (siderolabs/go-kubeconfig merge.go): clusters, then users, then contexts are copied in; an entry whose
// name exists with different content is renamed NAME-1, NAME-2, ... (or overwritten with `force`), a user
// or context that pointed at a renamed entry follows the new name, and the merged context becomes
// current. Two differences: go-kubeconfig checks a context's name against the clusters, this checks
// it against the contexts (what the rename is for); and merging the same kubeconfig again reuses the
// NAME-1 written the first time instead of adding NAME-2.

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: (Named & { context?: { cluster?: string; user?: string; [key: string]: unknown } })[];
  "current-context"?: string;
  [key: string]: unknown;
}

/** What {@link mergeKubeconfig} did. */
export interface MergeResult {
  /** The merged kubeconfig text. */
  text: string;
  /** The context made current. */
  context: string;
  /** Entries that were renamed because a different one had the name. */
  renamed: { kind: "cluster" | "user" | "context"; from: string; to: string }[];
  /** Entries replaced (only with `force`). */
  overwritten: { kind: "cluster" | "user" | "context"; name: string }[];
}

function parseDoc(text: string, what: string): KubeconfigDoc {
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (cause) {
    throw new HomelabError("COMMAND_FAILED", `${what} is not valid YAML`, { cause });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new HomelabError("COMMAND_FAILED", `${what} is not a kubeconfig (expected a mapping)`);
  return doc as KubeconfigDoc;
}

/**
 * Merges `incoming` (a kubeconfig) into `existing` (the user's kubeconfig text; empty for a new
 * file). Never prints; the result says what was renamed or overwritten.
 */
export function mergeKubeconfig(
  existing: string,
  incoming: string,
  options: { force?: boolean; existingName?: string } = {},
): MergeResult {
  const base = parseDoc(existing, options.existingName ?? "the kubeconfig");
  const add = parseDoc(incoming, "the cluster's kubeconfig");
  base.apiVersion ??= "v1";
  base.kind ??= "Config";
  const renamed: MergeResult["renamed"] = [];
  const overwritten: MergeResult["overwritten"] = [];

  const mergeList = <T extends Named>(
    kind: "cluster" | "user" | "context",
    current: T[],
    entries: T[],
    rewrite: (entry: T) => T,
  ): Map<string, string> => {
    const names = new Map<string, string>();
    for (const original of entries) {
      const entry = rewrite(original);
      let name = entry.name;
      const index = current.findIndex((c) => c.name === name);
      if (index >= 0 && !isDeepStrictEqual(current[index], entry)) {
        if (options.force) {
          overwritten.push({ kind, name });
        } else {
          // the first free NAME-i, or the NAME-i an earlier merge of this same entry wrote
          let i = 1;
          for (;;) {
            const taken = current.find((c) => c.name === `${entry.name}-${i}`);
            if (!taken || isDeepStrictEqual(taken, { ...entry, name: taken.name })) break;
            i++;
          }
          name = `${entry.name}-${i}`;
          renamed.push({ kind, from: entry.name, to: name });
        }
      }
      names.set(original.name, name);
      const placed = { ...entry, name };
      const at = current.findIndex((c) => c.name === name);
      if (at >= 0) current[at] = placed;
      else current.push(placed);
    }
    return names;
  };

  base.clusters ??= [];
  base.users ??= [];
  base.contexts ??= [];
  const clusters = mergeList("cluster", base.clusters, add.clusters ?? [], (c) => c);
  const users = mergeList("user", base.users, add.users ?? [], (u) => u);
  const contexts = mergeList("context", base.contexts, add.contexts ?? [], (c) => ({
    ...c,
    context: {
      ...c.context,
      ...(c.context?.cluster !== undefined
        ? { cluster: clusters.get(c.context.cluster) ?? c.context.cluster }
        : {}),
      ...(c.context?.user !== undefined ? { user: users.get(c.context.user) ?? c.context.user } : {}),
    },
  }));
  const wanted = add["current-context"] ?? add.contexts?.[0]?.name;
  const context = (wanted !== undefined ? contexts.get(wanted) : undefined) ?? base["current-context"] ?? "";
  if (context !== "") base["current-context"] = context;
  return { text: stringify(base), context, renamed, overwritten };
}
