import { afterEach, beforeEach, describe, it } from "vitest";
import { createHelm, installArgoCd, isArgoBootstrapError, type ProcessRunner } from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";

const HELM3 = "v3.21.4+g6f2e5b4";
const HELM4 = "v4.2.4+g1a2b3c4";

let kube: KubeEmulator;
beforeEach(async () => {
  kube = await createKubeEmulator({ stepMs: 5 });
});
afterEach(async () => {
  await kube.close();
});

describe("createHelmStandIn flag sets", () => {
  it("reports Helm 4 by default", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    expect((await run("helm", ["version", "--short"])).stdout).toMatch(/^v4\./);
  });

  it.for<[string, string[], string]>([
    // removed in Helm 4.0.0 (helm/helm v4.2.4 pkg/cmd/list.go has no "all" flag)
    [HELM4, ["list", "--all", "-o", "json"], "Error: unknown flag: --all"],
    [HELM4, ["list", "-a"], "Error: unknown shorthand flag: 'a' in -a"],
    [
      HELM4,
      ["repo", "update", "--fail-on-repo-update-fail"],
      "Error: unknown flag: --fail-on-repo-update-fail",
    ],
    [HELM4, ["repo", "add", "argo", "https://x", "--no-update"], "Error: unknown flag: --no-update"],
    [HELM4, ["upgrade", "r", "c", "--recreate-pods"], "Error: unknown flag: --recreate-pods"],
    [HELM4, ["status", "r", "--show-resources"], "Error: unknown flag: --show-resources"],
    [HELM4, ["upgrade", "r", "c", "--wait=true-ish"], "invalid wait input"],
    // added in Helm 4 (helm/helm v3.21.4 cmd/helm/upgrade.go does not have them)
    [HELM3, ["upgrade", "r", "c", "--rollback-on-failure"], "Error: unknown flag: --rollback-on-failure"],
    [HELM3, ["upgrade", "r", "c", "--force-conflicts"], "Error: unknown flag: --force-conflicts"],
    [HELM3, ["upgrade", "r", "c", "--server-side=true"], "Error: unknown flag: --server-side"],
    [HELM3, ["upgrade", "r", "c", "--wait=watcher"], 'invalid argument "watcher" for "--wait" flag'],
    [HELM3, ["rollback", "r", "--force-replace"], "Error: unknown flag: --force-replace"],
    [HELM3, ["list", "--color", "never"], "Error: unknown flag: --color"],
    [HELM3, ["list", "--namespace"], "Error: flag needs an argument: --namespace"],
  ])("Helm %s refuses %j", async ([version, args, message], { expect }) => {
    const run = createHelmStandIn({ kube, helmVersion: version });
    const result = await run("helm", args);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it("lists only deployed and failed releases on Helm 3 unless --all; every state on Helm 4", async ({
    expect,
  }) => {
    for (const version of [HELM3, HELM4]) {
      const local = await createKubeEmulator({ stepMs: 5 });
      try {
        const run = createHelmStandIn({ kube: local, helmVersion: version });
        kube.faults.clear();
        local.faults.stallRollout({ kind: "Deployment", name: "argocd-server", mode: "unavailable" });
        await run(
          "helm",
          ["upgrade", "--install", "argocd", "argo-cd", "--repo", "https://argoproj.github.io/argo-helm"],
          {},
        );
        // mark the release pending as an interrupted install would leave it
        const secret = local
          .list({ apiVersion: "v1", kind: "Secret", namespace: "default" })
          .find((s) => s.type === "helm.sh/release.v1")!;
        const release = JSON.parse(
          Buffer.from(String((secret.data as Record<string, string>).release), "base64").toString(),
        );
        local.apply({
          ...secret,
          data: {
            release: Buffer.from(JSON.stringify({ ...release, status: "pending-install" })).toString(
              "base64",
            ),
          },
        });
        const plain = JSON.parse((await run("helm", ["list", "-o", "json"])).stdout) as unknown[];
        expect(plain.length, version).toBe(version === HELM3 ? 0 : 1);
      } finally {
        await local.close();
      }
    }
  });
});

describe("createHelm on each Helm major", () => {
  it.for([HELM3, HELM4])(
    "runs install, re-run, upgrade, search and rollback with flags Helm %s has",
    async (version, { expect }) => {
      const run = createHelmStandIn({ kube, helmVersion: version });
      const helm = createHelm({ run, kubeconfigPath: "/tmp/kubeconfig", kubeContext: "lab" });
      await installArgoCd({ helm, chartVersion: "10.1.1", rollbackOnFailure: true, timeoutMs: 10_000 });
      await installArgoCd({ helm, chartVersion: "10.1.1", timeoutMs: 10_000 });
      await installArgoCd({ helm, chartVersion: "10.4.0", timeoutMs: 10_000 });
      expect(
        (await helm.searchVersions({ repoName: "argo", chart: "argo-cd" })).map((v) => v.version),
      ).toContain("10.4.0");
      const back = await helm.rollback({ release: "argocd", namespace: "argocd", timeoutMs: 10_000 });
      expect(back.chartVersion).toBe("10.1.1");
      const failed = run.calls.filter((c) => c.exitCode !== 0);
      expect(failed).toEqual([]);
      const lists = run.calls.filter((c) => c.args[0] === "list");
      expect(lists.length).toBeGreaterThan(0);
      for (const call of lists) expect(call.args.includes("--all")).toBe(version === HELM3);
    },
  );

  it("leaves the user's own `argo` repository entry alone and installs with --repo", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    await run("helm", ["repo", "add", "argo", "https://charts.example.internal/argo"]);
    const helm = createHelm({ run });
    const result = await installArgoCd({ helm, timeoutMs: 10_000 });
    expect(result.action).toBe("installed");
    expect(run.calls.some((c) => c.args.includes("--force-update"))).toBe(false);
    const repos = JSON.parse((await run("helm", ["repo", "list", "-o", "json"])).stdout) as unknown[];
    expect(repos).toEqual([{ name: "argo", url: "https://charts.example.internal/argo" }]);
    const upgrade = run.calls.find((c) => c.args[0] === "upgrade")!.args;
    expect(upgrade).toContain("--repo");
    expect(upgrade[3]).toBe("argo-cd");
  });

  it("reports HELM_TIMEOUT when the runner kills helm at the deadline without saying so", async ({
    expect,
  }) => {
    let clock = 0;
    const run: ProcessRunner = async (_command, args, options) => {
      if (args[0] === "version") return { exitCode: 0, stdout: "v4.2.4+g1a2b3c4\n", stderr: "" };
      if (args[0] === "list") return { exitCode: 0, stdout: "[]\n", stderr: "" };
      // spawn's `timeout` kills with SIGTERM: exit code null (1 after ?? 1), empty output, no timedOut flag
      clock += options?.timeoutMs ?? 0;
      return { exitCode: 1, stdout: "", stderr: "" };
    };
    const helm = createHelm({ run, now: () => clock });
    const error = await installArgoCd({
      helm,
      source: { type: "oci", ref: "oci://ghcr.io/argoproj/argo-helm/argo-cd" },
      timeoutMs: 1_000,
    }).catch((e: unknown) => e);
    expect(isArgoBootstrapError(error) && error.code).toBe("HELM_TIMEOUT");
  });
});
