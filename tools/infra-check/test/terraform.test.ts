import { execFile } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type OfflineTerraform, prepareOfflineTerraform } from "../src/offline-terraform.js";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "..", "..", "..");
const infrastructure = join(repo, "infrastructure");
const providersSchemaPath = join(
  process.env.HOMELAB_SHARED_DIR ?? join(repo, "..", "shared"),
  "tofu",
  "providers.schema.json",
);

let scratch: string;
let offline: OfflineTerraform;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "homelab-terraform-"));
  offline = await prepareOfflineTerraform({
    workDir: scratch,
    providersSchemaPath,
    sources: ["siderolabs/talos", "cloudflare/cloudflare"],
    nodePath: process.execPath,
  });
}, 60_000);
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs terraform in `cwd`; resolves with its exit code and output instead of throwing. */
async function terraform(cwd: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("terraform", [...args, "-no-color"], {
      cwd,
      env: { ...process.env, ...offline.env },
      timeout: 170_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** A copy of infrastructure/ the way its README starts: terraform.tfvars copied from the example. */
async function quickStartCopy(): Promise<string> {
  const dir = await mkdtemp(join(scratch, "infrastructure-"));
  await cp(infrastructure, dir, { recursive: true });
  await cp(join(dir, "terraform.tfvars.example"), join(dir, "terraform.tfvars"));
  return dir;
}

// terraform and the stand-in plugins are separate processes: on a loaded machine a run takes a while.
describe("terraform, offline, on infrastructure/", { timeout: 180_000 }, () => {
  it("finds the files formatted (terraform fmt -check)", async ({ expect }) => {
    const { code, output } = await terraform(infrastructure, ["fmt", "-check", "-recursive"]);
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it("validates with the providers' schemas (terraform validate)", async ({ expect }) => {
    const dir = await quickStartCopy();
    const { code, output } = await terraform(dir, ["validate"]);
    expect(output).toContain("Success! The configuration is valid");
    expect(code).toBe(0);
  });

  it("orders the DNS records after the Access applications in terraform's own graph (destroy reverses it)", async ({
    expect,
  }) => {
    const dir = await quickStartCopy();
    const { code, output } = await terraform(dir, ["graph"]);
    expect(code).toBe(0);
    const edges = output.split("\n").filter((line) => line.includes('"cloudflare_dns_record.route" ->'));
    expect(edges.map((line) => line.trim())).toContain(
      '"cloudflare_dns_record.route" -> "cloudflare_zero_trust_access_application.route";',
    );
    // And nothing makes an Access application wait for DNS (that would invert the order).
    expect(output).not.toMatch(/"cloudflare_zero_trust_access_application\.route" -> "cloudflare_dns_record/);
  });

  it("plans from terraform.tfvars.example alone with mock providers (terraform test)", async ({ expect }) => {
    const dir = await quickStartCopy();
    const { code, output } = await terraform(dir, ["test"]);
    expect(output).toContain("Success! 4 passed, 0 failed.");
    expect(code).toBe(0);
  });
});
