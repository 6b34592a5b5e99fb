import { execFile } from "node:child_process";
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ArgoBootstrapErrorCode } from "@talos-homelab/argo-bootstrap";
import { CfTunnelErrorCode } from "@talos-homelab/cf-tunnel";
import { SopsErrorCode } from "@talos-homelab/sops";
import { TalosClientErrorCode } from "@talos-homelab/talos-client";
import { TalosConfigErrorCode } from "@talos-homelab/talos-config";
import { afterEach, beforeEach, describe, it } from "vitest";
import { HomelabErrorCode } from "../src/index.js";
import { ERROR_TABLE, presentError } from "../src/internal/cli/error-table.js";
import { createImageFactoryEmulator } from "../src/internal/lab/image-factory.js";
import { EXAMPLES, listFiles, run, tempDir } from "./helpers.js";

let t: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  t = await tempDir();
  await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
});
afterEach(async () => {
  await t.cleanup();
});

describe("homelab render", () => {
  it("writes patches and tfvars into the project's infrastructure/ when it has one", async ({ expect }) => {
    await mkdir(join(t.dir, "infrastructure"));
    const r = await run(["render", "--json"], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.json().written.map((w: { path: string }) => w.path)).toEqual([
      "infrastructure/files/node1.patch.yaml",
      "infrastructure/homelab.auto.tfvars.json",
    ]);
    const patch = await readFile(join(t.dir, "infrastructure/files/node1.patch.yaml"), "utf8");
    expect(patch).toContain("hostname: node1");
    expect(patch).not.toContain("TS_AUTHKEY");
    const tfvars = JSON.parse(await readFile(join(t.dir, "infrastructure/homelab.auto.tfvars.json"), "utf8"));
    expect(JSON.stringify(tfvars)).not.toContain("env:TS_AUTHKEY");
  });

  it("writes into the git-ignored state directory, never a new directory beside homelab.yaml, without infrastructure/", async ({
    expect,
  }) => {
    const r = await run(["render", "--config", join(t.dir, "homelab.yaml"), "--full", "--json"]);
    expect(r.code).toBe(0);
    expect(await listFiles(t.dir)).toEqual([
      ".homelab/homelab/render/files/node1.patch.yaml",
      ".homelab/homelab/render/homelab.auto.tfvars.json",
      ".homelab/homelab/render/talos/node1.yaml",
      ".homelab/homelab/render/talosconfig",
      ".homelab/homelab/secrets.yaml",
      "homelab.yaml",
    ]);
  });

  it("writes complete configs and a talosconfig 0600 with --full --out", async ({ expect }) => {
    const r = await run(["render", "--full", "--out", "out", "--json"], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(await listFiles(t.dir)).toEqual([
      ".homelab/homelab/secrets.yaml",
      "homelab.yaml",
      "out/talos/node1.patch.yaml",
      "out/talos/node1.yaml",
      "out/talosconfig",
      "out/tofu/homelab.auto.tfvars.json",
    ]);
    for (const f of [".homelab/homelab/secrets.yaml", "out/talos/node1.yaml", "out/talosconfig"])
      expect([f, ((await stat(join(t.dir, f))).mode & 0o777).toString(8)]).toEqual([f, "600"]);
    const secrets = await readFile(join(t.dir, ".homelab/homelab/secrets.yaml"), "utf8");
    await run(["render", "--full", "--out", "out"], { cwd: t.dir });
    expect(await readFile(join(t.dir, ".homelab/homelab/secrets.yaml"), "utf8")).toBe(secrets);
  });

  it("writes nothing when a library rejects the configuration", async ({ expect }) => {
    const text = await readFile(join(t.dir, "homelab.yaml"), "utf8");
    await writeFile(
      join(t.dir, "homelab.yaml"),
      text.replace("talosVersion: v1.13.9", "talosVersion: v1.9.0"),
    );
    const r = await run(["render", "--full", "--json"], { cwd: t.dir });
    expect(r.code).toBe(1);
    // talos-config's UNSUPPORTED_VERSION, found while loading and located in homelab.yaml
    expect(r.json().error).toMatchObject({ source: "homelab", code: "CONFIG_INVALID" });
    expect(r.json().error.issues).toEqual([
      expect.objectContaining({
        path: "cluster.talosVersion",
        message: expect.stringContaining("v1.9.0 is not supported"),
      }),
    ]);
    expect(await listFiles(t.dir)).toEqual(["homelab.yaml"]);
  });
});

describe("homelab image", () => {
  it("prints the schematic id and YAML with image schematic --json", async ({ expect }) => {
    const r = await run(["image", "schematic", "--json"], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.json().id).toMatch(/^[0-9a-f]{64}$/);
    expect(r.json().yaml).toContain("siderolabs/tailscale");
  });

  it("registers the schematic, then prints ISO URLs and the installer image with image urls --json", async ({
    expect,
  }) => {
    const factory = createImageFactoryEmulator(await import("@talos-homelab/talos-config"));
    const server = await factory.listen();
    try {
      const r = await run(["image", "urls", "--arch", "amd64", "--json"], {
        cwd: t.dir,
        env: { HOMELAB_IMAGE_FACTORY_URL: server.url },
      });
      expect(r.code).toBe(0);
      const { schematicId } = r.json();
      expect([...factory.schematics.keys()]).toEqual([schematicId]);
      const iso = await fetch(`${server.url}/image/${schematicId}/v1.13.9/metal-amd64.iso`, {
        method: "HEAD",
      });
      expect(iso.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("fails without printing URLs when the Image Factory cannot be reached, and --offline skips it", async ({
    expect,
  }) => {
    const env = { HOMELAB_IMAGE_FACTORY_URL: "http://127.0.0.1:9" };
    const failed = await run(["image", "urls", "--json"], { cwd: t.dir, env });
    expect(failed.code).toBe(1);
    expect(failed.json().error).toMatchObject({ code: "UNREACHABLE" });
    const offline = await run(["image", "urls", "--offline", "--json"], { cwd: t.dir, env });
    expect(offline.code).toBe(0);
  });

  it("prints ISO URLs and the installer image with image urls --offline --json", async ({ expect }) => {
    const r = await run(["image", "urls", "--arch", "amd64", "--offline", "--json"], { cwd: t.dir });
    const { schematicId, images } = r.json();
    expect(images).toEqual([
      {
        version: "v1.13.9",
        nodes: ["node1"],
        iso: { amd64: `https://factory.talos.dev/image/${schematicId}/v1.13.9/metal-amd64.iso` },
        installer: expect.stringContaining(`${schematicId}:v1.13.9`),
      },
    ]);
  });
});

describe("homelab doctor", () => {
  it.for(["homelab.yaml", "ha.yaml"])("finds no errors in examples/%s", async (name, { expect }) => {
    const r = await run(["doctor", "--json", "--config", join(EXAMPLES, name)], { env: { TS_AUTHKEY: "k" } });
    expect(r.json()).toMatchObject({ ok: true, errors: 0 });
    expect(r.code).toBe(0);
  });

  it("exits 1 on an error finding", async ({ expect }) => {
    const text = await readFile(join(t.dir, "homelab.yaml"), "utf8");
    await writeFile(
      join(t.dir, "homelab.yaml"),
      text.replace("allowSchedulingOnControlPlanes: true", "allowSchedulingOnControlPlanes: false"),
    );
    const r = await run(["doctor", "--json"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
    expect(r.code).toBe(1);
    expect(r.json().findings).toContainEqual(
      expect.objectContaining({ code: "NO_SCHEDULABLE_NODES", severity: "error" }),
    );
  });

  it("lists what it checked, layer by layer, with each verdict", async ({ expect }) => {
    const r = await run(["doctor", "--json"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
    const checks = r
      .json()
      .checks.map((c: { layer: string; check: string; result: string }) => [c.layer, c.check, c.result]);
    expect(checks).toEqual([
      ["homelab.yaml", "etcd quorum (1 control plane(s))", "ok"],
      ["homelab.yaml", "a node can run workloads", "ok"],
      ["homelab.yaml", "GitOps (argocd section)", "ok"],
      ["homelab.yaml", "secret references resolve (values never shown)", "warning"],
      ["talos-config", "node1: controlplane machine config for Talos v1.13.9", "ok"],
      ["cf-tunnel", "2 route(s) in zone example.com", "ok"],
      ["argo-bootstrap", "root application (cluster/app-of-apps/bootstrap.yaml)", "ok"],
      ["talos", "nodes reachable, versions, cluster health", "skipped"],
      ["cloudflare", "tunnel audit", "skipped"],
    ]);
    const text = await run(["doctor"], { cwd: t.dir, env: { NO_COLOR: "1", TS_AUTHKEY: "k" } });
    expect(text.stdout).toContain("talos-config\n  ✓ node1: controlplane machine config for Talos v1.13.9\n");
    expect(text.stdout).toContain("- tunnel audit (skipped: pass --live)");
  });

  it("reports every problem of the file as a finding", async ({ expect }) => {
    const text = await readFile(join(t.dir, "homelab.yaml"), "utf8");
    await writeFile(
      join(t.dir, "homelab.yaml"),
      text
        .replace("gateway: 192.168.50.1", "gateway: 10.0.0.1")
        .replace("role: controlplane", "role: master"),
    );
    const r = await run(["doctor", "--json"], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.json().findings.map((f: { path: string }) => f.path)).toEqual([
      expect.stringMatching(/^homelab\.yaml:\d+:\d+ nodes\[0\]\.role$/),
    ]);
    await writeFile(join(t.dir, "homelab.yaml"), text.replace("gateway: 192.168.50.1", "gateway: 10.0.0.1"));
    const second = await run(["doctor", "--json"], { cwd: t.dir });
    expect(second.json().findings.map((f: { path: string; code: string }) => `${f.code} ${f.path}`)).toEqual([
      expect.stringMatching(/^CONFIG_INVALID homelab\.yaml:\d+:\d+ nodes\[0\]\.interfaces\[0\]\.gateway$/),
    ]);
  });

  it("needs no secret values: each reference that gives none is a warning naming what to set", async ({
    expect,
  }) => {
    const r = await run(["doctor", "--json"], { cwd: t.dir, env: {} });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, errors: 0, warnings: 2 });
    const unresolved = r
      .json()
      .findings.filter((f: { code: string }) => f.code === "SECRET_UNRESOLVED")
      .map((f: { path: string; message: string; hint?: string }) => [f.path, f.message, f.hint]);
    expect(unresolved).toEqual([
      [
        "tailscale.authKey",
        "secret reference env:TS_AUTHKEY: environment variable TS_AUTHKEY is not set: `homelab up` needs it",
        expect.stringContaining("export TS_AUTHKEY=…"),
      ],
      [
        "argocd.clusterSecrets[0].data.api-token",
        "secret reference env:CLOUDFLARE_DNS_API_TOKEN: environment variable CLOUDFLARE_DNS_API_TOKEN is not set: `homelab up` needs it",
        expect.stringContaining("export CLOUDFLARE_DNS_API_TOKEN=…"),
      ],
    ]);
    const set = await run(["doctor", "--json"], {
      cwd: t.dir,
      env: { TS_AUTHKEY: "k", CLOUDFLARE_DNS_API_TOKEN: "d" },
    });
    expect(set.json()).toMatchObject({ ok: true, warnings: 0 });
    expect(set.stdout).not.toMatch(/"k"|"d"/);
  });
});

/** The values examples/homelab.yaml's secret references ask for. */
const SECRETS = { TS_AUTHKEY: "k", CLOUDFLARE_DNS_API_TOKEN: "d" };

describe("homelab up with secret references that give no value", () => {
  it("names every missing one with its line before anything runs", async ({ expect }) => {
    const r = await run(["up", "--yes", "--json"], { cwd: t.dir, env: {} });
    expect(r.code).toBe(1);
    const error = r.json().error;
    expect(error.code).toBe("SECRET_UNRESOLVED");
    expect(error.issues.map((i: { path: string; message: string }) => `${i.path}: ${i.message}`)).toEqual([
      "tailscale.authKey: secret reference env:TS_AUTHKEY: environment variable TS_AUTHKEY is not set",
      "argocd.clusterSecrets[0].data.api-token: secret reference env:CLOUDFLARE_DNS_API_TOKEN: environment variable CLOUDFLARE_DNS_API_TOKEN is not set",
    ]);
    expect(await readdir(t.dir)).not.toContain(".homelab");
  });
});

describe("homelab plan", () => {
  it("exits 1, not 2, when a layer cannot be planned", async ({ expect }) => {
    const r = await run(["plan", "--engine", "tofu", "--json"], {
      cwd: t.dir,
      env: { ...SECRETS, HOMELAB_TOFU_BIN: join(t.dir, "no-tofu"), PATH: "" },
    });
    expect(r.code).toBe(1);
    const items = r.json().items.map((i: { step: string; action: string }) => `${i.step}:${i.action}`);
    expect(items).toEqual(["tofu:error", "kubeconfig:create", "argocd:create"]);
    expect(r.json().items[0].error.code).toBe("TOFU_NOT_FOUND");
    expect(r.json()).toMatchObject({ changes: 2, failures: 1 });
  });
});

describe("homelab up", () => {
  it("needs --yes without a TTY and changes nothing", async ({ expect }) => {
    const r = await run(["up", "--engine", "direct", "--json"], { cwd: t.dir, env: SECRETS });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("NEEDS_CONFIRMATION");
    expect(await listFiles(t.dir)).toEqual(["homelab.yaml"]);
  });

  it("rejects --simulate with the tofu engine as usage", async ({ expect }) => {
    const r = await run(["up", "--simulate", "--engine", "tofu"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--simulate runs the direct engine");
  });

  it("shows the plan on a TTY, asks, and changes nothing when the answer is no", async ({ expect }) => {
    const questions: string[] = [];
    const r = await run(["up", "--simulate"], {
      cwd: t.dir,
      env: { TS_AUTHKEY: "k", NO_COLOR: "1" },
      stdinTTY: true,
      prompt: async (q) => {
        questions.push(q);
        return "n";
      },
    });
    expect(r.code).toBe(1);
    expect(questions).toEqual(["apply these changes to the simulated lab? [y/N] "]);
    expect(r.stderr).toMatch(
      /\+ machine-config +node1: in maintenance mode \(certificate .+\): apply the machine config/,
    );
    expect(r.stderr).toContain("aborted: nothing changed");
    expect(await listFiles(t.dir)).toEqual(["homelab.yaml"]);
  });
});

describe("homelab infra", () => {
  it("maps a missing tofu binary through the error table", async ({ expect }) => {
    const r = await run(["infra", "output", "--json"], {
      cwd: t.dir,
      env: { HOMELAB_TOFU_BIN: join(t.dir, "no-tofu"), PATH: "" },
    });
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ source: "tofu", code: "TOFU_NOT_FOUND" });
  });
});

describe("homelab argo add-app", () => {
  it("writes a Helm Application and lists it in the app-of-apps kustomization", async ({ expect }) => {
    await run(["init", "--force"], { cwd: t.dir });
    const r = await run(
      [
        "argo",
        "add-app",
        "grafana",
        "--repo",
        "https://grafana.github.io/helm-charts",
        "--chart",
        "grafana",
        "--chart-version",
        "8.5.0",
        "--namespace",
        "monitoring",
        "--json",
      ],
      { cwd: t.dir },
    );
    expect(r.code).toBe(0);
    const app = await readFile(join(t.dir, "cluster/apps/grafana.yaml"), "utf8");
    expect(app).toContain("kind: Application");
    expect(app).toContain("targetRevision: 8.5.0");
    expect(await readFile(join(t.dir, "cluster/apps/kustomization.yaml"), "utf8")).toContain(
      "- grafana.yaml",
    );
    expect(await readFile(join(t.dir, "cluster/app-of-apps/kustomization.yaml"), "utf8")).toContain(
      "- ../apps\n",
    );
    // what Argo CD's repo-server runs: kustomize refuses ../apps/x.yaml (load restriction), takes ../apps
    const built = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile("kubectl", ["kustomize", join(t.dir, "cluster/app-of-apps")], (error, stdout, stderr) =>
        done({ code: error === null ? 0 : 1, stdout, stderr }),
      ),
    );
    expect(built.stderr).toBe("");
    expect(built.stdout).toContain("name: grafana");
  });

  it("rejects an unpinned chart", async ({ expect }) => {
    const r = await run(
      ["argo", "add-app", "x", "--repo", "https://example.com/charts", "--chart", "x", "--json"],
      { cwd: t.dir },
    );
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("USAGE");
  });
});

describe("ERROR_TABLE", () => {
  it.for([
    ["talos-client", TalosClientErrorCode],
    ["talos-config", TalosConfigErrorCode],
    ["cf-tunnel", CfTunnelErrorCode],
    ["argo-bootstrap", ArgoBootstrapErrorCode],
    ["homelab", HomelabErrorCode],
    ["sops", SopsErrorCode],
  ] as const)("covers every %s code except INTERNAL", ([source, codes], { expect }) => {
    const missing = Object.keys(codes).filter((c) => c !== "INTERNAL" && !ERROR_TABLE[`${source}:${c}`]);
    expect(missing).toEqual([]);
  });

  it("presents unknown errors as internal with a report-a-bug hint", ({ expect }) => {
    const p = presentError(new TypeError("x is undefined"), false);
    expect(p).toMatchObject({ code: "INTERNAL", exit: 1 });
    expect(p.hint).toContain("report");
  });

  it("presents an interrupt as exit 130", ({ expect }) => {
    expect(presentError(new Error("whatever"), true)).toMatchObject({ code: "INTERRUPTED", exit: 130 });
  });
});

describe("output", () => {
  it("prints no colour when NO_COLOR is set, even on a TTY", async ({ expect }) => {
    const r = await run(["doctor", "--config", join(EXAMPLES, "homelab.yaml")], {
      env: { NO_COLOR: "1" },
      stderrTTY: true,
    });
    expect(r.stdout + r.stderr).not.toContain("\x1b[");
  });

  it("keeps logs off stdout", async ({ expect }) => {
    const r = await run(["image", "urls", "--offline", "--json", "--config", join(EXAMPLES, "homelab.yaml")]);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

describe("Output", () => {
  it("draws a spinner on a TTY and plain start/done lines otherwise", async ({ expect }) => {
    const { createContext } = await import("../src/index.js");
    const { Output } = await import("../src/internal/cli/output.js");
    const flags = { config: undefined, json: false, yes: false, quiet: false, verbose: false };
    const lines = (tty: boolean) => {
      let err = "";
      const ctx = createContext({
        stdout: { write: () => true },
        stderr: { write: (s: string) => (err += s) },
        env: {},
        isTTY: { stdin: false, stdout: false, stderr: tty },
      });
      const step = new Output(ctx, flags).step("working");
      step.done("worked");
      return err;
    };
    expect(lines(false)).toBe("working…\n✓ worked\n");
    expect(lines(true)).toContain("\r\x1b[2K");
    expect(lines(true)).toContain("worked\n");
  });
});

describe("homelab argo bootstrap", () => {
  it("points the real helm at the kubeconfig the command uses when KUBECONFIG names another cluster", async ({
    expect,
  }) => {
    await copyFile(join(EXAMPLES, "homelab.yaml"), join(t.dir, "homelab.yaml"));
    const kubeconfig = join(t.dir, "lab-kubeconfig");
    await writeFile(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n" +
        "users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
      { mode: 0o600 },
    );
    const calls: string[][] = [];
    const r = await run(["argo", "bootstrap", "--kubeconfig", kubeconfig, "--yes", "--json"], {
      cwd: t.dir,
      env: { KUBECONFIG: "/somewhere/else/config", CLOUDFLARE_DNS_API_TOKEN: "dns-token" },
      exec: async (command, args) => {
        calls.push([command, ...args]);
        if (args[0] === "version") return { exitCode: 0, stdout: "v3.19.0+gabcdef\n", stderr: "" };
        return { exitCode: 1, stdout: "", stderr: "Error: simulated helm failure" };
      },
    });
    expect(r.code).toBe(1);
    // `helm version` is client-only; everything that talks to a cluster must name ours
    const helmCalls = calls.filter(([command, verb]) => command === "helm" && verb !== "version");
    expect(helmCalls.length).toBeGreaterThan(0);
    for (const call of helmCalls) {
      const at = call.indexOf("--kubeconfig");
      expect(at, call.join(" ")).toBeGreaterThan(0);
      expect(call[at + 1]).toBe(kubeconfig);
    }
  });
});
