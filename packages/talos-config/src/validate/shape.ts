/** One node of a schema, structure only (see scripts/gen-schema-shapes.mjs). */
export interface Shape {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Shape>>;
  readonly patternProperties?: Readonly<Record<string, Shape>>;
  readonly additionalProperties?: boolean | Shape;
  readonly items?: Shape;
  readonly $ref?: string;
  readonly enum?: readonly unknown[];
  readonly required?: readonly string[];
  readonly oneOf?: readonly Shape[];
}

/** The shapes of one official schema: definitions by name and the definition of each document kind. */
export interface SchemaShapes {
  readonly kinds: Readonly<Record<string, string>>;
  readonly defs: Readonly<Record<string, Shape>>;
}

/** Why a value does not fit a shape: the path inside the document and what is wrong. */
export interface ShapeIssue {
  readonly path: string;
  readonly message: string;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function fitsType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

const child = (path: string, key: string): string =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
    ? `${path}${path === "" ? "" : "."}${key}`
    : `${path}[${JSON.stringify(key)}]`;

/**
 * Checks a value against a shape: types, unknown keys where the schema forbids them (Talos decodes with
 * known fields only), required keys (unless `partial`), enums. `oneOf` passes when any branch fits.
 */
export function checkShape(
  value: unknown,
  shape: Shape,
  shapes: SchemaShapes,
  path: string,
  options: { partial: boolean; skip?: (path: string) => boolean },
  issues: ShapeIssue[],
): void {
  if (options.skip?.(path)) return;
  if (shape.$ref !== undefined) {
    const def = shapes.defs[shape.$ref];
    if (def !== undefined) checkShape(value, def, shapes, path, options, issues);
    return;
  }
  if (shape.oneOf !== undefined) {
    const fits = shape.oneOf.some((branch) => {
      const branchIssues: ShapeIssue[] = [];
      checkShape(value, branch, shapes, path, options, branchIssues);
      return branchIssues.length === 0;
    });
    if (!fits) issues.push({ path, message: `has the wrong type (${typeOf(value)})` });
    return;
  }
  if (shape.type !== undefined && !fitsType(value, shape.type)) {
    issues.push({ path, message: `must be ${article(shape.type)}, not ${typeOf(value)}` });
    return;
  }
  if (shape.enum !== undefined && !shape.enum.includes(value)) {
    issues.push({ path, message: `must be one of ${shape.enum.map((v) => JSON.stringify(v)).join(", ")}` });
    return;
  }
  if (Array.isArray(value)) {
    if (shape.items !== undefined)
      value.forEach((item, i) => {
        checkShape(item, shape.items as Shape, shapes, `${path}[${i}]`, options, issues);
      });
    return;
  }
  if (value === null || typeof value !== "object") return;
  const record = value as Record<string, unknown>;
  for (const [key, item] of Object.entries(record)) {
    const at = child(path, key);
    const known = shape.properties?.[key];
    if (known !== undefined) {
      checkShape(item, known, shapes, at, options, issues);
      continue;
    }
    const pattern = Object.entries(shape.patternProperties ?? {}).find(([re]) => new RegExp(re).test(key));
    if (pattern !== undefined) {
      checkShape(item, pattern[1], shapes, at, options, issues);
      continue;
    }
    if (shape.additionalProperties === false) {
      if (!options.skip?.(at)) issues.push({ path: at, message: "is not a known field" });
    } else if (typeof shape.additionalProperties === "object") {
      checkShape(item, shape.additionalProperties, shapes, at, options, issues);
    }
  }
  if (!options.partial) {
    for (const key of shape.required ?? []) {
      if (record[key] === undefined) issues.push({ path: child(path, key), message: "is required" });
    }
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
