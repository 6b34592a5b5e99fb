import { execFile } from "node:child_process";
import { copyFile, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ArgoBootstrapErrorCode } from "@talos-homelab/argo-bootstrap";
import { CfTunnelErrorCode } from "@talos-homelab/cf-tunnel";
import { TalosClientErrorCode } from "@talos-homelab/talos-client";
import { TalosConfigErrorCode } from "@talos-homelab/talos-config";
import { afterEach, beforeEach, describe, it } from "vitest";
import { HomelabErrorCode } from "../src/index.js";
import { ERROR_TABLE, presentError } from "../src/internal/cli/error-table.js";
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
  it("writes patches and tfvars into infrastructure/ by default", async ({ expect }) => {
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
    expect(r.json().error).toMatchObject({ source: "talos-config", code: "UNSUPPORTED_VERSION" });
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

  it("prints ISO URLs and the installer image with image urls --json", async ({ expect }) => {
    const r = await run(["image", "urls", "--arch", "amd64", "--json"], { cwd: t.dir });
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
    const r = await run(["doctor", "--json", "--config", join(EXAMPLES, name)]);
    expect(r.json()).toMatchObject({ ok: true, errors: 0 });
    expect(r.code).toBe(0);
  });

  it("exits 1 on an error finding", async ({ expect }) => {
    const text = await readFile(join(t.dir, "homelab.yaml"), "utf8");
    await writeFile(
      join(t.dir, "homelab.yaml"),
      text.replace("allowSchedulingOnControlPlanes: true", "allowSchedulingOnControlPlanes: false"),
    );
    const r = await run(["doctor", "--json"], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.json().findings).toContainEqual(
      expect.objectContaining({ code: "NO_SCHEDULABLE_NODES", severity: "error" }),
    );
  });
});

describe("homelab plan", () => {
  it("exits 2 listing every layer when nothing exists yet", async ({ expect }) => {
    const r = await run(["plan", "--json"], {
      cwd: t.dir,
      env: { TS_AUTHKEY: "k", HOMELAB_TOFU_BIN: join(t.dir, "no-tofu"), PATH: "" },
    });
    expect(r.code).toBe(2);
    const layers = r.json().items.map((i: { layer: string; change: string }) => `${i.layer}:${i.change}`);
    expect(layers).toEqual(["tunnel:unknown", "talos:create", "argocd:create", "tofu:unknown"]);
    expect(r.json().items[3].detail).toContain("tofu plan failed");
  });
});

describe("homelab up", () => {
  it("needs --yes without a TTY and changes nothing", async ({ expect }) => {
    const r = await run(["up", "--engine", "direct", "--json"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("NEEDS_CONFIRMATION");
    expect(await listFiles(t.dir)).toEqual(["homelab.yaml"]);
  });

  it("rejects --simulate with the tofu engine as usage", async ({ expect }) => {
    const r = await run(["up", "--simulate", "--engine", "tofu"], { cwd: t.dir, env: { TS_AUTHKEY: "k" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--simulate runs the direct engine");
  });

  it("asks on a TTY and stops when the answer is no", async ({ expect }) => {
    const questions: string[] = [];
    const r = await run(["up", "--engine", "direct"], {
      cwd: t.dir,
      env: { TS_AUTHKEY: "k" },
      stdinTTY: true,
      prompt: async (q) => {
        questions.push(q);
        return "n";
      },
    });
    expect(r.code).toBe(1);
    expect(questions).toEqual(["bring homelab (1 node(s)) to the state in homelab.yaml? [y/N] "]);
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
    const r = await run(["image", "urls", "--json", "--config", join(EXAMPLES, "homelab.yaml")]);
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
