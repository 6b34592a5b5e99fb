// Reference resolution: every traversal names something declared (with attribute paths into
// typed variables and resources), each/count/self only where defined; sensitivity through locals
// into outputs.

import type { Declared } from "./declarations.js";
import type { InfraFindingCode, Report } from "./findings.js";
import type { ScannedBlock, ScannedBody } from "./hcl-scan.js";
import type { TypeExpr } from "./hcl-types.js";
import { attr, type FileUnit, type Hcl2Json, literalString, referencesOf } from "./parse.js";
import { type ProvidersSchema, resourceSchema } from "./schema.js";

/**
 * Resolves every reference in every block (variables, locals, resources, data sources, modules,
 * each/count/self/path) and reports outputs derived from sensitive values that are not marked sensitive.
 */
export async function checkReferences(
  hcl: Hcl2Json,
  units: FileUnit[],
  declared: Declared,
  schema: ProvidersSchema,
  add: Report,
): Promise<void> {
  const sensitiveRefs = sensitiveReferenceSet(declared, schema);
  const localSensitive = new Set<string>();
  const outputChecks: { file: string; block: ScannedBlock; refs: string[] }[] = [];
  const localRefs = new Map<string, string[]>();
  for (const unit of units) {
    for (const block of unit.body.blocks) {
      // moved/removed/import name addresses that may no longer (or not yet) exist.
      if (block.type === "moved" || block.type === "removed" || block.type === "import") continue;
      const scope: Scope = {
        hasEach: attr(block.body, "for_each") !== undefined,
        hasCount: attr(block.body, "count") !== undefined,
        iterators: new Set(),
        self: false,
      };
      const collected: string[] = [];
      await checkReferencesInBody(hcl, unit.file, block, block.body, scope, declared, add, collected, true);
      if (block.type === "output") outputChecks.push({ file: unit.file, block, refs: collected });
      if (block.type === "locals") {
        for (const a of block.body.attributes) {
          localRefs.set(a.name, await referencesOf(hcl, unit.file, a.expression));
        }
      }
    }
  }

  // Sensitive propagation through locals, then outputs.
  const isSensitiveRef = (ref: string): boolean => {
    if (ref.startsWith("local.")) return localSensitive.has(ref.split(".")[1] ?? "");
    // Index segments (`x.y[0].z` arrives as x.y.0.z) do not change sensitivity.
    const normalized = ref
      .split(".")
      .filter((part) => !/^\d+$/.test(part))
      .join(".");
    if ([...sensitiveRefs].some((s) => normalized === s || normalized.startsWith(`${s}.`))) return true;
    // A whole-object reference carries the sensitive marks of its attributes.
    return declared.schemaAttrs.get(normalized)?.hasSensitive === true;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, refs] of localRefs) {
      if (!localSensitive.has(name) && refs.some(isSensitiveRef)) {
        localSensitive.add(name);
        changed = true;
      }
    }
  }
  for (const { file, block, refs } of outputChecks) {
    const sensitive = attr(block.body, "sensitive")?.expression === "true";
    const source = refs.find(isSensitiveRef);
    if (!sensitive && source !== undefined) {
      add({
        code: "OUTPUT_NOT_SENSITIVE",
        severity: "error",
        file,
        line: block.line,
        address: `output.${block.labels[0]}`,
        message: `output ${block.labels[0]} derives from the sensitive value ${source} but is not marked sensitive = true`,
      });
    }
  }
}

/** Addresses whose values are sensitive: sensitive variables and schema-sensitive attributes of declared resources. */
function sensitiveReferenceSet(declared: Declared, schema: ProvidersSchema): Set<string> {
  const out = new Set<string>();
  for (const [name, v] of declared.variables) if (v.sensitive) out.add(`var.${name}`);
  for (const [address, r] of declared.resources) {
    const s = resourceSchema(schema, declared, r.block);
    for (const [attrName, def] of Object.entries(s?.attributes ?? {})) {
      if (def.sensitive === true) out.add(`${address}.${attrName}`);
    }
  }
  return out;
}

interface Scope {
  hasEach: boolean;
  hasCount: boolean;
  iterators: Set<string>;
  self: boolean;
}

async function checkReferencesInBody(
  hcl: Hcl2Json,
  file: string,
  top: ScannedBlock,
  body: ScannedBody,
  scope: Scope,
  declared: Declared,
  add: Report,
  collected: string[],
  isTop: boolean,
): Promise<void> {
  for (const a of body.attributes) {
    // A variable's type constraint and lifecycle.ignore_changes hold names, not references.
    if (isTop && top.type === "variable" && a.name === "type") continue;
    if (!isTop && a.name === "ignore_changes") continue;
    const refs = await referencesOf(hcl, file, a.expression);
    for (const ref of refs) {
      collected.push(ref);
      const problem = resolveReference(ref, scope, declared, isTop && a.name === "count");
      if (problem !== undefined) {
        add({
          code: problem.code,
          severity: "error",
          file,
          line: a.line,
          address: top.labels.join("."),
          message: `${top.type} ${top.labels.join(".")}: ${a.name}: ${problem.message}`,
        });
      }
    }
  }
  for (const b of body.blocks) {
    const nested: Scope = { ...scope, iterators: new Set(scope.iterators) };
    if (b.type === "dynamic") {
      const iterator =
        literalString(attr(b.body, "iterator")?.expression ?? "") ?? attr(b.body, "iterator")?.expression;
      nested.iterators.add(iterator ?? b.labels[0] ?? "");
    }
    if (b.type === "provisioner" || b.type === "connection") nested.self = true;
    await checkReferencesInBody(hcl, file, top, b.body, nested, declared, add, collected, false);
  }
}

function typeAtPath(type: TypeExpr, segments: string[]): string | undefined {
  let current: TypeExpr = type;
  for (const segment of segments) {
    switch (current.kind) {
      case "object": {
        const next = current.attributes[segment];
        if (next === undefined) return segment;
        current = next.type;
        break;
      }
      case "list":
      case "set":
      case "map":
        current = current.element;
        break;
      case "tuple":
        current = current.elements[Number(segment)] ?? { kind: "any" };
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

function attributeProblem(
  address: string,
  rest: string[],
  declared: Declared,
): { code: InfraFindingCode; message: string } | undefined {
  const attribute = rest.find((part) => !/^\d+$/.test(part));
  const known = declared.schemaAttrs.get(address);
  if (attribute === undefined || known === undefined || known.names.has(attribute)) return undefined;
  return { code: "UNRESOLVED_REFERENCE", message: `${address} has no attribute ${attribute}` };
}

function resolveReference(
  ref: string,
  scope: Scope,
  declared: Declared,
  inCount: boolean,
): { code: InfraFindingCode; message: string } | undefined {
  const parts = ref.split(".");
  const [root = "", second = "", third = ""] = parts;
  if (scope.iterators.has(root)) return undefined;
  switch (root) {
    case "var": {
      const v = declared.variables.get(second);
      if (v === undefined) return { code: "UNRESOLVED_REFERENCE", message: `var.${second} is not declared` };
      if (v.type !== undefined) {
        // Index keys arrive quoted (`var.x."key"`).
        const missing = typeAtPath(
          v.type,
          parts.slice(2).map((part) => /^"(.*)"$/.exec(part)?.[1] ?? part),
        );
        if (missing !== undefined) {
          return {
            code: "UNRESOLVED_REFERENCE",
            message: `${ref}: the type of var.${second} has no attribute ${missing}`,
          };
        }
      }
      return undefined;
    }
    case "local":
      return declared.locals.has(second)
        ? undefined
        : { code: "UNRESOLVED_REFERENCE", message: `local.${second} is not declared` };
    case "data":
    case "ephemeral": {
      const address = `${root}.${second}.${third}`;
      return declared.resources.has(address)
        ? attributeProblem(address, parts.slice(3), declared)
        : { code: "UNRESOLVED_REFERENCE", message: `${address} is not declared` };
    }
    case "module":
      return declared.modules.has(second)
        ? undefined
        : { code: "UNRESOLVED_REFERENCE", message: `module.${second} is not declared` };
    case "each":
      if (!scope.hasEach)
        return { code: "INVALID_CONTEXT", message: `${ref} is used in a block without for_each` };
      return second === "key" || second === "value"
        ? undefined
        : { code: "UNRESOLVED_REFERENCE", message: `${ref}: each has only key and value` };
    case "count":
      if (!scope.hasCount || inCount)
        return { code: "INVALID_CONTEXT", message: `${ref} is used in a block without count` };
      return second === "index"
        ? undefined
        : { code: "UNRESOLVED_REFERENCE", message: `${ref}: count has only index` };
    case "self":
      return scope.self
        ? undefined
        : { code: "INVALID_CONTEXT", message: "self is only valid in provisioner and connection blocks" };
    case "path":
      return ["module", "root", "cwd"].includes(second)
        ? undefined
        : { code: "UNRESOLVED_REFERENCE", message: `${ref}: path has only module, root and cwd` };
    case "terraform":
      return undefined;
    default: {
      const address = `${root}.${second}`;
      return declared.resources.has(address)
        ? attributeProblem(address, parts.slice(2), declared)
        : { code: "UNRESOLVED_REFERENCE", message: `${address} is not declared` };
    }
  }
}
