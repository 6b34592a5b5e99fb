// Attribute checks: blocks and arguments against the provider schemas (unknown, read-only,
// deprecated, required, write-only pairs, enumerations), provider pins and variable declarations.

import type { Declared } from "./declarations.js";
import type { Report } from "./findings.js";
import type { ScannedBlock, ScannedBody } from "./hcl-scan.js";
import { attr, type FileUnit, literalString } from "./parse.js";
import {
  type ProvidersSchema,
  providerKey,
  providerLocalName,
  resourceSchema,
  type SchemaBlock,
} from "./schema.js";

const META_ARGUMENTS = new Set(["count", "for_each", "depends_on", "provider"]);
export const SECRET_NAME =
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

/** Checks every resource, data source, provider and variable block against the schema and the house rules. */
export function checkBlocks(
  units: FileUnit[],
  schema: ProvidersSchema,
  declared: Declared,
  add: Report,
): void {
  checkTerraformBlock(units, schema, declared, add);
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
}

function checkTerraformBlock(
  units: FileUnit[],
  schema: ProvidersSchema,
  declared: Declared,
  add: Report,
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

function checkResource(
  file: string,
  block: ScannedBlock,
  schema: ProvidersSchema,
  declared: Declared,
  add: Report,
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
  add: Report,
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
  add: Report,
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

function checkVariable(file: string, block: ScannedBlock, add: Report): void {
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
