// Value checks: the expression ASTs of resource arguments against the schema types (object keys,
// required nested attributes, kinds), following locals, variables' declared types, each.value and
// resource attributes.

import type { Declared } from "./declarations.js";
import type { Report } from "./findings.js";
import type { ScannedBlock, ScannedBody } from "./hcl-scan.js";
import {
  type Ast,
  describeType,
  fromSchemaAttribute,
  isCollection,
  objectItems,
  type TypeExpr,
  typeAt,
  withRequired,
} from "./hcl-types.js";
import { attr, expressionAst, type FileUnit, type Hcl2Json } from "./parse.js";
import { REQUIRED_NESTED } from "./required-nested.js";
import { type ProvidersSchema, resourceSchema, type SchemaBlock } from "./schema.js";

/**
 * Checks the values of every resource's arguments against the schema's types: object keys and
 * required nested attributes through literals, for, conditionals, functions and locals; the
 * declared types of what references point at.
 */
export async function checkResourceValues(
  hcl: Hcl2Json,
  units: FileUnit[],
  declared: Declared,
  schema: ProvidersSchema,
  add: Report,
): Promise<void> {
  const localAsts = new Map<string, Ast>();
  for (const [name, l] of declared.locals) {
    const ast = await expressionAst(hcl, l.file, l.attr.expression);
    if (ast !== null) localAsts.set(name, ast);
  }
  const resources = new Map<string, SchemaBlock>();
  for (const [address, r] of declared.resources) {
    const s = resourceSchema(schema, declared, r.block);
    if (s !== undefined) resources.set(address, s);
  }
  const variables = new Map(
    [...declared.variables].flatMap(([name, v]) => (v.type === undefined ? [] : [[name, v.type] as const])),
  );
  for (const unit of units) {
    for (const block of unit.body.blocks) {
      if (block.type !== "resource" && block.type !== "data" && block.type !== "ephemeral") continue;
      const s = resourceSchema(schema, declared, block);
      if (s === undefined) continue;
      const context: ValueContext = {
        locals: localAsts,
        variables,
        resources,
        required: new Set(REQUIRED_NESTED[block.labels[0] ?? ""] ?? []),
      };
      const forEach = attr(block.body, "for_each");
      if (forEach !== undefined) {
        const ast = await expressionAst(hcl, unit.file, forEach.expression);
        const each = ast === null ? undefined : eachValueType(inferType(ast, context, new Set()));
        if (each !== undefined) context.eachValue = each;
      }
      await checkValues(hcl, unit.file, block, block.body, s, add, context);
    }
  }
}

/** What a value check can follow: locals' expressions, variables' declared types, resource schemas, each.value. */
interface ValueContext {
  locals: Map<string, Ast>;
  variables: Map<string, TypeExpr>;
  /** Nested attributes the resource type requires (dotted paths, see required-nested.ts). */
  required: Set<string>;
  /** Schemas of the declared resources and data sources, by address (`talos_x.y`, `data.talos_x.y`). */
  resources: Map<string, SchemaBlock>;
  /** The type of `each.value` in the block being checked, when its for_each tells it. */
  eachValue?: TypeExpr;
}

/** The names and index keys (unquoted) of a traversal node, or undefined for splats and the like. */
function traversalSegments(node: Ast): string[] | undefined {
  const steps = node.meta?.traversal;
  if (!Array.isArray(steps)) return undefined;
  const out: string[] = [];
  for (const step of steps as { type?: string; segment?: string }[]) {
    const segment = String(step.segment ?? "");
    if (step.type === "nameTraversal") out.push(segment);
    else if (step.type === "indexTraversal") out.push(/^"(.*)"$/.exec(segment)?.[1] ?? segment);
    else return undefined;
  }
  return out;
}

/** The type of a resource's (or data source's) attribute path, skipping a count/for_each index. */
function resourceAttributeType(context: ValueContext, address: string, rest: string[]): TypeExpr | undefined {
  const s = context.resources.get(address);
  if (s === undefined) return undefined;
  const attributes = s.attributes ?? {};
  const skip = rest[0] !== undefined && !(rest[0] in attributes) ? 1 : 0;
  const def = attributes[rest[skip] ?? ""];
  return def === undefined ? undefined : typeAt(fromSchemaAttribute(def), rest.slice(skip + 1));
}

/** The type a reference evaluates to, where the declarations tell it; undefined when unknown. */
function referenceType(node: Ast, context: ValueContext, seen: Set<string>): TypeExpr | undefined {
  const segments = traversalSegments(node);
  if (segments === undefined) return undefined;
  const [root = "", second = "", ...rest] = segments;
  switch (root) {
    case "var": {
      const declared = context.variables.get(second);
      return declared === undefined ? undefined : typeAt(declared, rest);
    }
    case "local": {
      const key = `local.${second}`;
      const ast = context.locals.get(second);
      if (ast === undefined || seen.has(key)) return undefined;
      seen.add(key);
      const inferred = inferType(ast, context, seen);
      seen.delete(key);
      return typeAt(inferred, rest);
    }
    case "each":
      if (second === "key") return { kind: "string" };
      return second === "value" && context.eachValue !== undefined
        ? typeAt(context.eachValue, rest)
        : undefined;
    case "count":
    case "path":
    case "terraform":
    case "self":
    case "module":
      return undefined;
    case "data":
    case "ephemeral": {
      const [name = "", ...more] = rest;
      return resourceAttributeType(context, `${root}.${second}.${name}`, more);
    }
    default:
      return resourceAttributeType(context, `${root}.${second}`, rest);
  }
}

const STRING_FUNCTIONS = new Set([
  "format",
  "join",
  "jsonencode",
  "yamlencode",
  "templatefile",
  "tostring",
  "lower",
  "upper",
  "trimspace",
  "replace",
  "base64encode",
  "sha256",
]);

/** The type of an expression as far as its syntax and the declarations tell (`any` where they do not). */
function inferType(node: Ast, context: ValueContext, seen: Set<string>): TypeExpr {
  const children = node.children ?? [];
  switch (node.type) {
    case "object": {
      const attributes: Record<string, { type: TypeExpr; optional: boolean }> = {};
      for (const [key, value] of objectItems(node)) {
        attributes[key] = { type: inferType(value, context, seen), optional: false };
      }
      return { kind: "object", attributes };
    }
    case "tuple":
      return { kind: "tuple", elements: children.map((c) => inferType(c, context, seen)) };
    case "template":
      return { kind: "string" };
    case "literalValue": {
      const kind = node.meta?.type;
      return kind === "number" || kind === "bool" || kind === "string" ? { kind } : { kind: "any" };
    }
    case "scopeTraversal":
      return referenceType(node, context, seen) ?? { kind: "any" };
    case "conditional": {
      const branches = children
        .filter(
          (c) => c.meta?.value === node.meta?.trueExpression || c.meta?.value === node.meta?.falseExpression,
        )
        .map((c) => inferType(c, context, seen));
      const [first, second] = branches;
      return first !== undefined && second !== undefined && first.kind === second.kind
        ? first
        : { kind: "any" };
    }
    case "for":
      return node.meta?.openRangeValue === "["
        ? { kind: "list", element: { kind: "any" } }
        : { kind: "map", element: { kind: "any" } };
    case "function":
      return STRING_FUNCTIONS.has(String(node.meta?.name ?? "")) ? { kind: "string" } : { kind: "any" };
    default:
      return { kind: "any" };
  }
}

/** What `each.value` is for a `for_each` of this type (the element of a map, set or list). */
function eachValueType(forEach: TypeExpr): TypeExpr | undefined {
  return forEach.kind === "map" || forEach.kind === "set" || forEach.kind === "list"
    ? forEach.element
    : undefined;
}

async function checkValues(
  hcl: Hcl2Json,
  file: string,
  block: ScannedBlock,
  body: ScannedBody,
  s: SchemaBlock,
  add: Report,
  context: ValueContext,
  prefix = "",
): Promise<void> {
  const address = block.labels.join(".");
  for (const a of body.attributes) {
    const def = s.attributes?.[a.name];
    if (def === undefined || (def.type === undefined && def.nested_type === undefined)) continue;
    const name = prefix === "" ? a.name : `${prefix}.${a.name}`;
    const type = withRequired(fromSchemaAttribute(def), context.required, name);
    if (type.kind === "any") continue;
    const ast = await expressionAst(hcl, file, a.expression);
    if (ast === null) continue;
    for (const problem of checkAst(ast, type, a.name, context, new Set())) {
      add({
        code: "INVALID_VALUE",
        severity: "error",
        file,
        line: a.line,
        address,
        message: `${address}: ${problem}`,
      });
    }
  }
  for (const b of body.blocks) {
    const nested = s.block_types?.[b.type];
    if (nested !== undefined) {
      const name = prefix === "" ? b.type : `${prefix}.${b.type}`;
      await checkValues(hcl, file, block, b.body, nested.block, add, context, name);
    }
  }
}

const SAME_TYPE_FUNCTIONS = new Set([
  "concat",
  "compact",
  "distinct",
  "reverse",
  "sort",
  "tolist",
  "toset",
  "tomap",
  "coalescelist",
  "try",
  "coalesce",
  "merge",
]);

/** Checks object keys and obvious kind mismatches in an expression AST against the expected type. */
function checkAst(
  node: Ast,
  type: TypeExpr,
  path: string,
  context: ValueContext,
  seen: Set<string>,
): string[] {
  const { locals } = context;
  const recurse = (n: Ast, t: TypeExpr, p: string): string[] => checkAst(n, t, p, context, seen);
  if (type.kind === "any") return [];
  const meta = node.meta ?? {};
  const children = node.children ?? [];
  switch (node.type) {
    case "object": {
      if (type.kind === "map") {
        return children.filter((_, i) => i % 2 === 1).flatMap((c) => recurse(c, type.element, `${path}[*]`));
      }
      if (type.kind !== "object")
        return [`${path}: an object was given where ${describeType(type)} is expected`];
      const items = (meta.items ?? {}) as Record<string, string>;
      const errors: string[] = [];
      for (const [key, attr] of Object.entries(type.attributes)) {
        if (!attr.optional && !(key in items)) errors.push(`${path}: the attribute ${key} is required`);
      }
      for (const [key, valueText] of Object.entries(items)) {
        const attrType = type.attributes[key];
        if (attrType === undefined) {
          errors.push(
            `${path}: unsupported attribute ${key} (expected one of ${Object.keys(type.attributes).join(", ")})`,
          );
          continue;
        }
        const child = children.find((c) => c.meta?.value === valueText);
        if (child !== undefined) errors.push(...recurse(child, attrType.type, `${path}.${key}`));
      }
      return errors;
    }
    case "tuple":
      if (type.kind === "list" || type.kind === "set") {
        return children.flatMap((c, i) => recurse(c, type.element, `${path}[${i}]`));
      }
      if (type.kind === "tuple")
        return children.flatMap((c, i) => recurse(c, type.elements[i] ?? { kind: "any" }, `${path}[${i}]`));
      return [`${path}: a list was given where ${describeType(type)} is expected`];
    case "for": {
      const valueText = meta.valueExpression;
      const value = children.find((c) => c.meta?.value === valueText);
      if (value === undefined) return [];
      if (meta.openRangeValue === "[") {
        if (type.kind === "list" || type.kind === "set") return recurse(value, type.element, `${path}[*]`);
        return type.kind === "tuple"
          ? []
          : [`${path}: a list was given where ${describeType(type)} is expected`];
      }
      if (type.kind === "map") return recurse(value, type.element, `${path}[*]`);
      return type.kind === "object"
        ? []
        : [`${path}: an object was given where ${describeType(type)} is expected`];
    }
    case "function": {
      const name = String(meta.name ?? "");
      if (!SAME_TYPE_FUNCTIONS.has(name)) return [];
      if (name === "merge" && type.kind !== "object" && type.kind !== "map") return [];
      return children.flatMap((c) => recurse(c, type, path));
    }
    case "conditional": {
      const branches = children.filter(
        (c) => c.meta?.value === meta.trueExpression || c.meta?.value === meta.falseExpression,
      );
      return branches.flatMap((c) => recurse(c, type, path));
    }
    case "template":
      if (
        type.kind === "object" ||
        type.kind === "list" ||
        type.kind === "set" ||
        type.kind === "map" ||
        type.kind === "tuple"
      ) {
        return [`${path}: a string was given where ${describeType(type)} is expected`];
      }
      if (type.kind === "number" && children.length === 1 && children[0]?.type === "literalValue") {
        const v = String(children[0].meta?.value ?? "");
        if (!Number.isFinite(Number(v)) || v.trim() === "") return [`${path}: "${v}" is not a number`];
      }
      if (type.kind === "bool" && children.length === 1 && children[0]?.type === "literalValue") {
        const v = String(children[0].meta?.value ?? "");
        if (v !== "true" && v !== "false") return [`${path}: "${v}" is not a bool`];
      }
      return [];
    case "literalValue": {
      const literalType = meta.type;
      if (
        literalType === "number" &&
        (type.kind === "object" || type.kind === "list" || type.kind === "set" || type.kind === "map")
      ) {
        return [`${path}: a number was given where ${describeType(type)} is expected`];
      }
      if (
        literalType === "bool" &&
        (type.kind === "object" ||
          type.kind === "list" ||
          type.kind === "set" ||
          type.kind === "map" ||
          type.kind === "number")
      ) {
        return [`${path}: a bool was given where ${describeType(type)} is expected`];
      }
      return [];
    }
    case "scopeTraversal": {
      const accessor = String(meta.fullAccessor ?? "");
      // A bare local: check its expression in place (once per chain, to stop cycles).
      const m = /^local\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(accessor);
      const target = m === null ? undefined : locals.get(m[1] ?? "");
      if (target !== undefined) {
        if (seen.has(accessor)) return [];
        seen.add(accessor);
        const errors = recurse(target, type, `${path} (via ${accessor})`);
        seen.delete(accessor);
        return errors;
      }
      // Any other reference (a variable, a path into a local, each.value, a resource attribute, with
      // indexes): its type must be of the same family as the place it goes. An object or a list
      // where a string, number or bool is expected (or the reverse) is an error at plan time.
      const found = referenceType(node, context, new Set(seen));
      if (found !== undefined && found.kind !== "any" && isCollection(found) !== isCollection(type)) {
        return [`${path}: ${accessor} is ${describeType(found)} where ${describeType(type)} is expected`];
      }
      return [];
    }
    default:
      return [];
  }
}
