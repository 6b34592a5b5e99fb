import { stringify } from "yaml";
import { ArgoBootstrapError } from "./errors.js";
import { goDuration, isRecord, tail, throwIfAborted } from "./internal/util.js";
import type { ProcessResult, ProcessRunner } from "./process-runner.js";

/** Where a chart comes from: a classic Helm repository or an OCI registry. */
export type ChartSource =
  | {
      type: "repo";
      /** The chart repository URL. */
      repoURL: string;
      /** Local repo name for `helm repo add` (default `argo`). */
      repoName?: string;
      /** Chart name inside the repository (default `argo-cd`). */
      chart?: string;
      /** Use `--repo URL` on the install instead of `helm repo add` + `helm repo update`. */
      useRepoFlag?: boolean;
    }
  | {
      type: "oci";
      /** The full OCI chart reference, for example `oci://ghcr.io/argoproj/argo-helm/argo-cd`. */
      ref: string;
    };

/** A Helm release as `helm list -o json` reports it. */
export interface HelmRelease {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  /** `argo-cd-10.4.0` */
  chart: string;
  /** The version part of `chart` (`10.4.0`). */
  chartVersion: string;
  appVersion: string;
}

/** Options for {@link Helm.upgradeInstall}. */
export interface HelmUpgradeInstallOptions {
  release: string;
  namespace: string;
  source: ChartSource;
  /** Exact chart version; ranges and `latest` are refused. */
  version: string;
  /** Values, sent as YAML on stdin (`--values -`). */
  values?: Record<string, unknown>;
  /** Pass `--create-namespace` (default true). */
  createNamespace?: boolean;
  /** Pass `--wait` (default true). */
  wait?: boolean;
  /** Helm's `--timeout` (default 10 minutes). */
  timeoutMs?: number;
  /** Roll back a failed upgrade: `--atomic` on Helm 3, `--rollback-on-failure` on Helm 4. */
  rollbackOnFailure?: boolean;
  /** Helm 4 only: `--force-conflicts` for server-side apply conflicts. */
  forceConflicts?: boolean;
  signal?: AbortSignal;
}

/** A thin, typed Helm front end that runs the `helm` binary through a {@link ProcessRunner}. */
export interface Helm {
  /** The binary that is run. */
  readonly bin: string;
  /** `helm version --short`, parsed. Cached after the first success. */
  version(options?: { signal?: AbortSignal }): Promise<{ version: string; major: number }>;
  /**
   * `helm repo add NAME URL` without `--force-update`: an entry NAME with another URL is the user's and is
   * left alone (`conflict`); the same URL is `exists`.
   */
  repoAdd(options: {
    name: string;
    url: string;
    signal?: AbortSignal;
  }): Promise<"added" | "exists" | "conflict">;
  /** `helm repo update [NAME...]`. */
  repoUpdate(options?: { names?: string[]; signal?: AbortSignal }): Promise<void>;
  /** `helm upgrade --install`, returning the release afterwards. */
  upgradeInstall(options: HelmUpgradeInstallOptions): Promise<HelmRelease>;
  /** The release from `helm list`, or undefined when it does not exist. */
  getRelease(options: {
    release: string;
    namespace: string;
    signal?: AbortSignal;
  }): Promise<HelmRelease | undefined>;
  /** `helm get values RELEASE -o json` (user-supplied values only). */
  getValues(options: {
    release: string;
    namespace: string;
    signal?: AbortSignal;
  }): Promise<Record<string, unknown>>;
  /** `helm search repo REPO/CHART --versions -o json`: the versions the repository offers, newest first. */
  searchVersions(options: {
    repoName: string;
    chart: string;
    signal?: AbortSignal;
  }): Promise<{ version: string; appVersion: string }[]>;
  /** `helm rollback RELEASE [REVISION] --wait --timeout`, returning the release afterwards. */
  rollback(options: {
    release: string;
    namespace: string;
    /** Default: the previous revision. */
    revision?: number;
    timeoutMs?: number;
    signal?: AbortSignal;
  }): Promise<HelmRelease>;
  /** The argument list `upgradeInstall` would run (for display and recovery hints). */
  upgradeInstallArgs(options: HelmUpgradeInstallOptions & { helmMajor: number }): string[];
}

/** Options for {@link createHelm}. */
export interface CreateHelmOptions {
  /** How processes are run; {@link createProcessRunner} for the real binary. */
  run: ProcessRunner;
  /** The helm binary (default `helm`). */
  bin?: string;
  /** Extra environment for every helm call. */
  env?: Record<string, string>;
  /** Path of a kubeconfig file, passed as `--kubeconfig` on every call (the caller writes it, mode 0600). */
  kubeconfigPath?: string;
  /** Context name, passed as `--kube-context` on every call. */
  kubeContext?: string;
  /** Clock for telling a killed-at-the-deadline helm from a failing one (default `Date.now`). */
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const TIMEOUT_PATTERN = /timed out waiting for the condition|context deadline exceeded|timeout waiting for/i;

/**
 * Creates a {@link Helm} that runs `helm` through `run` with argument arrays (never a shell string).
 *
 * @example
 * ```ts
 * const helm = createHelm({ run: createProcessRunner() });
 * const { major } = await helm.version();
 * ```
 * @throws ArgoBootstrapError HELM_NOT_FOUND, HELM_FAILED, HELM_TIMEOUT, INVALID_OPTIONS
 */
export function createHelm(options: CreateHelmOptions): Helm {
  const bin = options.bin ?? "helm";
  const globalArgs: string[] = [];
  if (options.kubeconfigPath !== undefined) globalArgs.push("--kubeconfig", options.kubeconfigPath);
  if (options.kubeContext !== undefined) globalArgs.push("--kube-context", options.kubeContext);
  let cachedVersion: { version: string; major: number } | undefined;
  const now = options.now ?? Date.now;

  async function exec(
    args: string[],
    call: { signal?: AbortSignal | undefined; input?: string; timeoutMs?: number; recovery: string },
  ): Promise<ProcessResult> {
    throwIfAborted(call.signal);
    const started = now();
    let result: ProcessResult;
    try {
      result = await options.run(
        bin,
        args[0] === "version" || args[0] === "repo" ? args : [...args, ...globalArgs],
        {
          ...(options.env === undefined ? {} : { env: options.env }),
          ...(call.signal === undefined ? {} : { signal: call.signal }),
          ...(call.input === undefined ? {} : { input: call.input }),
          ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
        },
      );
    } catch (error) {
      throwIfAborted(call.signal);
      if ((error as { code?: unknown }).code === "ENOENT") {
        throw new ArgoBootstrapError(
          "HELM_NOT_FOUND",
          `helm was not found (tried to run "${bin}"). Install Helm 3 or 4 and make sure it is on PATH.`,
          {
            cause: error,
            details: { bin, recovery: "install helm (https://helm.sh/docs/intro/install/), then re-run" },
          },
        );
      }
      throw new ArgoBootstrapError("HELM_FAILED", `could not run ${bin}: ${(error as Error).message}`, {
        cause: error,
        details: { bin, command: display(bin, args), recovery: call.recovery },
      });
    }
    if (result.exitCode !== 0) {
      const output = tail(`${result.stdout}\n${result.stderr}`, 20);
      // A runner that kills helm at timeoutMs may not say so (ProcessResult.timedOut is optional).
      const killedAtDeadline = call.timeoutMs !== undefined && now() - started >= call.timeoutMs;
      const timedOut = result.timedOut === true || killedAtDeadline || TIMEOUT_PATTERN.test(result.stderr);
      const code = timedOut ? "HELM_TIMEOUT" : "HELM_FAILED";
      const what = timedOut ? "timed out" : `failed with exit code ${result.exitCode}`;
      throw new ArgoBootstrapError(
        code,
        `\`${display(bin, args)}\` ${what}.\n--- helm output (tail) ---\n${output}\n--- recovery ---\n${call.recovery}`,
        {
          details: {
            command: display(bin, args),
            exitCode: result.exitCode,
            outputTail: output,
            recovery: call.recovery,
          },
        },
      );
    }
    return result;
  }

  function upgradeInstallArgs(opts: HelmUpgradeInstallOptions & { helmMajor: number }): string[] {
    const chartRef = chartReference(opts.source);
    const args = ["upgrade", "--install", opts.release, chartRef.ref, "--namespace", opts.namespace];
    if (opts.createNamespace !== false) args.push("--create-namespace");
    args.push("--version", opts.version);
    if (chartRef.repoFlag !== undefined) args.push("--repo", chartRef.repoFlag);
    if (opts.values !== undefined) args.push("--values", "-");
    if (opts.wait !== false) args.push("--wait");
    args.push("--timeout", goDuration(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    if (opts.rollbackOnFailure === true)
      args.push(opts.helmMajor >= 4 ? "--rollback-on-failure" : "--atomic");
    if (opts.forceConflicts === true && opts.helmMajor >= 4) args.push("--force-conflicts");
    return args;
  }

  const helm: Helm = {
    bin,
    async version(call = {}) {
      if (cachedVersion !== undefined) return cachedVersion;
      const result = await exec(["version", "--short"], {
        signal: call.signal,
        recovery: "install Helm 3 or 4 and check that `helm version` works",
      });
      const match = /v?(\d+)\.(\d+)\.(\d+)[^\s]*/.exec(result.stdout.trim());
      if (match === null) {
        throw new ArgoBootstrapError(
          "HELM_FAILED",
          `could not read the Helm version from "${result.stdout.trim()}"`,
        );
      }
      const major = Number(match[1]);
      if (major < 3) {
        throw new ArgoBootstrapError("HELM_FAILED", `Helm ${match[0]} is too old: Helm 3 or 4 is needed`, {
          details: { version: match[0], recovery: "install Helm 3 or 4" },
        });
      }
      cachedVersion = { version: match[0].startsWith("v") ? match[0] : `v${match[0]}`, major };
      return cachedVersion;
    },
    async repoAdd({ name, url, signal }) {
      try {
        const result = await exec(["repo", "add", name, url], {
          signal,
          recovery: `check the repository URL and your network, then run \`${bin} repo add ${name} ${url}\``,
        });
        return /already exists with the same configuration/.test(result.stdout) ? "exists" : "added";
      } catch (error) {
        // helm/helm pkg/cmd/repo_add.go: a different entry under NAME is refused without --force-update
        const tailText = String((error as ArgoBootstrapError).details?.outputTail ?? "");
        if (/repository name \(.*\) already exists/.test(tailText)) return "conflict";
        throw error;
      }
    },
    async repoUpdate(call = {}) {
      await exec(["repo", "update", ...(call.names ?? [])], {
        signal: call.signal,
        recovery: `run \`${bin} repo update\` and check the repository is reachable`,
      });
    },
    async upgradeInstall(opts) {
      if (!isExactVersion(opts.version)) {
        throw new ArgoBootstrapError(
          "INVALID_OPTIONS",
          `chart version "${opts.version}" is not pinned: give one exact version such as 10.4.0 (no latest, *, or ranges)`,
          { details: { version: opts.version } },
        );
      }
      const { major } = await helm.version(opts.signal === undefined ? {} : { signal: opts.signal });
      const args = upgradeInstallArgs({ ...opts, helmMajor: major });
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const recovery = [
        `inspect: ${bin} status ${opts.release} -n ${opts.namespace}; kubectl -n ${opts.namespace} get pods`,
        `retry:   ${display(bin, args).replace("--values -", "--values <values.yaml>")}`,
        `roll back a failed upgrade: ${bin} rollback ${opts.release} -n ${opts.namespace}`,
      ].join("\n");
      await exec(args, {
        signal: opts.signal,
        timeoutMs: timeoutMs + 60_000,
        ...(opts.values === undefined ? {} : { input: stringify(opts.values, { version: "1.1" }) }),
        recovery,
      });
      const release = await helm.getRelease({
        release: opts.release,
        namespace: opts.namespace,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      if (release === undefined) {
        throw new ArgoBootstrapError(
          "HELM_FAILED",
          `helm reported success but release ${opts.release} is not listed in ${opts.namespace}`,
          { details: { recovery } },
        );
      }
      return release;
    },
    async getRelease({ release, namespace, signal }) {
      // Helm 3 lists only deployed and failed releases unless --all; Helm 4 lists every state and has no
      // --all (helm/helm v4.2.4 pkg/cmd/list.go, pkg/action/list.go).
      const { major } = await helm.version(signal === undefined ? {} : { signal });
      const result = await exec(
        [
          "list",
          "--namespace",
          namespace,
          "--filter",
          `^${release}$`,
          ...(major < 4 ? ["--all"] : []),
          "--output",
          "json",
        ],
        {
          signal,
          recovery: `check cluster access: ${bin} list -n ${namespace}`,
        },
      );
      let parsed: unknown;
      try {
        parsed = JSON.parse(result.stdout.trim() === "" ? "[]" : result.stdout);
      } catch (error) {
        throw new ArgoBootstrapError("HELM_FAILED", "helm list did not return JSON", { cause: error });
      }
      if (!Array.isArray(parsed)) return undefined;
      const found = parsed.find(
        (item): item is Record<string, unknown> => isRecord(item) && item.name === release,
      );
      if (found === undefined) return undefined;
      const chart = String(found.chart ?? "");
      const versionMatch = /-(v?\d+\.\d+\.\d+[^\s]*)$/.exec(chart);
      return {
        name: String(found.name),
        namespace: String(found.namespace ?? namespace),
        revision: Number(found.revision ?? 0),
        status: String(found.status ?? "unknown"),
        chart,
        chartVersion: versionMatch?.[1] ?? "",
        appVersion: String(found.app_version ?? ""),
      };
    },
    async getValues({ release, namespace, signal }) {
      const result = await exec(["get", "values", release, "--namespace", namespace, "--output", "json"], {
        signal,
        recovery: `${bin} get values ${release} -n ${namespace}`,
      });
      const text = result.stdout.trim();
      if (text === "" || text === "null") return {};
      const parsed: unknown = JSON.parse(text);
      return isRecord(parsed) ? parsed : {};
    },
    async searchVersions({ repoName, chart, signal }) {
      const result = await exec(
        ["search", "repo", `${repoName}/${chart}`, "--versions", "--output", "json"],
        {
          signal,
          recovery: `${bin} repo update ${repoName}; ${bin} search repo ${repoName}/${chart} --versions`,
        },
      );
      const parsed: unknown = JSON.parse(result.stdout.trim() === "" ? "[]" : result.stdout);
      return (Array.isArray(parsed) ? parsed : [])
        .filter(isRecord)
        .filter((item) => item.name === `${repoName}/${chart}`)
        .map((item) => ({ version: String(item.version ?? ""), appVersion: String(item.app_version ?? "") }));
    },
    async rollback(opts) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const args = ["rollback", opts.release];
      if (opts.revision !== undefined) args.push(String(opts.revision));
      args.push("--namespace", opts.namespace, "--wait", "--timeout", goDuration(timeoutMs));
      await exec(args, {
        signal: opts.signal,
        timeoutMs: timeoutMs + 60_000,
        recovery: `inspect: ${bin} history ${opts.release} -n ${opts.namespace}`,
      });
      const release = await helm.getRelease({
        release: opts.release,
        namespace: opts.namespace,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      if (release === undefined)
        throw new ArgoBootstrapError(
          "NOT_FOUND",
          `release ${opts.release} is not listed in ${opts.namespace}`,
        );
      return release;
    },
    upgradeInstallArgs,
  };
  return helm;
}

function chartReference(source: ChartSource): { ref: string; repoFlag?: string } {
  if (source.type === "oci") {
    if (!source.ref.startsWith("oci://")) {
      throw new ArgoBootstrapError(
        "INVALID_OPTIONS",
        `an OCI chart reference must start with oci:// (got "${source.ref}")`,
      );
    }
    return { ref: source.ref };
  }
  const chart = source.chart ?? "argo-cd";
  if (source.useRepoFlag === true) return { ref: chart, repoFlag: source.repoURL };
  return { ref: `${source.repoName ?? "argo"}/${chart}` };
}

function isExactVersion(version: string): boolean {
  return /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version);
}

function display(bin: string, args: string[]): string {
  return [bin, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}
