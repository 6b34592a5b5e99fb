// What the module declares: variables (with their types), locals, resources, modules, providers.

import type { Report } from "./findings.js";
import type { ScannedAttribute, ScannedBlock } from "./hcl-scan.js";
import { type TypeExpr, typeFromAst } from "./hcl-types.js";
import { attr, type FileUnit, type Hcl2Json } from "./parse.js";
import { type ProvidersSchema, resourceSchema } from "./schema.js";

export interface Declared {
  variables: Map<
    string,
    { block: ScannedBlock; file: string; type?: TypeExpr; sensitive: boolean; hasDefault: boolean }
  >;
  locals: Map<string, { attr: ScannedAttribute; file: string }>;
  resources: Map<string, { block: ScannedBlock; file: string; kind: "resource" | "data" | "ephemeral" }>;
  modules: Set<string>;
  providers: Map<string, string>; // local name -> source
  /** Per declared resource address: its schema's attribute and block names, and whether any attribute is sensitive. */
  schemaAttrs: Map<string, { names: Set<string>; hasSensitive: boolean }>;
}

export function collectDeclarations(units: FileUnit[], add: Report): Declared {
  const declared: Declared = {
    variables: new Map(),
    locals: new Map(),
    resources: new Map(),
    modules: new Set(),
    providers: new Map(),
    schemaAttrs: new Map(),
  };
  const duplicate = (file: string, line: number, address: string): void =>
    add({
      code: "DUPLICATE_DECLARATION",
      severity: "error",
      file,
      line,
      address,
      message: `${address} is declared twice`,
    });
  for (const { file, body } of units) {
    for (const block of body.blocks) {
      const [a = "", b = ""] = block.labels;
      switch (block.type) {
        case "variable": {
          if (declared.variables.has(a)) duplicate(file, block.line, `var.${a}`);
          declared.variables.set(a, {
            block,
            file,
            sensitive: attr(block.body, "sensitive")?.expression === "true",
            hasDefault: attr(block.body, "default") !== undefined,
          });
          break;
        }
        case "locals":
          for (const l of block.body.attributes) {
            if (declared.locals.has(l.name)) duplicate(file, l.line, `local.${l.name}`);
            declared.locals.set(l.name, { attr: l, file });
          }
          break;
        case "resource":
        case "data":
        case "ephemeral": {
          const address = `${block.type === "resource" ? "" : `${block.type}.`}${a}.${b}`;
          if (declared.resources.has(address)) duplicate(file, block.line, address);
          declared.resources.set(address, { block, file, kind: block.type });
          break;
        }
        case "module":
          declared.modules.add(a);
          break;
        case "terraform":
          for (const rp of block.body.blocks.filter((x) => x.type === "required_providers")) {
            for (const p of rp.body.attributes) {
              const source = /source\s*=\s*"([^"]+)"/.exec(p.expression)?.[1];
              declared.providers.set(p.name, source ?? `hashicorp/${p.name}`);
            }
          }
          break;
        default:
          break;
      }
    }
  }
  return declared;
}

/** Reads each variable's `type` through the parser's expression AST; unreadable ones are findings. */
export async function readVariableTypes(
  hcl: Hcl2Json,
  declared: Declared,
  brokenFiles: Set<string>,
  add: Report,
): Promise<void> {
  for (const [name, v] of declared.variables) {
    const typeAttr = attr(v.block.body, "type");
    if (typeAttr === undefined) continue;
    try {
      const ast = await hcl.getExpressionAst(v.file, `${typeAttr.expression}\n`);
      if (ast === null) throw new Error("empty type expression");
      v.type = typeFromAst(ast);
    } catch (error) {
      if (brokenFiles.has(v.file)) continue;
      const reason = ((error as Error).message ?? String(error)).replace(
        /^getExpressionAst errors on input string '[^']*'\s*:\s*/s,
        "",
      );
      add({
        code: "VARIABLE_BAD_TYPE",
        severity: "error",
        file: v.file,
        line: typeAttr.line,
        address: `var.${name}`,
        message: `variable ${name}: cannot read its type: ${reason.trim()}`,
      });
    }
  }
}

/** Records, per declared resource address, its schema's attribute and block names and whether any is sensitive. */
export function indexSchemaAttributes(declared: Declared, schema: ProvidersSchema): void {
  for (const [address, r] of declared.resources) {
    const s = resourceSchema(schema, declared, r.block);
    if (s === undefined) continue;
    const attributes = Object.entries(s.attributes ?? {});
    declared.schemaAttrs.set(address, {
      names: new Set([...attributes.map(([name]) => name), ...Object.keys(s.block_types ?? {})]),
      hasSensitive: attributes.some(([, def]) => def.sensitive === true),
    });
  }
}
