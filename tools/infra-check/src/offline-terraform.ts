// Running terraform offline: the providers cannot be downloaded here, so each is replaced by a
// stand-in plugin (stub-provider/provider.mjs) that serves its schema from the providers schema
// snapshot, installed through a CLI configuration's dev_overrides. terraform then runs
// `validate` and `test` (with mock_provider blocks doing the planning) without the network.

import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InfraCheckError } from "./errors.js";
import { REQUIRED_NESTED } from "./required-nested.js";
import { type ProvidersSchema, providerKey, type SchemaAttribute, type SchemaBlock } from "./schema.js";

/** Nesting modes as the plugin protocol numbers them (Schema.Object / Schema.NestedBlock). */
const NESTING: Record<string, number> = { single: 1, list: 2, set: 3, map: 4, group: 5 };

interface PluginAttribute {
  name: string;
  type?: unknown;
  nested_type?: { attributes: PluginAttribute[]; nesting: number };
  description?: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  write_only?: boolean;
}

interface PluginBlock {
  attributes: PluginAttribute[];
  block_types: {
    type_name: string;
    block: PluginBlock;
    nesting: number;
    min_items?: number;
    max_items?: number;
  }[];
  deprecated?: boolean;
}

/** What stub-provider/provider.mjs serves: one provider's schemas in the protocol's shape. */
export interface PluginSchemaDocument {
  provider: { version: number; block: PluginBlock };
  resource_schemas: Record<string, { version: number; block: PluginBlock }>;
  data_source_schemas: Record<string, { version: number; block: PluginBlock }>;
  ephemeral_resource_schemas: Record<string, { version: number; block: PluginBlock }>;
}

/**
 * The nested-attribute form of a flattened object type (`["object", {...}]`, or a list, set or map
 * of one), as the provider declares it: inner attributes optional except those listed as required
 * in required-nested.ts. Undefined for other types.
 */
function nestedFromType(
  type: unknown,
  path: string,
  required: ReadonlySet<string>,
): PluginAttribute["nested_type"] | undefined {
  if (!Array.isArray(type)) return undefined;
  const [kind, inner] = type as [string, unknown];
  let nesting = NESTING.single as number;
  let object: unknown = type;
  if (kind === "list" || kind === "set" || kind === "map") {
    if (!Array.isArray(inner) || inner[0] !== "object") return undefined;
    nesting = NESTING[kind] as number;
    object = inner;
  } else if (kind !== "object") {
    return undefined;
  }
  const fields = (object as [string, Record<string, unknown>])[1];
  const attributes = Object.entries(fields).map(([name, fieldType]): PluginAttribute => {
    const childPath = `${path}.${name}`;
    const nested = nestedFromType(fieldType, childPath, required);
    const flag = required.has(childPath) ? { required: true } : { optional: true };
    return nested === undefined ? { name, type: fieldType, ...flag } : { name, nested_type: nested, ...flag };
  });
  return { attributes, nesting };
}

function pluginAttribute(name: string, def: SchemaAttribute, required: ReadonlySet<string>): PluginAttribute {
  const { nested_type: nestedType, type, ...flags } = def;
  const out: PluginAttribute = { name, ...(flags as Omit<PluginAttribute, "name">) };
  if (nestedType !== undefined) {
    out.nested_type = {
      attributes: Object.entries(nestedType.attributes ?? {}).map(([n, d]) =>
        pluginAttribute(n, d, required),
      ),
      nesting: NESTING[nestedType.nesting_mode ?? "single"] ?? 1,
    };
    return out;
  }
  // Only arguments need the nested form (their inner attributes are optional); computed-only
  // object attributes keep their plain object type so that mock values fill every key.
  const settable = def.required === true || def.optional === true;
  const nested = settable ? nestedFromType(type, name, required) : undefined;
  if (nested !== undefined) out.nested_type = nested;
  else out.type = type;
  return out;
}

function pluginBlock(block: SchemaBlock, required: ReadonlySet<string>): PluginBlock {
  return {
    attributes: Object.entries(block.attributes ?? {}).map(([name, def]) =>
      pluginAttribute(name, def, required),
    ),
    block_types: Object.entries(block.block_types ?? {}).map(([name, nested]) => ({
      type_name: name,
      block: pluginBlock(nested.block, required),
      nesting: NESTING[nested.nesting_mode ?? "single"] ?? 1,
      ...(nested.min_items === undefined ? {} : { min_items: nested.min_items }),
    })),
    ...(block.deprecated === true ? { deprecated: true } : {}),
  };
}

/**
 * One provider's schemas, from the providers schema snapshot, in the shape the stand-in plugin
 * serves. Nested attributes the snapshot flattened into object types get back their nested form.
 *
 * @throws InfraCheckError INFRA_PARSE_ERROR when the snapshot has no such provider.
 */
export function pluginSchemaDocument(schema: ProvidersSchema, source: string): PluginSchemaDocument {
  const key = providerKey(schema, source);
  const provider = key === undefined ? undefined : schema.provider_schemas[key];
  if (provider === undefined) {
    throw new InfraCheckError("INFRA_PARSE_ERROR", `the providers schema has no provider ${source}`);
  }
  const none = new Set<string>();
  const table = (entries: Record<string, { block: SchemaBlock }> | undefined) =>
    Object.fromEntries(
      Object.entries(entries ?? {}).map(([type, s]) => [
        type,
        { version: 0, block: pluginBlock(s.block, new Set(REQUIRED_NESTED[type] ?? [])) },
      ]),
    );
  return {
    provider: { version: 0, block: pluginBlock(provider.provider?.block ?? {}, none) },
    resource_schemas: table(provider.resource_schemas),
    data_source_schemas: table(provider.data_source_schemas),
    ephemeral_resource_schemas: table(provider.ephemeral_resource_schemas),
  };
}

/** What {@link prepareOfflineTerraform} returns. */
export interface OfflineTerraform {
  /** Environment variables to run terraform with (CLI config, plugin TLS off, no update check). */
  env: Record<string, string>;
  /** The CLI configuration file written. */
  cliConfigPath: string;
}

/**
 * Writes, under `workDir`, a stand-in plugin for each provider `source` (e.g. `siderolabs/talos`)
 * and a CLI configuration whose dev_overrides install them, so that terraform needs neither the
 * network nor `terraform init`. `nodePath` runs the plugin (process.execPath in tests).
 */
export async function prepareOfflineTerraform(options: {
  workDir: string;
  providersSchemaPath: string;
  sources: string[];
  nodePath: string;
}): Promise<OfflineTerraform> {
  const schema = JSON.parse(await readFile(options.providersSchemaPath, "utf8")) as ProvidersSchema;
  const bin = join(options.workDir, "plugins");
  await mkdir(bin, { recursive: true });
  const stub = join(import.meta.dirname, "..", "stub-provider", "provider.mjs");
  const overrides: string[] = [];
  for (const source of options.sources) {
    const name = source.split("/").pop() ?? source;
    const documentPath = join(options.workDir, `${name}.plugin-schema.json`);
    await writeFile(documentPath, JSON.stringify(pluginSchemaDocument(schema, source)));
    const wrapper = join(bin, `terraform-provider-${name}`);
    await writeFile(wrapper, `#!/bin/sh\nexec '${options.nodePath}' '${stub}' '${documentPath}'\n`);
    await chmod(wrapper, 0o755);
    overrides.push(`    "${source}" = "${bin}"`);
  }
  const cliConfigPath = join(options.workDir, "terraform.tfrc");
  await writeFile(
    cliConfigPath,
    `provider_installation {\n  dev_overrides {\n${overrides.join("\n")}\n  }\n  direct {}\n}\n`,
  );
  return {
    cliConfigPath,
    env: {
      TF_CLI_CONFIG_FILE: cliConfigPath,
      TF_DISABLE_PLUGIN_TLS: "1",
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
    },
  };
}
