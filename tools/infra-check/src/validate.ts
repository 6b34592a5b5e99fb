// The offline check: parse, collect declarations, check blocks, references, values and tfvars.

import { checkBlocks } from "./attributes.js";
import { collectDeclarations, indexSchemaAttributes, readVariableTypes } from "./declarations.js";
import { type InfraFinding, sortFindings } from "./findings.js";
import { loadHcl, parseModule } from "./parse.js";
import { checkReferences } from "./references.js";
import { loadSchema } from "./schema.js";
import { checkTfvars } from "./tfvars.js";
import { checkResourceValues } from "./values.js";
import { checkRequiredVersion } from "./versions.js";

/** Options of {@link validateInfrastructure}. */
export interface ValidateInfrastructureOptions {
  /** The root module directory (`infrastructure/`). */
  dir: string;
  /** The parsed provider schemas (`tofu providers schema -json`, as JSON.parse returns it). */
  providersSchema?: { provider_schemas: Record<string, unknown> };
  /** Or the path of that JSON file. */
  providersSchemaPath?: string;
  /**
   * tfvars documents to type-check against variables.tf, e.g. `renderTfvars` output. Names ending
   * in `.json` are JSON, others HCL. `*.auto.tfvars.json`, `terraform.tfvars(.json)` and
   * `terraform.tfvars.example` found in `dir` are checked too.
   */
  tfvars?: { name: string; text: string }[];
}

/**
 * Checks an OpenTofu root module offline, as `tofu validate` would with the providers installed:
 * every `.tf` file parses; every resource, data source and attribute exists in the provider
 * schemas, required arguments are set and read-only ones are not; nested values use the attribute
 * or block form the schema demands; every `var.`, `local.`, `data.`, `module.` and resource
 * reference resolves (attribute paths into typed variables and resources included); `each`/`count`
 * appear only where they are defined; variables have a type and a description and secret-looking
 * ones are sensitive; outputs derived from sensitive values are marked sensitive; and tfvars
 * documents type-check against the variables. Returns the findings (empty when clean).
 *
 * @throws InfraCheckError INFRA_PARSE_ERROR when the directory or the schema cannot be read.
 */
export async function validateInfrastructure(
  options: ValidateInfrastructureOptions,
): Promise<InfraFinding[]> {
  const schema = await loadSchema(options);
  const hcl = await loadHcl();
  const findings: InfraFinding[] = [];
  const add = (f: InfraFinding): void => {
    findings.push(f);
  };
  const { names, units, broken } = await parseModule(hcl, options.dir, add);
  // Declarations of unparseable files count too, so references to them do not cascade.
  const declared = collectDeclarations([...units, ...broken], () => {});
  collectDeclarations(units, add);
  await readVariableTypes(hcl, declared, new Set(broken.map((b) => b.file)), add);
  indexSchemaAttributes(declared, schema);
  checkBlocks(units, schema, declared, add);
  checkRequiredVersion(units, add);
  await checkReferences(hcl, units, declared, schema, add);
  await checkResourceValues(hcl, units, declared, schema, add);
  await checkTfvars(hcl, options.dir, names, options.tfvars, declared, add);
  return sortFindings(findings);
}
