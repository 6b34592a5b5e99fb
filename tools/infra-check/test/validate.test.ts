import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  InfraCheckError,
  type InfraFinding,
  type ProvidersSchema,
  validateInfrastructure,
} from "../src/index.js";

/** `<repo root>/../shared/tofu/providers.schema.json`, overridable by HOMELAB_SHARED_DIR. */
const providersSchemaPath = join(
  process.env.HOMELAB_SHARED_DIR ?? join(import.meta.dirname, "..", "..", "..", "..", "shared"),
  "tofu",
  "providers.schema.json",
);

const PROVIDERS = `terraform {
  required_version = ">= 1.11.0"
  required_providers {
    talos = {
      source  = "siderolabs/talos"
      version = "~> 0.11.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.22.0"
    }
  }
}

resource "talos_machine_secrets" "this" {}
`;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "homelab-tofu-validate-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function validate(mainTf: string, tfvars?: { name: string; text: string }[]): Promise<InfraFinding[]> {
  const dir = await mkdtemp(join(scratch, "module-"));
  await writeFile(join(dir, "providers.tf"), PROVIDERS);
  await writeFile(join(dir, "main.tf"), mainTf);
  return validateInfrastructure({ dir, providersSchemaPath, ...(tfvars === undefined ? {} : { tfvars }) });
}

const brief = (f: InfraFinding[]) => f.map(({ code, file, line }) => ({ code, file, line }));

describe("validateInfrastructure", () => {
  it("reports an unknown attribute with its file and line", async ({ expect }) => {
    const findings = await validate(`resource "talos_machine_bootstrap" "this" {
  node                 = "10.0.0.1"
  client_configuration = talos_machine_secrets.this.client_configuration
  nodes                = ["10.0.0.1"]
}
`);
    expect(brief(findings)).toEqual([{ code: "UNKNOWN_ATTRIBUTE", file: "main.tf", line: 4 }]);
    expect(findings[0]?.message).toContain("unsupported argument nodes");
  });

  it("reports a missing required argument", async ({ expect }) => {
    const findings = await validate(`resource "talos_cluster_kubeconfig" "this" {
  client_configuration = talos_machine_secrets.this.client_configuration
}
`);
    expect(brief(findings)).toEqual([{ code: "MISSING_REQUIRED", file: "main.tf", line: 1 }]);
    expect(findings[0]?.message).toContain("node is required");
  });

  it("reports dangling var, local, data and resource references", async ({ expect }) => {
    const findings = await validate(`locals {
  name = var.cluster_name
}

resource "talos_machine_bootstrap" "this" {
  node                 = local.first_node
  endpoint             = data.talos_client_configuration.this.id
  client_configuration = talos_machine_secrets.other.client_configuration
}
`);
    expect(findings.map((f) => [f.code, f.line, f.message.split(": ").pop()])).toEqual([
      ["UNRESOLVED_REFERENCE", 2, "var.cluster_name is not declared"],
      ["UNRESOLVED_REFERENCE", 6, "local.first_node is not declared"],
      ["UNRESOLVED_REFERENCE", 7, "data.talos_client_configuration.this is not declared"],
      ["UNRESOLVED_REFERENCE", 8, "talos_machine_secrets.other is not declared"],
    ]);
  });

  it("reports a resource attribute the schema does not have and an indexed sensitive output", async ({
    expect,
  }) => {
    const findings = await validate(`data "talos_client_configuration" "this" {
  count                = 1
  cluster_name         = "homelab"
  client_configuration = talos_machine_secrets.this.client_configuratio
}

output "talosconfig" {
  description = "Not marked sensitive."
  value       = data.talos_client_configuration.this[0].talos_config
}
`);
    expect(findings.map((f) => [f.code, f.line, f.message.split(": ").pop()])).toEqual([
      ["UNRESOLVED_REFERENCE", 4, "talos_machine_secrets.this has no attribute client_configuratio"],
      [
        "OUTPUT_NOT_SENSITIVE",
        7,
        "output talosconfig derives from the sensitive value data.talos_client_configuration.this.0.talos_config but is not marked sensitive = true",
      ],
    ]);
  });

  it("reports an attribute path that the variable's type does not have", async ({ expect }) => {
    const findings = await validate(`variable "cluster" {
  description = "Cluster."
  type        = object({ name = string, nodes = list(object({ address = string })) })
}

resource "talos_machine_bootstrap" "this" {
  node                 = var.cluster.nodes[0].adress
  client_configuration = talos_machine_secrets.this.client_configuration
}
`);
    expect(brief(findings)).toEqual([{ code: "UNRESOLVED_REFERENCE", file: "main.tf", line: 7 }]);
    expect(findings[0]?.message).toContain("has no attribute adress");
  });

  it("reports a nested attribute written as a block", async ({ expect }) => {
    const findings = await validate(`resource "talos_machine_bootstrap" "this" {
  node                 = "10.0.0.1"
  client_configuration = talos_machine_secrets.this.client_configuration
  timeouts {
    create = "10m"
  }
}
`);
    expect(brief(findings)).toEqual([{ code: "ATTRIBUTE_AS_BLOCK", file: "main.tf", line: 4 }]);
  });

  it("reports an unknown key inside an object built by a for expression in a local", async ({ expect }) => {
    const findings = await validate(`locals {
  rules = concat([for h in ["a.example.com"] : { hostname = h, servce = "http://a:80" }], [{ service = "http_status:404" }])
}

resource "cloudflare_zero_trust_tunnel_cloudflared_config" "this" {
  account_id = "0123456789abcdef0123456789abcdef"
  tunnel_id  = "t"
  config = {
    ingress = local.rules
  }
}
`);
    // The misspelt key is unknown, and the rule then lacks the required service (both reported).
    expect(brief(findings)).toEqual([
      { code: "INVALID_VALUE", file: "main.tf", line: 8 },
      { code: "INVALID_VALUE", file: "main.tf", line: 8 },
    ]);
    expect(findings.map((f) => f.message).join("\n")).toContain("unsupported attribute servce");
    expect(findings.map((f) => f.message).join("\n")).toContain("service is required");
  });

  it("reports a resource that sets neither half of a write-only pair", async ({ expect }) => {
    const findings = await validate(`resource "talos_machine_bootstrap" "this" {
  node = "10.0.0.1"
}
`);
    expect(brief(findings)).toEqual([{ code: "WRITE_ONLY_PAIR", file: "main.tf", line: 1 }]);
  });

  it("reports each.key used in a block without for_each and a bad enumeration value", async ({ expect }) => {
    const findings = await validate(`data "talos_machine_configuration" "this" {
  cluster_name     = each.key
  cluster_endpoint = "https://10.0.0.1:6443"
  machine_type     = "master"
  machine_secrets  = talos_machine_secrets.this.machine_secrets
}
`);
    expect(brief(findings)).toEqual([
      { code: "INVALID_CONTEXT", file: "main.tf", line: 2 },
      { code: "INVALID_VALUE", file: "main.tf", line: 4 },
    ]);
  });

  it("reports unknown resource types, telling snapshot gaps from types that do not exist", async ({
    expect,
  }) => {
    const findings = await validate(`resource "talos_machine" "this" {}

resource "cloudflare_r2_bucket" "this" {}
`);
    expect(brief(findings)).toEqual([
      { code: "UNKNOWN_RESOURCE_TYPE", file: "main.tf", line: 1 },
      { code: "NOT_IN_SNAPSHOT", file: "main.tf", line: 3 },
    ]);
  });

  it("reports variables without type or description and secrets not marked sensitive", async ({ expect }) => {
    const findings = await validate(`variable "untyped" {
  description = "No type."
}

variable "undocumented" {
  type = string
}

variable "api_token" {
  description = "A token."
  type        = string
}
`);
    expect(findings.map((f) => [f.code, f.line])).toEqual([
      ["VARIABLE_MISSING_TYPE", 1],
      ["VARIABLE_MISSING_DESCRIPTION", 5],
      ["SECRET_NOT_SENSITIVE", 9],
    ]);
  });

  it("reports an output derived from a sensitive attribute through a local that is not marked sensitive", async ({
    expect,
  }) => {
    const findings = await validate(`data "talos_client_configuration" "this" {
  cluster_name         = "homelab"
  client_configuration = talos_machine_secrets.this.client_configuration
}

locals {
  talosconfig = data.talos_client_configuration.this.talos_config
}

output "talosconfig" {
  description = "Oops."
  value       = local.talosconfig
}
`);
    expect(brief(findings)).toEqual([{ code: "OUTPUT_NOT_SENSITIVE", file: "main.tf", line: 10 }]);
  });

  it("reports a syntax error with its line", async ({ expect }) => {
    const findings = await validate(`resource "talos_machine_secrets" "other" {
  talos_version =
}
`);
    expect(brief(findings)).toEqual([{ code: "PARSE_ERROR", file: "main.tf", line: 2 }]);
  });

  it("type-checks tfvars: unknown keys, wrong types, missing required variables and secrets", async ({
    expect,
  }) => {
    const findings = await validate(
      `variable "nodes" {
  description = "Nodes."
  type        = list(object({ name = string, port = optional(number, 50000) }))
}

variable "auth_key" {
  description = "Secret."
  type        = string
  default     = null
  sensitive   = true
}
`,
      [
        {
          name: "a.auto.tfvars.json",
          text: JSON.stringify({ nodes: [{ name: "n1", port: "x", extra: 1 }], auth_key: "k" }),
        },
        { name: "b.auto.tfvars.json", text: JSON.stringify({ nodez: [] }) },
      ],
    );
    expect(findings.map((f) => [f.code, f.file, f.message])).toEqual([
      [
        "TFVARS_TYPE",
        "a.auto.tfvars.json",
        "a.auto.tfvars.json: nodes[0].extra: not an attribute of the declared object type",
      ],
      ["TFVARS_TYPE", "a.auto.tfvars.json", "a.auto.tfvars.json: nodes[0].port: expected number, got string"],
      [
        "TFVARS_SECRET",
        "a.auto.tfvars.json",
        "a.auto.tfvars.json: auth_key is sensitive; pass it as TF_VAR_auth_key instead of writing it to a file",
      ],
      [
        "TFVARS_UNKNOWN_VARIABLE",
        "b.auto.tfvars.json",
        "b.auto.tfvars.json: nodez is not a declared variable",
      ],
      [
        "TFVARS_MISSING_VARIABLE",
        "b.auto.tfvars.json",
        "b.auto.tfvars.json: the required variable nodes is not set",
      ],
    ]);
  });

  it("reports a missing required nested attribute when the schema has real nested_type flags", async ({
    expect,
  }) => {
    const dir = await mkdtemp(join(scratch, "nested-"));
    await writeFile(
      join(dir, "main.tf"),
      `terraform {
  required_version = ">= 1.11.0"
  required_providers {
    demo = {
      source  = "example/demo"
      version = "~> 1.2.0"
    }
  }
}

resource "demo_thing" "this" {
  settings = [{ optional_key = "x" }]
}
`,
    );
    const providersSchema: ProvidersSchema = {
      provider_schemas: {
        "registry.opentofu.org/example/demo": {
          resource_schemas: {
            demo_thing: {
              block: {
                attributes: {
                  settings: {
                    nested_type: {
                      nesting_mode: "list",
                      attributes: {
                        required_key: { type: "string", required: true },
                        optional_key: { type: "string", optional: true },
                      },
                    },
                    optional: true,
                  },
                },
              },
            },
          },
        },
      },
    };
    const findings = await validateInfrastructure({ dir, providersSchema });
    expect(findings.map((f) => [f.code, f.line, f.message])).toEqual([
      ["INVALID_VALUE", 12, "demo_thing.this: settings[0]: the attribute required_key is required"],
    ]);
  });

  it("throws INFRA_PARSE_ERROR when the providers schema cannot be read", async ({ expect }) => {
    const error = await validateInfrastructure({
      dir: scratch,
      providersSchemaPath: join(scratch, "none.json"),
    }).catch((e: unknown) => e);
    expect(error instanceof InfraCheckError && error.code).toBe("INFRA_PARSE_ERROR");
  });
});

describe("what the check used to miss", () => {
  it("reports a required nested attribute missing from an object built through a local", async ({
    expect,
  }) => {
    const findings = await validate(`locals {
  rules = [{ hostname = "a.example.com" }]
}

resource "cloudflare_zero_trust_tunnel_cloudflared_config" "this" {
  account_id = "0123456789abcdef0123456789abcdef"
  tunnel_id  = "t"
  config = {
    ingress = local.rules
  }
}
`);
    expect(findings.map((f) => f.message).join("\n")).toMatch(/service is required/);
  });

  it("reports an object variable assigned to a string attribute through a reference", async ({ expect }) => {
    const findings = await validate(`variable "tunnel" {
  description = "the tunnel"
  type = object({
    name    = string
    account = object({ id = string })
  })
}

resource "cloudflare_zero_trust_tunnel_cloudflared" "this" {
  account_id = var.tunnel.account
  name       = var.tunnel.name
}
`);
    const problems = findings.filter((f) => f.code === "INVALID_VALUE").map((f) => f.message);
    expect(problems.join("\n")).toMatch(/account_id.*object/);
    expect(problems.join("\n")).not.toMatch(/\bname\b/);
  });
  it("reads a variable's type with the HCL parser: quoted attribute names are valid types", async ({
    expect,
  }) => {
    const findings = await validate(`variable "labels" {
  description = "Labels."
  type        = object({ "app-name" = string, tier = optional(string, "web") })
}

resource "terraform_data" "labels" {
  input = var.labels["app-name"]
}
`);
    expect(brief(findings)).toEqual([]);
  });

  it("reports an optional() with more than a type and a default, which the hand-written scanner skipped", async ({
    expect,
  }) => {
    // Terraform's type reader: the optional modifier takes a type and at most one default.
    const findings = await validate(`variable "pair" {
  description = "Pair."
  type        = object({ a = string, b = optional(number, 1, 2) })
}
`);
    expect(brief(findings)).toEqual([{ code: "VARIABLE_BAD_TYPE", file: "main.tf", line: 3 }]);
  });

  it("reports objects assigned to strings through locals, indexes, each.value and resource attributes", async ({
    expect,
  }) => {
    const findings = await validate(`variable "tunnels" {
  description = "Tunnels by key."
  type = map(object({
    name    = string
    account = object({ id = string })
  }))
}

variable "list" {
  description = "A list of tunnels."
  type        = list(object({ name = string, account = object({ id = string }) }))
}

locals {
  first = var.list[0]
  built = { account = { id = "0123456789abcdef0123456789abcdef" }, name = "t" }
}

resource "cloudflare_zero_trust_tunnel_cloudflared" "each" {
  for_each   = var.tunnels
  account_id = each.value.account
  name       = each.value.name
}

resource "cloudflare_zero_trust_tunnel_cloudflared" "local" {
  account_id = local.first.account
  name       = local.built.account
}

resource "cloudflare_zero_trust_tunnel_cloudflared" "index" {
  account_id = var.list[0].account
  name       = var.list[0].name
}

resource "cloudflare_zero_trust_tunnel_cloudflared" "resource" {
  account_id = talos_machine_secrets.this.client_configuration
  name       = talos_machine_secrets.this.client_configuration.ca_certificate
}
`);
    const problems = findings.filter((f) => f.code === "INVALID_VALUE").map((f) => [f.line, f.message]);
    expect(problems.map(([line]) => line)).toEqual([21, 26, 27, 31, 36]);
    expect(problems.map(([, m]) => String(m).split(": ").slice(1).join(": "))).toEqual([
      "account_id: each.value.account is object where string is expected",
      "account_id: local.first.account is object where string is expected",
      "name: local.built.account is object where string is expected",
      "account_id: var.list[0].account is object where string is expected",
      "account_id: talos_machine_secrets.this.client_configuration is object where string is expected",
    ]);
  });
  it("reports a feature newer than the lowest version required_version allows", async ({ expect }) => {
    const dir = await mkdtemp(join(scratch, "module-"));
    await writeFile(join(dir, "providers.tf"), PROVIDERS.replace('">= 1.11.0"', '">= 1.6.0"'));
    await writeFile(
      join(dir, "main.tf"),
      `locals {
  greeting = templatestring("hello \${name}", { name = "x" })
}

removed {
  from = terraform_data.old
  lifecycle {
    destroy = false
  }
}
`,
    );
    const findings = await validateInfrastructure({ dir, providersSchemaPath });
    expect(
      findings.filter((f) => f.code === "REQUIRED_VERSION_TOO_LOW").map((f) => [f.file, f.line, f.message]),
    ).toEqual([
      [
        "main.tf",
        2,
        "required_version allows 1.6.0, but templatestring() needs Terraform >= 1.9 and OpenTofu >= 1.7",
      ],
      [
        "main.tf",
        5,
        "required_version allows 1.6.0, but removed blocks need Terraform >= 1.7 and OpenTofu >= 1.7",
      ],
    ]);
  });
});
