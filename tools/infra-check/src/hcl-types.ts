// Terraform type constraints: parsing `type = object({...})` expressions and schema type JSON,
// and checking JSON values (tfvars) against them.

export type TypeExpr =
  | { kind: "string" | "number" | "bool" | "any" }
  | { kind: "list" | "set" | "map"; element: TypeExpr }
  | { kind: "object"; attributes: Record<string, { type: TypeExpr; optional: boolean }> }
  | { kind: "tuple"; elements: TypeExpr[] };

/** Parses a type constraint such as `list(object({ a = string, b = optional(number, 1) }))`. */
export function parseTypeExpression(text: string): TypeExpr {
  let i = 0;
  const s = text;
  const ws = (): void => {
    while (i < s.length) {
      if (/[\s,]/.test(s[i] as string)) i++;
      else if (s[i] === "#" || (s[i] === "/" && s[i + 1] === "/")) {
        while (i < s.length && s[i] !== "\n") i++;
      } else if (s[i] === "/" && s[i + 1] === "*") {
        const end = s.indexOf("*/", i + 2);
        i = end === -1 ? s.length : end + 2;
      } else break;
    }
  };
  const ident = (): string => {
    ws();
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(s.slice(i));
    if (m === null) throw new Error(`expected a type name at "${s.slice(i, i + 20)}"`);
    i += m[0].length;
    return m[0];
  };
  const expect = (c: string): void => {
    ws();
    if (s[i] !== c) throw new Error(`expected "${c}" at "${s.slice(i, i + 20)}"`);
    i++;
  };
  // Skips a default value up to the `)` closing optional(...).
  const skipDefault = (): void => {
    let depth = 0;
    while (i < s.length) {
      const c = s[i] as string;
      if (c === '"') {
        i++;
        while (i < s.length && s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
      } else if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) return;
        depth--;
      }
      i++;
    }
  };
  const parseType = (): TypeExpr => {
    const name = ident();
    switch (name) {
      case "string":
      case "number":
      case "bool":
      case "any":
        return { kind: name };
      case "list":
      case "set":
      case "map": {
        expect("(");
        const element = parseType();
        expect(")");
        return { kind: name, element };
      }
      case "tuple": {
        expect("(");
        expect("[");
        const elements: TypeExpr[] = [];
        ws();
        while (s[i] !== "]") {
          elements.push(parseType());
          ws();
        }
        i++;
        expect(")");
        return { kind: "tuple", elements };
      }
      case "object": {
        expect("(");
        expect("{");
        const attributes: Record<string, { type: TypeExpr; optional: boolean }> = {};
        ws();
        while (s[i] !== "}") {
          const key = ident();
          expect("=");
          ws();
          if (s.slice(i).startsWith("optional(") || s.slice(i).startsWith("optional (")) {
            ident();
            expect("(");
            const type = parseType();
            ws();
            skipDefault();
            expect(")");
            attributes[key] = { type, optional: true };
          } else {
            attributes[key] = { type: parseType(), optional: false };
          }
          ws();
          if (i >= s.length) throw new Error("unterminated object type");
        }
        i++;
        expect(")");
        return { kind: "object", attributes };
      }
      default:
        throw new Error(`unknown type "${name}"`);
    }
  };
  const type = parseType();
  ws();
  if (i < s.length) throw new Error(`unexpected "${s.slice(i, i + 20)}" after the type`);
  return type;
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
