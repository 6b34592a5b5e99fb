// Reading the module: the HCL parser (wasm, loaded on first use), the scanned files, expression
// ASTs and the references inside expressions.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InfraCheckError } from "./errors.js";
import type { Report } from "./findings.js";
import { type ScannedAttribute, type ScannedBody, scanHcl } from "./hcl-scan.js";
import type { Ast } from "./hcl-types.js";

export interface Hcl2Json {
  parse(filename: string, contents: string): Promise<Record<string, unknown>>;
  getReferencesInExpression(filename: string, expression: string): Promise<{ value: string }[]>;
  getExpressionAst(filename: string, expression: string): Promise<Ast | null>;
}

let hclModule: Promise<Hcl2Json> | undefined;
export function loadHcl(): Promise<Hcl2Json> {
  // Loaded on first use: the wasm build is large.
  hclModule ??= import("@cdktn/hcl2json") as unknown as Promise<Hcl2Json>;
  return hclModule;
}

export interface FileUnit {
  file: string;
  body: ScannedBody;
}

export function literalString(expression: string): string | undefined {
  const m = /^"((?:[^"\\$%]|\\.)*)"$/.exec(expression.trim());
  return m === null ? undefined : (m[1] ?? "");
}

export function attr(body: ScannedBody, name: string): ScannedAttribute | undefined {
  return body.attributes.find((a) => a.name === name);
}

function parseErrorLine(message: string): number | undefined {
  const m = /:(\d+),\d+/.exec(message);
  return m === null ? undefined : Number(m[1]);
}

export async function expressionAst(hcl: Hcl2Json, file: string, expression: string): Promise<Ast | null> {
  try {
    return await hcl.getExpressionAst(file, `${expression}\n`);
  } catch {
    return null; // unparseable expressions were reported by the parse step
  }
}

export async function referencesOf(hcl: Hcl2Json, file: string, expression: string): Promise<string[]> {
  if (!/[A-Za-z_]/.test(expression)) return [];
  try {
    const refs = await hcl.getReferencesInExpression(file, `\${${expression}\n}`);
    return refs.map((r) => r.value);
  } catch {
    return [];
  }
}

/** Reads every `.tf` file of `dir`: files that parse become units; the others are reported and still scanned. */
export async function parseModule(
  hcl: Hcl2Json,
  dir: string,
  add: Report,
): Promise<{ names: string[]; units: FileUnit[]; broken: FileUnit[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (cause) {
    throw new InfraCheckError("INFRA_PARSE_ERROR", `cannot read ${dir}`, { cause });
  }
  const units: FileUnit[] = [];
  const broken: FileUnit[] = [];
  for (const file of names.filter((n) => n.endsWith(".tf"))) {
    const text = await readFile(join(dir, file), "utf8");
    try {
      await hcl.parse(file, text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const line = parseErrorLine(message);
      add({
        code: "PARSE_ERROR",
        severity: "error",
        file,
        ...(line === undefined ? {} : { line }),
        message: message.replace(/^parse config: /, ""),
      });
      // Still read its declarations so other files' references to them do not cascade.
      broken.push({ file, body: scanHcl(text) });
      continue;
    }
    units.push({ file, body: scanHcl(text) });
  }

  return { names, units, broken };
}
