import { stringify as stringifyYaml } from "yaml";
import type { NodeResult, TalosClient } from "../../adapters/talos-client.js";
import type { Invocation } from "../../cli/command.js";
import { talosClientFromFlags } from "../connect.js";

/**
 * Prints each line of a followed stream as it arrives (with --json: one `{ ...fields, line }` object per
 * line) until the stream ends or Ctrl-C aborts the Context's signal: then 130, without an error message.
 */
export async function followLines(
  inv: Invocation,
  stream: AsyncIterable<string>,
  fields: Record<string, string>,
): Promise<number> {
  const { ctx } = inv;
  try {
    for await (const raw of stream) {
      const line = raw.replace(/\n$/, "");
      ctx.stdout.write(inv.flags.json ? `${JSON.stringify({ ...fields, line })}\n` : `${line}\n`);
    }
  } catch (error) {
    if (ctx.signal.aborted) return 130;
    throw error;
  }
  return ctx.signal.aborted ? 130 : 0;
}

export function failures(results: NodeResult<unknown>[]): number {
  return results.filter((r) => !r.ok).length;
}

/** Human output is YAML: JSON is printed only with --json. */
export function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  return stringifyYaml(value).trimEnd();
}

export function byNode<T>(results: NodeResult<T>[], line: (value: T) => string): string {
  return results
    .map((r) => (r.ok ? `${r.node}  ${line(r.value)}` : `${r.node}  error: ${r.error.message}`))
    .join("\n");
}

/** One object per node: the node's value spread in, or under `listKey` when it is a list (never spread). */
export function nodeJson<T>(results: NodeResult<T>[], listKey = "items"): unknown[] {
  return results.map((r) =>
    r.ok
      ? Array.isArray(r.value)
        ? { node: r.node, [listKey]: r.value }
        : {
            node: r.node,
            ...((typeof r.value === "object" && r.value !== null ? r.value : { value: r.value }) as object),
          }
      : { node: r.node, error: { code: r.error.code, message: r.error.message } },
  );
}

/** Runs `fn` with a talos-client built from the connection flags, closed afterwards. */
export async function withTalos(
  inv: Invocation,
  fn: (client: TalosClient, nodes: string[] | undefined) => Promise<number>,
): Promise<number> {
  const { client, nodes } = await talosClientFromFlags(inv);
  try {
    return await fn(client, nodes);
  } finally {
    client.close();
  }
}

/** The nodes a change command targets, for its confirmation question. */
export function targetsOf(nodes: string[] | undefined): string {
  return nodes?.join(", ") ?? "the talosconfig's default nodes";
}
