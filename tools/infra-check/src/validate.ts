import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InfraCheckError } from "./errors.js";
import { type ScannedAttribute, type ScannedBlock, type ScannedBody, scanHcl } from "./hcl-scan.js";
import {
  type Ast,
  checkJsonValue,
  describeType,
  fromSchemaAttribute,
  objectItems,
  type TypeExpr,
  typeFromAst,
} from "./hcl-types.js";
import { REQUIRED_NESTED } from "./required-nested.js";

/** Codes of {@link InfraFinding}. */
export type InfraFindingCode =
  | "PARSE_ERROR"
  | "DUPLICATE_DECLARATION"
  | "UNKNOWN_PROVIDER"
  | "PROVIDER_NOT_PINNED"
  | "MISSING_REQUIRED_VERSION"
  | "UNKNOWN_RESOURCE_TYPE"
  | "NOT_IN_SNAPSHOT"
  | "UNKNOWN_ATTRIBUTE"
  | "UNKNOWN_BLOCK"
  | "ATTRIBUTE_AS_BLOCK"
  | "READ_ONLY_ATTRIBUTE"
  | "MISSING_REQUIRED"
  | "WRITE_ONLY_PAIR"
  | "DEPRECATED"
  | "INVALID_VALUE"
  | "UNRESOLVED_REFERENCE"
  | "INVALID_CONTEXT"
  | "VARIABLE_MISSING_TYPE"
  | "VARIABLE_MISSING_DESCRIPTION"
  | "VARIABLE_BAD_TYPE"
  | "SECRET_NOT_SENSITIVE"
  | "OUTPUT_NOT_SENSITIVE"
  | "TFVARS_PARSE_ERROR"
  | "TFVARS_UNKNOWN_VARIABLE"
  | "TFVARS_MISSING_VARIABLE"
  | "TFVARS_TYPE"
  | "TFVARS_SECRET";

/** One problem found by {@link validateInfrastructure}. */
export interface InfraFinding {
  code: InfraFindingCode;
  severity: "error" | "warning";
  /** File name relative to `dir` (or the tfvars name given). */
  file: string;
  line?: number;
  /** What the finding is about, e.g. `talos_machine_bootstrap.this` or `var.cluster`. */
  address?: string;
  message: string;
}

/** The subset of `tofu providers schema -json` the validator reads. */
export interface ProvidersSchema {
  provider_schemas: Record<string, ProviderSchema>;
  [key: string]: unknown;
}

interface SchemaAttribute {
  type?: unknown;
  nested_type?: { nesting_mode?: string; attributes?: Record<string, SchemaAttribute> };
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  write_only?: boolean;
}

interface SchemaBlock {
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

const META_ARGUMENTS = new Set(["count", "for_each", "depends_on", "provider"]);
const SECRET_NAME =
  /(^|_)(token|secret|password|passwd|auth_key|authkey|api_key|private_key|credentials?)($|_)/;

/** Enumerations the schema JSON cannot express; literals outside them are errors (from the providers' Go validators). */
const ENUMS: Record<string, Record<string, string[]>> = {
  talos_machine_configuration_apply: {
    apply_mode: ["auto", "reboot", "no_reboot", "staged", "staged_if_needing_reboot"],
  },
  talos_machine_configuration: { machine_type: ["controlplane", "worker"] },
  cloudflare_zero_trust_tunnel_cloudflared: { config_src: ["local", "cloudflare"] },
  cloudflare_zero_trust_access_policy: { decision: ["allow", "deny", "non_identity", "bypass"] },
  cloudflare_dns_record: {
    type: "A AAAA CAA CERT CNAME DNSKEY DS HTTPS LOC MX NAPTR NS OPENPGPKEY PTR SMIMEA SRV SSHFP SVCB TLSA TXT URI".split(
      " ",
    ),
  },
};

interface Hcl2Json {
  parse(filename: string, contents: string): Promise<Record<string, unknown>>;
  getReferencesInExpression(filename: string, expression: string): Promise<{ value: string }[]>;
  getExpressionAst(filename: string, expression: string): Promise<Ast | null>;
}

let hclModule: Promise<Hcl2Json> | undefined;
function loadHcl(): Promise<Hcl2Json> {
  // Loaded on first use: the wasm build is large.
  hclModule ??= import("@cdktn/hcl2json") as unknown as Promise<Hcl2Json>;
  return hclModule;
}

interface FileUnit {
  file: string;
  body: ScannedBody;
}

interface Declared {
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

function literalString(expression: string): string | undefined {
  const m = /^"((?:[^"\\$%]|\\.)*)"$/.exec(expression.trim());
  return m === null ? undefined : (m[1] ?? "");
}

function attr(body: ScannedBody, name: string): ScannedAttribute | undefined {
  return body.attributes.find((a) => a.name === name);
}

function parseErrorLine(message: string): number | undefined {
  const m = /:(\d+),\d+/.exec(message);
  return m === null ? undefined : Number(m[1]);
}

async function loadSchema(options: ValidateInfrastructureOptions): Promise<ProvidersSchema> {
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

function providerKey(schema: ProvidersSchema, source: string): string | undefined {
  const wanted = source.toLowerCase();
  return Object.keys(schema.provider_schemas).find((key) => {
    const k = key.toLowerCase();
    return k === wanted || k.endsWith(`/${wanted}`);
  });
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

  let names: string[];
  try {
    names = (await readdir(options.dir)).sort();
  } catch (cause) {
    throw new InfraCheckError("INFRA_PARSE_ERROR", `cannot read ${options.dir}`, { cause });
  }
  const units: FileUnit[] = [];
  const broken: FileUnit[] = [];
  for (const file of names.filter((n) => n.endsWith(".tf"))) {
    const text = await readFile(join(options.dir, file), "utf8");
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

  const declared = collectDeclarations([...units, ...broken], () => {});
  collectDeclarations(units, add);
  await readVariableTypes(hcl, declared, new Set(broken.map((b) => b.file)), add);
  checkTerraformBlock(units, schema, declared, add);
  for (const [address, r] of declared.resources) {
    const s = resourceSchema(schema, declared, r.block);
    if (s === undefined) continue;
    const attributes = Object.entries(s.attributes ?? {});
    declared.schemaAttrs.set(address, {
      names: new Set([...attributes.map(([name]) => name), ...Object.keys(s.block_types ?? {})]),
      hasSensitive: attributes.some(([, def]) => def.sensitive === true),
    });
  }
  const sensitiveRefs = sensitiveReferenceSet(declared, schema);

  for (const unit of units) {
    for (const block of unit.body.blocks) {
      switch (block.type) {
        case "resource":
        case "data":
        case "ephemeral":
          checkResource(unit.file, block, schema, declared, add);
          break;
        case "provider":
          checkProvider(unit.file, block, schema, declared, add);
          break;
        case "variable":
          checkVariable(unit.file, block, add);
          break;
        default:
          break;
      }
    }
  }

  // References, everywhere.
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

  // Typed values of resource attributes (object keys in literal, for, conditional and function
  // expressions, followed through locals).
  const localAsts = new Map<string, Ast>();
  for (const [name, l] of declared.locals) {
    try {
      const ast = await hcl.getExpressionAst(l.file, `${l.attr.expression}\n`);
      if (ast !== null) localAsts.set(name, ast);
    } catch {
      // unparseable expressions were reported by the parse step
    }
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

  // tfvars.
  const tfvarsDocs = [...(options.tfvars ?? [])];
  for (const name of names) {
    if (/\.auto\.tfvars(\.json)?$/.test(name) || /^terraform\.tfvars(\.json|\.example)?$/.test(name)) {
      tfvarsDocs.push({ name, text: await readFile(join(options.dir, name), "utf8") });
    }
  }
  for (const doc of tfvarsDocs) await checkTfvarsDocument(hcl, doc, declared, add);

  return findings.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
}

function collectDeclarations(units: FileUnit[], add: (f: InfraFinding) => void): Declared {
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
async function readVariableTypes(
  hcl: Hcl2Json,
  declared: Declared,
  brokenFiles: Set<string>,
  add: (f: InfraFinding) => void,
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

function checkTerraformBlock(
  units: FileUnit[],
  schema: ProvidersSchema,
  declared: Declared,
  add: (f: InfraFinding) => void,
): void {
  let hasRequiredVersion = false;
  for (const { file, body } of units) {
    for (const block of body.blocks.filter((b) => b.type === "terraform")) {
      if (attr(block.body, "required_version") !== undefined) hasRequiredVersion = true;
      for (const rp of block.body.blocks.filter((x) => x.type === "required_providers")) {
        for (const p of rp.body.attributes) {
          const source = declared.providers.get(p.name) ?? "";
          if (providerKey(schema, source) === undefined) {
            add({
              code: "UNKNOWN_PROVIDER",
              severity: "error",
              file,
              line: p.line,
              message: `provider ${p.name} (${source}) is not in the providers schema`,
            });
          }
          const version = /version\s*=\s*"([^"]+)"/.exec(p.expression)?.[1];
          if (version === undefined || !/^~>\s*\d+\.\d+/.test(version)) {
            add({
              code: "PROVIDER_NOT_PINNED",
              severity: "warning",
              file,
              line: p.line,
              message: `provider ${p.name} should be pinned to a minor line with "~> X.Y.Z" (got ${version ?? "no version"})`,
            });
          }
        }
      }
    }
  }
  if (!hasRequiredVersion && units.length > 0) {
    add({
      code: "MISSING_REQUIRED_VERSION",
      severity: "warning",
      file: units[0]!.file,
      message: "no terraform { required_version = ... } constraint",
    });
  }
}

function providerLocalName(block: ScannedBlock): string {
  const explicit = attr(block.body, "provider")?.expression;
  if (explicit !== undefined) return explicit.split(".")[0] ?? explicit;
  const type = block.labels[0] ?? "";
  return type.split("_")[0] ?? type;
}

function resourceSchema(
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

function checkResource(
  file: string,
  block: ScannedBlock,
  schema: ProvidersSchema,
  declared: Declared,
  add: (f: InfraFinding) => void,
): void {
  const type = block.labels[0] ?? "";
  const address = `${block.type === "resource" ? "" : `${block.type}.`}${type}.${block.labels[1] ?? ""}`;
  const local = providerLocalName(block);
  const source = local === "terraform" ? "terraform.io/builtin/terraform" : declared.providers.get(local);
  if (source === undefined) {
    add({
      code: "UNKNOWN_PROVIDER",
      severity: "error",
      file,
      line: block.line,
      address,
      message: `${address}: provider "${local}" is not in required_providers`,
    });
    return;
  }
  const s = resourceSchema(schema, declared, block);
  if (s === undefined) {
    const key = providerKey(schema, source);
    const notes = (schema as { _notes?: { providers?: Record<string, { coverage?: unknown }> } })._notes;
    const coverage = key === undefined ? undefined : notes?.providers?.[key]?.coverage;
    const partial = typeof coverage === "string" && /subset/i.test(coverage);
    add({
      code: partial ? "NOT_IN_SNAPSHOT" : "UNKNOWN_RESOURCE_TYPE",
      severity: "error",
      file,
      line: block.line,
      address,
      message: partial
        ? `${address}: ${block.type} type ${type} is not in the providers schema snapshot (which covers a subset of ${source})`
        : `${address}: ${source} has no ${block.type === "resource" ? "resource" : `${block.type} source`} type ${type}`,
    });
    return;
  }
  checkBody(file, address, type, block.body, s, add, true, block.line);
}

function checkProvider(
  file: string,
  block: ScannedBlock,
  schema: ProvidersSchema,
  declared: Declared,
  add: (f: InfraFinding) => void,
): void {
  const name = block.labels[0] ?? "";
  const source = declared.providers.get(name);
  const key = source === undefined ? undefined : providerKey(schema, source);
  const s = key === undefined ? undefined : schema.provider_schemas[key]?.provider?.block;
  if (s === undefined) {
    add({
      code: "UNKNOWN_PROVIDER",
      severity: "error",
      file,
      line: block.line,
      address: `provider.${name}`,
      message: `provider "${name}" is configured but not in required_providers or the schema`,
    });
    return;
  }
  const body: ScannedBody = {
    attributes: block.body.attributes.filter((a) => a.name !== "alias"),
    blocks: block.body.blocks,
  };
  checkBody(file, `provider.${name}`, `provider.${name}`, body, s, add, false, block.line);
}

function checkBody(
  file: string,
  address: string,
  type: string,
  body: ScannedBody,
  s: SchemaBlock,
  add: (f: InfraFinding) => void,
  topLevel: boolean,
  line: number,
): void {
  const attributes = s.attributes ?? {};
  const blockTypes = s.block_types ?? {};
  const set = new Set(body.attributes.map((a) => a.name));
  for (const a of body.attributes) {
    if (topLevel && META_ARGUMENTS.has(a.name)) continue;
    const def = attributes[a.name];
    if (def === undefined) {
      const hint = a.name in blockTypes ? ` (${a.name} is a block: write ${a.name} { ... })` : "";
      add({
        code: "UNKNOWN_ATTRIBUTE",
        severity: "error",
        file,
        line: a.line,
        address,
        message: `${address}: unsupported argument ${a.name}${hint}`,
      });
      continue;
    }
    if (def.computed === true && def.optional !== true && def.required !== true) {
      add({
        code: "READ_ONLY_ATTRIBUTE",
        severity: "error",
        file,
        line: a.line,
        address,
        message: `${address}: ${a.name} is read-only (computed by the provider)`,
      });
    }
    if (def.deprecated === true) {
      add({
        code: "DEPRECATED",
        severity: "warning",
        file,
        line: a.line,
        address,
        message: `${address}: ${a.name} is deprecated`,
      });
    }
    const allowed = ENUMS[type]?.[a.name];
    const literal = literalString(a.expression);
    if (allowed !== undefined && literal !== undefined && !allowed.includes(literal)) {
      add({
        code: "INVALID_VALUE",
        severity: "error",
        file,
        line: a.line,
        address,
        message: `${address}: ${a.name} = "${literal}" is not one of ${allowed.join(", ")}`,
      });
    }
  }
  for (const [name, def] of Object.entries(attributes)) {
    if (def.required === true && !set.has(name)) {
      add({
        code: "MISSING_REQUIRED",
        severity: "error",
        file,
        line,
        address,
        message: `${address}: the argument ${name} is required`,
      });
    }
    const wo = attributes[`${name}_wo`];
    if (wo?.write_only === true && def.required !== true) {
      const count = Number(set.has(name)) + Number(set.has(`${name}_wo`));
      if (count !== 1) {
        add({
          code: "WRITE_ONLY_PAIR",
          severity: "error",
          file,
          line,
          address,
          message: `${address}: set exactly one of ${name} and ${name}_wo (the provider requires one at plan time)`,
        });
      }
    }
  }
  if (type === "cloudflare_dns_record" && attr(body, "proxied")?.expression === "true") {
    const ttl = attr(body, "ttl")?.expression;
    if (ttl !== undefined && /^\d+$/.test(ttl) && ttl !== "1") {
      add({
        code: "INVALID_VALUE",
        severity: "error",
        file,
        line,
        address,
        message: `${address}: proxied records need ttl = 1 (automatic)`,
      });
    }
  }
  for (const b of body.blocks) {
    if (topLevel && (b.type === "lifecycle" || b.type === "provisioner" || b.type === "connection")) continue;
    if (b.type === "dynamic") {
      const name = b.labels[0] ?? "";
      const nested = blockTypes[name];
      if (nested === undefined) {
        add({
          code: "UNKNOWN_BLOCK",
          severity: "error",
          file,
          line: b.line,
          address,
          message: `${address}: no block type ${name} for dynamic`,
        });
        continue;
      }
      for (const content of b.body.blocks.filter((x) => x.type === "content")) {
        checkBody(file, address, type, content.body, nested.block, add, false, content.line);
      }
      continue;
    }
    const nested = blockTypes[b.type];
    if (nested === undefined) {
      const isAttr = b.type in attributes;
      add({
        code: isAttr ? "ATTRIBUTE_AS_BLOCK" : "UNKNOWN_BLOCK",
        severity: "error",
        file,
        line: b.line,
        address,
        message: isAttr
          ? `${address}: ${b.type} is an attribute, not a block: write ${b.type} = { ... }`
          : `${address}: unsupported block type ${b.type}`,
      });
      continue;
    }
    checkBody(file, address, type, b.body, nested.block, add, false, b.line);
  }
  for (const [name, nested] of Object.entries(blockTypes)) {
    if (
      (nested.min_items ?? 0) > 0 &&
      !body.blocks.some((b) => b.type === name || (b.type === "dynamic" && b.labels[0] === name))
    ) {
      add({
        code: "MISSING_REQUIRED",
        severity: "error",
        file,
        line,
        address,
        message: `${address}: at least one ${name} block is required`,
      });
    }
  }
}

function checkVariable(file: string, block: ScannedBlock, add: (f: InfraFinding) => void): void {
  const name = block.labels[0] ?? "";
  const address = `var.${name}`;
  if (attr(block.body, "type") === undefined) {
    add({
      code: "VARIABLE_MISSING_TYPE",
      severity: "error",
      file,
      line: block.line,
      address,
      message: `variable ${name} has no type`,
    });
  }
  const description = attr(block.body, "description");
  if (description === undefined || literalString(description.expression) === "") {
    add({
      code: "VARIABLE_MISSING_DESCRIPTION",
      severity: "error",
      file,
      line: block.line,
      address,
      message: `variable ${name} has no description`,
    });
  }
  if (SECRET_NAME.test(name) && attr(block.body, "sensitive")?.expression !== "true") {
    add({
      code: "SECRET_NOT_SENSITIVE",
      severity: "error",
      file,
      line: block.line,
      address,
      message: `variable ${name} looks like a secret but is not sensitive = true`,
    });
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

async function referencesOf(hcl: Hcl2Json, file: string, expression: string): Promise<string[]> {
  if (!/[A-Za-z_]/.test(expression)) return [];
  try {
    const refs = await hcl.getReferencesInExpression(file, `\${${expression}\n}`);
    return refs.map((r) => r.value);
  } catch {
    return [];
  }
}

async function checkReferencesInBody(
  hcl: Hcl2Json,
  file: string,
  top: ScannedBlock,
  body: ScannedBody,
  scope: Scope,
  declared: Declared,
  add: (f: InfraFinding) => void,
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

/** What a value check can follow: locals' expressions and variables' declared types. */
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

/** `type` with the nested attributes listed in `required` (below `prefix`) marked required. */
function withRequired(type: TypeExpr, required: Set<string>, prefix: string): TypeExpr {
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
function typeAt(type: TypeExpr, segments: string[]): TypeExpr | undefined {
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

function isCollection(type: TypeExpr): boolean {
  return COLLECTION_KINDS.has(type.kind);
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

async function expressionAst(hcl: Hcl2Json, file: string, expression: string): Promise<Ast | null> {
  try {
    return await hcl.getExpressionAst(file, `${expression}\n`);
  } catch {
    return null; // unparseable expressions were reported by the parse step
  }
}

async function checkValues(
  hcl: Hcl2Json,
  file: string,
  block: ScannedBlock,
  body: ScannedBody,
  s: SchemaBlock,
  add: (f: InfraFinding) => void,
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
    let ast: Ast | null = null;
    try {
      ast = await hcl.getExpressionAst(file, `${a.expression}\n`);
    } catch {
      continue;
    }
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

async function checkTfvarsDocument(
  hcl: Hcl2Json,
  doc: { name: string; text: string },
  declared: Declared,
  add: (f: InfraFinding) => void,
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
