function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? "null" : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Field-by-field difference of two JSON values as `+ path: value`, `- path: value`,
 * `~ path: before → after` lines.
 */
export function diffValues(before: unknown, after: unknown, path = "", lines: string[] = []): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return lines;
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      diffValues(before[key], after[key], path === "" ? key : `${path}.${key}`, lines);
    }
    return lines;
  }
  const at = path === "" ? "(root)" : path;
  if (before === undefined) lines.push(`+ ${at}: ${show(after)}`);
  else if (after === undefined) lines.push(`- ${at}: ${show(before)}`);
  else lines.push(`~ ${at}: ${show(before)} → ${show(after)}`);
  return lines;
}

/** `desired`'s fields that `live` lacks or holds differently (fields only the server sets are ignored). */
export function diffDesired(live: unknown, desired: unknown, path = "", lines: string[] = []): string[] {
  if (isObject(live) && isObject(desired)) {
    for (const key of Object.keys(desired))
      diffDesired(live[key], desired[key], path === "" ? key : `${path}.${key}`, lines);
    return lines;
  }
  return diffValues(live, desired, path, lines);
}
