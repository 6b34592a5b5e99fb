// Terraform type constraints: reading `type = object({...})` from the parser's AST and schema type JSON,
// and checking JSON values (tfvars) against them.

export type TypeExpr =
  | { kind: "string" | "number" | "bool" | "any" }
  | { kind: "list" | "set" | "map"; element: TypeExpr }
  | { kind: "object"; attributes: Record<string, { type: TypeExpr; optional: boolean }> }
  | { kind: "tuple"; elements: TypeExpr[] };

/** The subset of the parser's expression AST (`getExpressionAst`) the checks read. */
export type Ast = { type: string; meta?: Record<string, unknown>; children?: Ast[] };

const PRIMITIVES = new Set(["string", "number", "bool", "any"]);

/** The value node of each `key = value` item of an object-expression node, keyed by its name. */
export function objectItems(node: Ast): Map<string, Ast> {
  const items = (node.meta?.items ?? {}) as Record<string, string>;
  const children = node.children ?? [];
  const out = new Map<string, Ast>();
  for (const [rawKey, valueText] of Object.entries(items)) {
    // Keys arrive as written: bare names, or quoted strings.
    const key = /^"(.*)"$/.exec(rawKey)?.[1] ?? rawKey;
    // Items with the same value text have the same value, so the first match is as good as any.
    const child = children.find((c, i) => i % 2 === 1 && c.meta?.value === valueText);
    if (child !== undefined) out.set(key, child);
  }
  return out;
}

/**
 * Reads a type constraint (`list(object({ a = string, b = optional(number, 1) }))`) from the
 * parser's expression AST of the `type` argument.
 *
 * @throws Error naming what is not a type.
 */
export function typeFromAst(node: Ast): TypeExpr {
  const children = node.children ?? [];
  if (node.type === "scopeTraversal") {
    const name = String(node.meta?.fullAccessor ?? "");
    if (PRIMITIVES.has(name)) return { kind: name as "string" | "number" | "bool" | "any" };
    throw new Error(`unknown type "${name}"`);
  }
  if (node.type !== "function") throw new Error(`"${String(node.meta?.value ?? node.type)}" is not a type`);
  const name = String(node.meta?.name ?? "");
  const only = (): Ast => {
    if (children.length !== 1 || children[0] === undefined)
      throw new Error(`${name}(...) takes one argument`);
    return children[0];
  };
  switch (name) {
    case "list":
    case "set":
    case "map":
      return { kind: name, element: typeFromAst(only()) };
    case "tuple": {
      const list = only();
      if (list.type !== "tuple") throw new Error("tuple(...) takes a list of types");
      return { kind: "tuple", elements: (list.children ?? []).map(typeFromAst) };
    }
    case "object": {
      const body = only();
      if (body.type !== "object") throw new Error("object(...) takes an object of attribute types");
      const attributes: Record<string, { type: TypeExpr; optional: boolean }> = {};
      for (const [key, value] of objectItems(body)) {
        const isOptional = value.type === "function" && value.meta?.name === "optional";
        const count = value.children?.length ?? 0;
        if (isOptional && (count < 1 || count > 2)) {
          throw new Error(
            `optional() for ${key} takes a type and at most one default, got ${count} arguments`,
          );
        }
        const inner = isOptional ? value.children?.[0] : value;
        if (inner === undefined) throw new Error(`no type for ${key}`);
        attributes[key] = { type: typeFromAst(inner), optional: isOptional };
      }
      return { kind: "object", attributes };
    }
    default:
      throw new Error(`unknown type "${name}"`);
  }
}

interface SchemaAttributeLike {
  type?: unknown;
  nested_type?: { nesting_mode?: string; attributes?: Record<string, SchemaAttributeLike> };
  required?: boolean;
}

/**
 * The type of a schema attribute: its `type`, or its `nested_type` (real `providers schema -json`
 * output for plugin-framework nested attributes, which keeps the inner required flags).
 */
export function fromSchemaAttribute(def: SchemaAttributeLike): TypeExpr {
  const nested = def.nested_type;
  if (nested === undefined) return fromSchemaType(def.type);
  const attributes: Record<string, { type: TypeExpr; optional: boolean }> = {};
  for (const [key, inner] of Object.entries(nested.attributes ?? {})) {
    attributes[key] = { type: fromSchemaAttribute(inner), optional: inner.required !== true };
  }
  const object: TypeExpr = { kind: "object", attributes };
  switch (nested.nesting_mode) {
    case "list":
      return { kind: "list", element: object };
    case "set":
      return { kind: "set", element: object };
    case "map":
      return { kind: "map", element: object };
    default:
      return object;
  }
}

/** Converts a schema `type` (JSON form; nested attributes flattened) into a {@link TypeExpr}. */
export function fromSchemaType(raw: unknown): TypeExpr {
  if (raw === "string" || raw === "number" || raw === "bool") return { kind: raw };
  if (raw === "dynamic") return { kind: "any" };
  if (Array.isArray(raw)) {
    const [kind, inner] = raw as [string, unknown];
    if (kind === "list" || kind === "set" || kind === "map") return { kind, element: fromSchemaType(inner) };
    if (kind === "tuple" && Array.isArray(inner))
      return { kind: "tuple", elements: inner.map(fromSchemaType) };
    if (kind === "object" && typeof inner === "object" && inner !== null) {
      const attributes: Record<string, { type: TypeExpr; optional: boolean }> = {};
      // The snapshot flattens nested attributes and loses their flags: every key is optional.
      for (const [key, value] of Object.entries(inner))
        attributes[key] = { type: fromSchemaType(value), optional: true };
      return { kind: "object", attributes };
    }
  }
  return { kind: "any" };
}

export function describeType(type: TypeExpr): string {
  switch (type.kind) {
    case "list":
    case "set":
    case "map":
      return `${type.kind}(${describeType(type.element)})`;
    case "object":
      return "object";
    case "tuple":
      return "tuple";
    default:
      return type.kind;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks a JSON value against a type the way a variable assignment converts it, but stricter about
 * objects: attributes the type does not declare are errors (they would be silently dropped), and
 * a required (non-optional) attribute must be present and not null.
 */
export function checkJsonValue(value: unknown, type: TypeExpr, path: string): string[] {
  if (value === null || type.kind === "any") return [];
  const got = Array.isArray(value) ? "array" : typeof value;
  switch (type.kind) {
    case "string":
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? []
        : [`${path}: expected string, got ${got}`];
    case "number":
      if (typeof value === "number") return [];
      if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return [];
      return [`${path}: expected number, got ${got}`];
    case "bool":
      if (typeof value === "boolean" || value === "true" || value === "false") return [];
      return [`${path}: expected bool, got ${got}`];
    case "list":
    case "set":
      if (!Array.isArray(value)) return [`${path}: expected ${describeType(type)}, got ${got}`];
      return value.flatMap((item, index) => checkJsonValue(item, type.element, `${path}[${index}]`));
    case "tuple":
      if (!Array.isArray(value)) return [`${path}: expected tuple, got ${got}`];
      if (value.length !== type.elements.length) {
        return [`${path}: expected ${type.elements.length} elements, got ${value.length}`];
      }
      return value.flatMap((item, index) => checkJsonValue(item, type.elements[index]!, `${path}[${index}]`));
    case "map":
      if (!isPlainObject(value)) return [`${path}: expected ${describeType(type)}, got ${got}`];
      return Object.entries(value).flatMap(([k, v]) => checkJsonValue(v, type.element, `${path}.${k}`));
    case "object": {
      if (!isPlainObject(value)) return [`${path}: expected object, got ${got}`];
      const errors: string[] = [];
      for (const key of Object.keys(value)) {
        if (!(key in type.attributes))
          errors.push(`${path}.${key}: not an attribute of the declared object type`);
      }
      for (const [key, attr] of Object.entries(type.attributes)) {
        const v = value[key];
        if (v === undefined || (v === null && !attr.optional)) {
          if (!attr.optional) errors.push(`${path}.${key}: required attribute is missing`);
          continue;
        }
        errors.push(...checkJsonValue(v, attr.type, `${path}.${key}`));
      }
      return errors;
    }
  }
}

/** `type` with the nested attributes listed in `required` (below `prefix`) marked required. */
export function withRequired(type: TypeExpr, required: Set<string>, prefix: string): TypeExpr {
  switch (type.kind) {
    case "object": {
      const attributes: Record<string, { type: TypeExpr; optional: boolean }> = {};
      for (const [key, a] of Object.entries(type.attributes)) {
        const path = `${prefix}.${key}`;
        attributes[key] = {
          type: withRequired(a.type, required, path),
          optional: a.optional && !required.has(path),
        };
      }
      return { kind: "object", attributes };
    }
    case "list":
    case "set":
    case "map":
      return { kind: type.kind, element: withRequired(type.element, required, prefix) };
    default:
      return type;
  }
}

/** The declared type at `segments` below `type`, or undefined when it cannot be followed. */
export function typeAt(type: TypeExpr, segments: string[]): TypeExpr | undefined {
  let current: TypeExpr = type;
  for (const segment of segments) {
    if (current.kind === "object") {
      const next = current.attributes[segment];
      if (next === undefined) return undefined;
      current = next.type;
    } else if (current.kind === "list" || current.kind === "set" || current.kind === "map") {
      current = current.element;
    } else if (current.kind === "tuple") {
      current = current.elements[Number(segment)] ?? { kind: "any" };
    } else {
      return undefined;
    }
  }
  return current;
}

const COLLECTION_KINDS = new Set(["object", "list", "set", "map", "tuple"]);

export function isCollection(type: TypeExpr): boolean {
  return COLLECTION_KINDS.has(type.kind);
}
