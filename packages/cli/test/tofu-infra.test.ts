// The reusable infrastructure check (`pnpm check:infra` runs this file): the real infrastructure/
// directory validated offline against the provider schemas, with the tfvars the CLI renders for
// the single-node and the 3 + 2 examples; `fmt -check`; and the variables' own validation rules
// evaluated by the real binary against those tfvars.
import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { prepareOfflineTerraform, scanHcl, validateInfrastructure } from "@talos-homelab/infra-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { loadTalosConfig } from "../src/internal/adapters/talos-config.js";
import { tfvarsInputOf } from "../src/internal/commands/tfvars.js";
import { loadConfig } from "../src/internal/config/load.js";
import { nodeIntent } from "../src/internal/plan/intent.js";
import { schematicOf } from "../src/internal/plan/schematic.js";
import { createTofuRunner, renderTfvars, TFVARS_FILE_NAME, type TfvarsInput } from "../src/tofu/index.js";
import {
  highlyAvailable,
  infrastructureDir,
  providersSchemaPath,
  repoRoot,
  singleNode,
} from "./tofu-examples.js";

let scratch: string;

/** What the stubbed talos_image_factory_urls data source answers in these offline evaluations. */
const FACTORY_INSTALLER = "factory.example/installer/from-the-factory:v1.13.9";
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

  it.for([
    {
      what: "an unanchored path on a protected route",
      edit: (i: TfvarsInput) => {
        i.tunnel!.routes[0]!.path = "/api";
      },
      message: "anchored prefix such as ^/api(/|$)",
    },
    {
      what: "a service URL with a path",
      edit: (i: TfvarsInput) => {
        i.tunnel!.routes[0]!.service = "http://app1.apps.svc.cluster.local:80/app";
      },
      message: "cloudflared refuses a path on the origin",
    },
    {
      what: "Talos v1.15",
      edit: (i: TfvarsInput) => {
        i.cluster.talosVersion = "v1.15.0";
      },
      message: "supports v1.12 to v1.14",
    },
  ])("rejects $what", async ({ edit, message }, { expect }) => {
    const input = structuredClone(singleNode);
    edit(input);
    const error = await planVariables(renderTfvars(input)).catch((e: unknown) => e);
    expect(JSON.stringify(error)).toContain(message);
  });

  it("requires aud_tag and team_name when a route sets origin access", async ({ expect }) => {
    const tfvars = JSON.parse(renderTfvars(singleNode));
    tfvars.tunnel.routes[0].origin_request = { access: { required: true } };
    const error = await planVariables(JSON.stringify(tfvars)).catch((e: unknown) => e);
    expect(JSON.stringify(error)).toMatch(/aud_tag|team_name/);
  });

  it("refuses a fractional origin duration", async ({ expect }) => {
    const tfvars = JSON.parse(renderTfvars(singleNode));
    tfvars.tunnel.routes[0].origin_request = { connect_timeout: 1.5 };
    const error = await planVariables(JSON.stringify(tfvars)).catch((e: unknown) => e);
    expect(JSON.stringify(error)).toContain("whole seconds");
  });

  it("keeps the machine secrets when talos_version changes (no replacement, no new cluster CA)", async ({
    expect,
  }) => {
    const body = scanHcl(await readFile(join(infrastructureDir, "talos.tf"), "utf8"));
    const secrets = body.blocks.find(
      (b) => b.type === "resource" && b.labels.join(".") === "talos_machine_secrets.this",
    );
    const lifecycle = secrets?.body.blocks.find((b) => b.type === "lifecycle");
    const ignored = lifecycle?.body.attributes.find((a) => a.name === "ignore_changes")?.expression ?? "";
    expect(ignored).toContain("talos_version");
  });

  it("creates DNS records only after the Access applications (and destroys them first)", async ({
    expect,
  }) => {
    const body = scanHcl(await readFile(join(infrastructureDir, "cloudflare.tf"), "utf8"));
    const dns = body.blocks.find(
      (b) => b.type === "resource" && b.labels.join(".") === "cloudflare_dns_record.route",
    );
    const dependsOn = dns?.body.attributes.find((a) => a.name === "depends_on")?.expression ?? "";
    expect(dependsOn).toContain("cloudflare_zero_trust_access_application.route");
  });

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

describe("the locals of talos.tf and cloudflare.tf", () => {
  // The locals shape every per-node patch, the ingress list and the Access split. They need no
  // provider except one data source, stubbed here, so the real binary can evaluate them.
  const STUBS: [string, string][] = [
    ["data.cloudflare_zero_trust_tunnel_cloudflared_token.this[0].token", '"TUNNEL-TOKEN"'],
    ["data.talos_image_factory_urls.this.urls.installer", `"${FACTORY_INSTALLER}"`],
  ];

  async function evaluateLocals(input: TfvarsInput | { hcl: string }): Promise<Record<string, unknown>> {
    const dir = await mkdtemp(join(scratch, "locals-"));
    const names: string[] = [];
    const lines: string[] = ["locals {"];
    for (const file of ["talos.tf", "cloudflare.tf"]) {
      const body = scanHcl(await readFile(join(infrastructureDir, file), "utf8"));
      for (const block of body.blocks.filter((b) => b.type === "locals")) {
        for (const a of block.body.attributes) {
          let expression = a.expression;
          for (const [from, to] of STUBS) expression = expression.split(from).join(to);
          if (/\b(data|talos_[a-z_]+|cloudflare_[a-z_]+)\.[a-z]/.test(expression)) {
            throw new Error(`local.${a.name} references a provider object without a stub`);
          }
          lines.push(`  ${a.name} = ${expression}`);
          names.push(a.name);
        }
      }
    }
    lines.push("}", "", 'output "locals" {', "  sensitive = true", "  value = {");
    for (const name of names) lines.push(`    ${name} = local.${name}`);
    lines.push("  }", "}", "");
    await writeFile(join(dir, "locals.tf"), lines.join("\n"));
    await copyFile(join(infrastructureDir, "variables.tf"), join(dir, "variables.tf"));
    if ("hcl" in input) await writeFile(join(dir, "terraform.tfvars"), input.hcl);
    else await writeFile(join(dir, TFVARS_FILE_NAME), renderTfvars(input));
    const tofu = createTofuRunner({
      cwd: dir,
      env: { ...env, TF_DATA_DIR: join(dir, ".data"), TF_VAR_tailscale_auth_key: "tskey-auth-test" },
    });
    await tofu.init();
    await tofu.apply();
    const outputs = await tofu.output();
    const value = outputs.locals?.sensitive === true ? outputs.locals.value.reveal() : undefined;
    return value as Record<string, unknown>;
  }

  it("builds the single-node patches, ingress rules and Access split", async ({ expect }) => {
    const l = await evaluateLocals(singleNode);
    expect((l.bootstrap_node as { name: string }).name).toBe("node1");
    expect(l.ingress_rules).toEqual([
      {
        hostname: "app1.example.com",
        path: null,
        service: "http://app1.apps.svc.cluster.local:80",
        origin_request: null,
      },
      {
        hostname: "status.example.com",
        path: null,
        service: "http://status.apps.svc.cluster.local:80",
        origin_request: null,
      },
      { hostname: null, path: null, service: "http_status:404", origin_request: null },
    ]);
    expect(Object.keys(l.identity_routes as object)).toEqual(["app1.example.com"]);
    expect(l.service_token_routes).toEqual({});
    expect(l.dns_comment).toBe("managed by cf-tunnel");
    expect(l.cloudflared_patch).toContain('"TUNNEL_TOKEN=TUNNEL-TOKEN"');
    const tailscale = (l.tailscale_patches as Record<string, string>).node1;
    expect(tailscale).toContain('"TS_AUTHKEY=tskey-auth-test"');
    expect(tailscale).toContain('"TS_ROUTES=10.96.0.0/12"');
    expect((l.node_patches as Record<string, string[]>).node1?.[0]).toContain('"disk": "/dev/sda"');
    expect(l.role_patches).toEqual({ controlplane: [], worker: [] });
  });

  it("orders path rules first, carries origin settings and per-node tailscale for the 3 + 2 example", async ({
    expect,
  }) => {
    const l = await evaluateLocals(highlyAvailable);
    expect(Object.keys(l.control_planes as object)).toEqual(["cp1", "cp2", "cp3"]);
    expect(Object.keys(l.workers as object)).toEqual(["w1", "w2"]);
    expect((l.bootstrap_node as { address: string }).address).toBe("192.168.50.11");
    expect(
      (l.ingress_rules as { hostname: string | null; path: string | null }[]).map((r) => [
        r.hostname,
        r.path,
      ]),
    ).toEqual([
      ["grafana.example.org", "^/api(/|$)"],
      ["grafana.example.org", null],
      ["example.org", null],
      [null, null],
    ]);
    expect(l.hostnames).toEqual(["example.org", "grafana.example.org"]);
    expect(Object.keys(l.identity_routes as object).sort()).toEqual([
      "grafana.example.org",
      "grafana.example.org^/api(/|$)",
    ]);
    expect(Object.keys(l.service_token_routes as object)).toEqual(["grafana.example.org^/api(/|$)"]);
    // The anchored prefix cloudflared routes is the host/path Access covers.
    expect(l.access_domains).toEqual({
      "grafana.example.org": "grafana.example.org",
      "grafana.example.org^/api(/|$)": "grafana.example.org/api",
    });
    expect((l.node_patches as Record<string, string[]>).w2?.[0]).toContain(
      '"image": "factory.example/installer/abc:v1.13.9"',
    );
    const tailscale = l.tailscale_patches as Record<string, string | null>;
    expect(tailscale.w2).toBeNull();
    expect(tailscale.cp1).toContain('"TS_HOSTNAME=first"');
    expect(tailscale.cp1).toContain('"TS_EXTRA_ARGS=--accept-dns=false --ssh"');
    expect(tailscale.cp2).toContain('"TS_HOSTNAME=ha-cp2"');
    expect(tailscale.cp2).toContain('"TS_EXTRA_ARGS=--accept-dns=false"');
    const api = (
      l.ingress_rules as { path: string | null; origin_request: Record<string, unknown> | null }[]
    )[0];
    expect(api?.origin_request).toMatchObject({
      no_tls_verify: true,
      connect_timeout: 30,
      http_host_header: "grafana",
    });
  });

  it("yields only the catch-all and no extension patches when tunnel and tailscale are absent", async ({
    expect,
  }) => {
    const { tunnel: _t, tailscale: _s, ...core } = singleNode;
    const l = await evaluateLocals(core);
    expect(l.ingress_rules).toEqual([
      { hostname: null, path: null, service: "http_status:404", origin_request: null },
    ]);
    expect(l.cloudflared_patch).toBeNull();
    expect(l.routes_by_key).toEqual({});
    expect(l.dns_comment).toBeNull();
  });

  // Both ways of running infrastructure/ (the CLI's tfvars from homelab.yaml, or terraform.tfvars by
  // hand) build the node patches here from the variables; the CLI's direct engine builds them with
  // talos-config. The documents must be the same.
  it.for(["homelab.yaml", "ha.yaml"])(
    "builds the same node patches from the CLI's tfvars as the direct engine for examples/%s",
    async (file, { expect }) => {
      const loaded = await loadConfig(join(repoRoot, "examples", file), {
        cwd: repoRoot,
        env: {},
        resolveSecrets: false,
      });
      const { config } = loaded;
      const tc = await loadTalosConfig();
      const schematic = schematicOf(tc, config);
      const installer = tc.installerImage({
        schematicId: schematic.id,
        version: config.cluster.talosVersion,
      });
      const l = await evaluateLocals(tfvarsInputOf(config, installer));
      const hcl = l.node_patches as Record<string, string[]>;
      // The tofu variables carry what every example node uses except VLANs and disk selectors.
      const comparable = config.nodes.filter(
        (n) => !n.installDiskSelector && !n.interfaces.some((i) => i.vlans !== undefined),
      );
      expect(comparable.length).toBeGreaterThan(0);
      for (const node of comparable) {
        const direct = tc.buildNodePatches(nodeIntent(config, node, { installImage: installer }));
        const standalone = (hcl[node.name] ?? []).flatMap((text) =>
          parseAllDocuments(text).map((d) => d.toJS()),
        );
        expect(byKind(standalone), node.name).toEqual(byKind(direct as Record<string, unknown>[]));
      }
      // The schematic registered with the Image Factory is the one the CLI hashes offline.
      expect(parse(l.schematic as string)).toEqual(parse(schematic.yaml));
    },
  );

  it("takes the installer from the Image Factory when driven by terraform.tfvars.example alone", async ({
    expect,
  }) => {
    const example = await readFile(join(infrastructureDir, "terraform.tfvars.example"), "utf8");
    const l = await evaluateLocals({ hcl: example });
    expect(l.installer_image).toBe(FACTORY_INSTALLER);
    const docs = ((l.node_patches as Record<string, string[]>).node1 ?? []).map((t) => parse(t));
    expect(docs[0]).toMatchObject({
      machine: { install: { disk: "/dev/sda", image: FACTORY_INSTALLER } },
      cluster: { network: { podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] } },
    });
    expect(docs.map((d) => d.kind)).toEqual([undefined, "HostnameConfig", "LinkConfig", "ResolverConfig"]);
  });
});

describe("infrastructure/ on its own: copy terraform.tfvars.example, init, plan", () => {
  it("gets as far as downloading the providers offline, with formatting and variables correct", async ({
    expect,
  }) => {
    const dir = await mkdtemp(join(scratch, "standalone-"));
    await cp(infrastructureDir, dir, { recursive: true });
    await copyFile(join(dir, "terraform.tfvars.example"), join(dir, "terraform.tfvars"));
    const tofu = createTofuRunner({ cwd: dir, env: { ...env, TF_DATA_DIR: join(dir, ".data") } });
    const fmt = await tofu.fmt({ check: true, recursive: true });
    expect(fmt.formatted).toBe(true);
    // Step 1 of the quick start: init. Here it stops at the provider download (no registry is
    // reachable offline): the configuration itself parses, since a syntax or reference error would
    // be reported before any provider is looked up.
    const init = await tofu.init().catch((e: unknown) => e);
    const text = JSON.stringify(init);
    expect(text).toMatch(/provider/i);
    expect(text).toMatch(/siderolabs\/talos|cloudflare\/cloudflare/);
    expect(text).not.toMatch(/Unsupported argument|Reference to undeclared|Invalid expression/);
    // Past init, with stand-in provider plugins serving the schemas, validate and a full plan with
    // mock providers run offline: tools/infra-check/test/terraform.test.ts.
  });
});

function byKind(docs: Record<string, unknown>[]): Record<string, unknown> {
  return Object.fromEntries(docs.map((d) => [`${String(d.kind ?? "v1alpha1")}/${String(d.name ?? "")}`, d]));
}

describe("infrastructure/ planned offline from the CLI's tfvars", () => {
  // Stand-in provider plugins serve the providers' schemas (tools/infra-check), and mock providers
  // compute what the real ones would: terraform plans, then applies in memory, the whole module from
  // the homelab.auto.tfvars.json that `homelab render` writes.
  const MOCK_RUNS = `mock_provider "talos" {}
mock_provider "cloudflare" {}

variables {
  tailscale_auth_key = "tskey-auth-test"
}

run "plan" {
  command = plan
}

run "apply_with_mocks" {
  command = apply
}
`;

  it.for(examples)(
    "plans and applies with mock providers from the tfvars rendered for the $name example",
    { timeout: 180_000 },
    async ({ input }, { expect }) => {
      const offline = await prepareOfflineTerraform({
        workDir: join(scratch, "offline"),
        providersSchemaPath,
        sources: ["siderolabs/talos", "cloudflare/cloudflare"],
        nodePath: process.execPath,
      });
      const dir = await mkdtemp(join(scratch, "offline-plan-"));
      await cp(infrastructureDir, dir, { recursive: true });
      await rm(join(dir, "tests"), { recursive: true, force: true });
      await mkdir(join(dir, "tests"));
      await writeFile(join(dir, "tests", "cli.tftest.hcl"), MOCK_RUNS);
      await writeFile(join(dir, TFVARS_FILE_NAME), renderTfvars(input));
      const result = await promisify(execFile)("terraform", ["test", "-no-color"], {
        cwd: dir,
        env: { ...env, ...offline.env },
        timeout: 170_000,
      }).catch((error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? "",
        stderr: error.stderr ?? "",
      }));
      expect(`${result.stdout}${result.stderr}`).toContain("Success! 2 passed, 0 failed.");
    },
  );
});
