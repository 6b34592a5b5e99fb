import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type InfraFinding, validateInfrastructure } from "../src/index.js";

const providersSchemaPath = join(
  process.env.HOMELAB_SHARED_DIR ?? join(import.meta.dirname, "..", "..", "..", "..", "shared"),
  "tofu",
  "providers.schema.json",
);

const PROVIDERS = `terraform {
  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.22.0"
    }
  }
}
`;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infra-check-gaps-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function validate(mainTf: string): Promise<InfraFinding[]> {
  const dir = await mkdtemp(join(scratch, "module-"));
  await writeFile(join(dir, "providers.tf"), PROVIDERS);
  await writeFile(join(dir, "main.tf"), mainTf);
  return validateInfrastructure({ dir, providersSchemaPath });
}

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
});
