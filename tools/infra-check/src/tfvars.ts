// tfvars documents (JSON or HCL) against the declared variables' types.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Declared } from "./declarations.js";
import type { Report } from "./findings.js";
import { checkJsonValue } from "./hcl-types.js";
import type { Hcl2Json } from "./parse.js";

/** Type-checks the given tfvars documents and those found in `dir` against the declared variables. */
export async function checkTfvars(
  hcl: Hcl2Json,
  dir: string,
  names: string[],
  given: { name: string; text: string }[] | undefined,
  declared: Declared,
  add: Report,
): Promise<void> {
  const tfvarsDocs = [...(given ?? [])];
  for (const name of names) {
    if (/\.auto\.tfvars(\.json)?$/.test(name) || /^terraform\.tfvars(\.json|\.example)?$/.test(name)) {
      tfvarsDocs.push({ name, text: await readFile(join(dir, name), "utf8") });
    }
  }
  for (const doc of tfvarsDocs) await checkTfvarsDocument(hcl, doc, declared, add);
}

async function checkTfvarsDocument(
  hcl: Hcl2Json,
  doc: { name: string; text: string },
  declared: Declared,
  add: Report,
): Promise<void> {
  let values: Record<string, unknown>;
  try {
    if (doc.name.endsWith(".json")) {
      const parsed: unknown = JSON.parse(doc.text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not a JSON object");
      values = parsed as Record<string, unknown>;
    } else {
      values = await hcl.parse(doc.name, doc.text);
    }
  } catch (error) {
    add({
      code: "TFVARS_PARSE_ERROR",
      severity: "error",
      file: doc.name,
      message: `${doc.name}: ${(error as Error).message}`,
    });
    return;
  }
  for (const [name, value] of Object.entries(values)) {
    const v = declared.variables.get(name);
    if (v === undefined) {
      add({
        code: "TFVARS_UNKNOWN_VARIABLE",
        severity: "error",
        file: doc.name,
        address: `var.${name}`,
        message: `${doc.name}: ${name} is not a declared variable`,
      });
      continue;
    }
    if (v.sensitive && value !== null) {
      add({
        code: "TFVARS_SECRET",
        severity: "error",
        file: doc.name,
        address: `var.${name}`,
        message: `${doc.name}: ${name} is sensitive; pass it as TF_VAR_${name} instead of writing it to a file`,
      });
    }
    if (v.type === undefined) continue;
    if (value === null && !v.hasDefault) {
      add({
        code: "TFVARS_TYPE",
        severity: "error",
        file: doc.name,
        address: `var.${name}`,
        message: `${doc.name}: ${name} is required and cannot be null`,
      });
      continue;
    }
    for (const problem of checkJsonValue(value, v.type, name)) {
      add({
        code: "TFVARS_TYPE",
        severity: "error",
        file: doc.name,
        address: `var.${name}`,
        message: `${doc.name}: ${problem}`,
      });
    }
  }
  for (const [name, v] of declared.variables) {
    if (!v.hasDefault && !(name in values)) {
      add({
        code: "TFVARS_MISSING_VARIABLE",
        severity: "error",
        file: doc.name,
        address: `var.${name}`,
        message: `${doc.name}: the required variable ${name} is not set`,
      });
    }
  }
}
