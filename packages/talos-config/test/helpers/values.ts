/** Walks decoded YAML by keys and list indexes; undefined where the path leaves the data. */
export function pick(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}
