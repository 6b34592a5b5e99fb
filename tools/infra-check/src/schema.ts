// The providers schema (`tofu providers schema -json`): loading it and finding a block's schema.

import { readFile } from "node:fs/promises";
import type { Declared } from "./declarations.js";
import { InfraCheckError } from "./errors.js";
import type { ScannedBlock } from "./hcl-scan.js";
import { attr } from "./parse.js";

/** The subset of `tofu providers schema -json` the validator reads. */
export interface ProvidersSchema {
  provider_schemas: Record<string, ProviderSchema>;
  [key: string]: unknown;
}

export interface SchemaAttribute {
  type?: unknown;
  nested_type?: { nesting_mode?: string; attributes?: Record<string, SchemaAttribute> };
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  write_only?: boolean;
}

export interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, { nesting_mode?: string; block: SchemaBlock; min_items?: number }>;
  deprecated?: boolean;
}

interface ProviderSchema {
  provider?: { block: SchemaBlock };
  resource_schemas?: Record<string, { block: SchemaBlock }>;
  data_source_schemas?: Record<string, { block: SchemaBlock }>;
  ephemeral_resource_schemas?: Record<string, { block: SchemaBlock }>;
}

export async function loadSchema(options: {
  providersSchema?: { provider_schemas: Record<string, unknown> };
  providersSchemaPath?: string;
}): Promise<ProvidersSchema> {
  if (options.providersSchema !== undefined) return options.providersSchema as ProvidersSchema;
  if (options.providersSchemaPath === undefined) {
    throw new InfraCheckError(
      "INFRA_PARSE_ERROR",
      "validateInfrastructure needs providersSchema or providersSchemaPath",
    );
  }
  try {
    return JSON.parse(await readFile(options.providersSchemaPath, "utf8")) as ProvidersSchema;
  } catch (cause) {
    throw new InfraCheckError(
      "INFRA_PARSE_ERROR",
      `cannot read the providers schema ${options.providersSchemaPath}`,
      { cause },
    );
  }
}

export function providerKey(schema: ProvidersSchema, source: string): string | undefined {
  const wanted = source.toLowerCase();
  return Object.keys(schema.provider_schemas).find((key) => {
    const k = key.toLowerCase();
    return k === wanted || k.endsWith(`/${wanted}`);
  });
}

export function providerLocalName(block: ScannedBlock): string {
  const explicit = attr(block.body, "provider")?.expression;
  if (explicit !== undefined) return explicit.split(".")[0] ?? explicit;
  const type = block.labels[0] ?? "";
  return type.split("_")[0] ?? type;
}

export function resourceSchema(
  schema: ProvidersSchema,
  declared: Declared,
  block: ScannedBlock,
): SchemaBlock | undefined {
  const type = block.labels[0] ?? "";
  const local = providerLocalName(block);
  const source = local === "terraform" ? "terraform.io/builtin/terraform" : declared.providers.get(local);
  if (source === undefined) return undefined;
  const key = providerKey(schema, source);
  if (key === undefined) return undefined;
  const p = schema.provider_schemas[key];
  const table =
    block.type === "resource"
      ? p?.resource_schemas
      : block.type === "data"
        ? p?.data_source_schemas
        : p?.ephemeral_resource_schemas;
  return table?.[type]?.block;
}
