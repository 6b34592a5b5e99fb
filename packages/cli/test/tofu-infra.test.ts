// The reusable infrastructure check (`pnpm check:infra` runs this file): the real infrastructure/
// directory validated offline against the provider schemas, with the tfvars the CLI renders for
// the single-node and the 3 + 2 examples; `fmt -check`; and the variables' own validation rules
// evaluated by the real binary against those tfvars.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  createTofuRunner,
  renderTfvars,
  TFVARS_FILE_NAME,
  validateInfrastructure,
} from "../src/tofu/index.js";
import { highlyAvailable, infrastructureDir, providersSchemaPath, singleNode } from "./tofu-examples.js";

let scratch: string;
let env: Record<string, string>;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "homelab-tofu-infra-"));
  await writeFile(join(scratch, "cli.tfrc"), "");
  env = {
    PATH: process.env.PATH ?? "",
    HOME: scratch,
    TF_CLI_CONFIG_FILE: join(scratch, "cli.tfrc"),
    TF_PLUGIN_CACHE_DIR: scratch,
    ...(process.env.HOMELAB_TOFU_BIN === undefined ? {} : { HOMELAB_TOFU_BIN: process.env.HOMELAB_TOFU_BIN }),
  };
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const examples = [
  { name: "single node", input: singleNode },
  { name: "3 control planes + 2 workers", input: highlyAvailable },
];

describe("validateInfrastructure on infrastructure/", () => {
  it("finds nothing wrong when checking the real directory with both examples' tfvars", async ({
    expect,
  }) => {
    const findings = await validateInfrastructure({
      dir: infrastructureDir,
      providersSchemaPath,
      tfvars: examples.map((e, i) => ({
        name: `example-${i}.auto.tfvars.json`,
        text: renderTfvars(e.input),
      })),
    });
    expect(findings).toEqual([]);
  });

  it("is canonically formatted when checked with fmt -check -recursive", async ({ expect }) => {
    const result = await createTofuRunner({ cwd: infrastructureDir, env }).fmt({
      check: true,
      recursive: true,
    });
    expect(result.files).toEqual([]);
    expect(result.formatted).toBe(true);
  });
});

describe("variables.tf with rendered tfvars", () => {
  // Only variables.tf is copied: its types, defaults and validation blocks need no provider, so
  // the real binary can evaluate them against the rendered file.
  async function planVariables(
    tfvarsText: string,
  ): Promise<ReturnType<ReturnType<typeof createTofuRunner>["plan"]>> {
    const dir = await mkdtemp(join(scratch, "vars-"));
    await copyFile(join(infrastructureDir, "variables.tf"), join(dir, "variables.tf"));
    await writeFile(join(dir, TFVARS_FILE_NAME), tfvarsText);
    await mkdir(join(dir, ".data"));
    const tofu = createTofuRunner({ cwd: dir, env: { ...env, TF_DATA_DIR: join(dir, ".data") } });
    await tofu.init();
    return tofu.plan();
  }

  it.for(examples)(
    "passes every validation rule when rendered for the $name example",
    async ({ input }, { expect }) => {
      const plan = await planVariables(renderTfvars(input));
      expect(plan.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    },
  );

  it("rejects a route that is neither public nor protected by Access", async ({ expect }) => {
    const input = structuredClone(singleNode);
    input.tunnel!.routes[0] = {
      hostname: "open.example.com",
      service: "http://open.apps.svc.cluster.local:80",
    };
    const error = await planVariables(renderTfvars(input)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "TOFU_FAILED",
      details: {
        diagnostics: [
          expect.objectContaining({
            detail: expect.stringContaining("Every tunnel route needs public = true or an access rule"),
            file: TFVARS_FILE_NAME,
          }),
        ],
      },
    });
  });
});
