import { afterEach, beforeEach, describe, it } from "vitest";
import { ARGOCD_CHART_OCI_REF } from "../src/constants.js";
import { createHelm, installArgoCd, type ProgressEvent, upgradeArgoCd } from "../src/index.js";
import { createHelmStandIn, createKubeEmulator, type KubeEmulator } from "../src/testing/index.js";

let kube: KubeEmulator;
beforeEach(async () => {
  kube = await createKubeEmulator({ stepMs: 5 });
});
afterEach(async () => {
  await kube.close();
});

describe("createHelm", () => {
  it("builds the upgrade --install argument array with values on stdin", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    const helm = createHelm({ run });
    const release = await helm.upgradeInstall({
      release: "argocd",
      namespace: "argocd",
      source: { type: "repo", repoURL: "https://argoproj.github.io/argo-helm", useRepoFlag: true },
      version: "10.4.0",
      values: { server: { replicas: 2 } },
      timeoutMs: 90_000,
    });
    expect(release).toMatchObject({
      name: "argocd",
      revision: 1,
      status: "deployed",
      chartVersion: "10.4.0",
      appVersion: "v3.5.1",
    });
    const call = run.calls.find((c) => c.args[0] === "upgrade")!;
    expect(call.args).toEqual([
      "upgrade",
      "--install",
      "argocd",
      "argo-cd",
      "--namespace",
      "argocd",
      "--create-namespace",
      "--version",
      "10.4.0",
      "--repo",
      "https://argoproj.github.io/argo-helm",
      "--values",
      "-",
      "--wait",
      "--timeout",
      "90s",
    ]);
    expect(call.input).toBe("server:\n  replicas: 2\n");
    expect(
      kube.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: "argocd", name: "argocd-server" })
        ?.spec,
    ).toMatchObject({ replicas: 2 });
  });

  it("installs from an OCI reference without adding a repository", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    await installArgoCd({
      helm: createHelm({ run }),
      source: { type: "oci", ref: ARGOCD_CHART_OCI_REF },
      timeoutMs: 10_000,
    });
    expect(run.calls.map((c) => c.args.slice(0, 2).join(" "))).not.toContain("repo add");
    expect(run.calls.find((c) => c.args[0] === "upgrade")?.args[3]).toBe(
      "oci://ghcr.io/argoproj/argo-helm/argo-cd",
    );
  });

  it.for<[string, string]>([
    ["v3.21.4+g6f2e5b4", "--atomic"],
    ["v4.2.4+g1a2b3c4", "--rollback-on-failure"],
  ])("spells roll back on failure for Helm %s as %s", async ([version, flag], { expect }) => {
    const run = createHelmStandIn({ kube, helmVersion: version });
    await installArgoCd({ helm: createHelm({ run }), rollbackOnFailure: true, timeoutMs: 10_000 });
    const args = run.calls.find((c) => c.args[0] === "upgrade")!.args;
    expect(args).toContain(flag);
    expect(args).toContain("--wait");
    expect(args.some((a) => a.startsWith("--wait="))).toBe(false);
  });

  it("fails like Helm 3 does when given the Helm 4 spelling", async ({ expect }) => {
    const run = createHelmStandIn({ kube, helmVersion: "v3.21.4+g6f2e5b4" });
    const result = await run("helm", [
      "upgrade",
      "--install",
      "argocd",
      "oci://r/argo-cd",
      "--rollback-on-failure",
    ]);
    expect(result).toMatchObject({ exitCode: 1, stderr: "Error: unknown flag: --rollback-on-failure\n" });
  });

  it("refuses a version that is not pinned before running helm", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    const helm = createHelm({ run });
    for (const version of ["latest", "*", ">=10.0.0", "10.x", ""]) {
      await expect(
        helm.upgradeInstall({
          release: "argocd",
          namespace: "argocd",
          source: { type: "oci", ref: "oci://r/argo-cd" },
          version,
        }),
      ).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    }
    expect(run.calls).toEqual([]);
  });

  it("throws HELM_FAILED with the output tail when the chart version does not exist", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    const error = await installArgoCd({ helm: createHelm({ run }), chartVersion: "99.0.0" }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "HELM_FAILED", details: { exitCode: 1 } });
    expect((error as Error).message).toContain('Error: chart "argo-cd" version "99.0.0" not found');
    expect((error as Error).message).toContain("--- recovery ---");
  });

  it("throws HELM_FAILED when helm repo update fails", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    run.fail({ subcommand: "repo", stderr: "Error: looks like the repository is not reachable" });
    await expect(installArgoCd({ helm: createHelm({ run }) })).rejects.toMatchObject({ code: "HELM_FAILED" });
  });

  it("adds --kubeconfig and --kube-context to cluster calls when given", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    await installArgoCd({
      helm: createHelm({ run, kubeconfigPath: "/tmp/kc", kubeContext: "homelab" }),
      timeoutMs: 10_000,
    });
    const byCommand = Object.fromEntries(run.calls.map((c) => [c.args.slice(0, 2).join(" "), c.args]));
    expect(byCommand["upgrade --install"]?.slice(-4)).toEqual([
      "--kubeconfig",
      "/tmp/kc",
      "--kube-context",
      "homelab",
    ]);
    expect(byCommand["list --namespace"]).toContain("--kubeconfig");
    expect(byCommand["version --short"]).toEqual(["version", "--short"]);
    expect(byCommand["repo add"]).not.toContain("--kubeconfig");
  });

  it("reads the Helm major version once", async ({ expect }) => {
    const run = createHelmStandIn({ kube, helmVersion: "v4.2.4+gabc" });
    const helm = createHelm({ run });
    expect(await helm.version()).toEqual({ version: "v4.2.4+gabc", major: 4 });
    await helm.version();
    expect(run.calls.filter((c) => c.args[0] === "version")).toHaveLength(1);
  });
});

describe("upgradeArgoCd", () => {
  it("reports the chart version change before it runs the upgrade", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    const helm = createHelm({ run });
    await installArgoCd({ helm, chartVersion: "10.1.1", timeoutMs: 10_000 });
    const events: { event: ProgressEvent; upgradesSoFar: number }[] = [];
    const result = await upgradeArgoCd({
      helm,
      chartVersion: "10.4.0",
      kubeconfig: kube.kubeconfig,
      pollIntervalMs: 10,
      timeoutMs: 10_000,
      onProgress: (event) =>
        events.push({ event, upgradesSoFar: run.calls.filter((c) => c.args[0] === "upgrade").length }),
    });
    expect(result).toMatchObject({ from: "10.1.1", to: "10.4.0", changed: true, applied: true });
    const change = events.find((e) => e.event.type === "chart-version-change")!;
    expect(change.event).toMatchObject({
      message: "argo-cd chart 10.1.1 -> 10.4.0",
      from: "10.1.1",
      to: "10.4.0",
    });
    expect(change.upgradesSoFar).toBe(1);
    expect(result.rollouts?.every((r) => r.done)).toBe(true);
    const server = kube.get({
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: "argocd",
      name: "argocd-server",
    });
    expect(server?.metadata.generation).toBe(2);
  });

  it("changes nothing when confirm says no or on a dry run", async ({ expect }) => {
    const run = createHelmStandIn({ kube });
    const helm = createHelm({ run });
    await installArgoCd({ helm, chartVersion: "10.1.1", timeoutMs: 10_000 });
    const seen: unknown[] = [];
    const declined = await upgradeArgoCd({
      helm,
      chartVersion: "10.4.0",
      confirm: (change) => {
        seen.push(change);
        return false;
      },
    });
    const dry = await upgradeArgoCd({ helm, chartVersion: "10.4.0", dryRun: true });
    expect(seen).toEqual([{ from: "10.1.1", to: "10.4.0", changed: true }]);
    expect([declined.applied, dry.applied]).toEqual([false, false]);
    expect(run.calls.filter((c) => c.args[0] === "upgrade")).toHaveLength(1);
  });
});

describe("createHelmStandIn", () => {
  it("answers helm show chart from its repository index, and fails for a version it lacks", async ({
    expect,
  }) => {
    const run = createHelmStandIn({ kube });
    const repo = ["--repo", "https://argoproj.github.io/argo-helm"];
    const found = await run("helm", ["show", "chart", "argo-cd", ...repo, "--version", "10.4.0"]);
    expect(found).toMatchObject({ exitCode: 0, stdout: expect.stringContaining("version: 10.4.0\n") });
    const missing = await run("helm", ["show", "chart", "argo-cd", ...repo, "--version", "99.0.0"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe(
      'Error: chart "argo-cd" version "99.0.0" not found in https://argoproj.github.io/argo-helm repository\n',
    );
  });
});
