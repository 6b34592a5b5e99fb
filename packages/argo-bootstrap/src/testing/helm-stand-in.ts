import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { isRecord } from "../internal/util.js";
import type { ProcessResult, ProcessRunner, ProcessRunOptions } from "../process-runner.js";
import { type FlagSet, helmFlagSet } from "./helm-flags.js";
import type { KubeEmulator } from "./kube-emulator.js";

/** A recorded helm call. */
export interface HelmStandInCall {
  command: string;
  args: string[];
  /** stdin text, when any was given. */
  input?: string;
  exitCode: number;
}

/** A scripted failure for one helm subcommand. */
export interface HelmStandInFailure {
  /** `upgrade`, `repo`, `version`, `list` or `get`. */
  subcommand: string;
  stderr?: string;
  exitCode?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

/** Options for {@link createHelmStandIn}. */
export interface HelmStandInOptions {
  /** The emulator the releases are installed into. */
  kube: KubeEmulator;
  /**
   * What `helm version --short` says (default `v4.2.4+g1a2b3c4`, Helm 4). A `v3.` version switches to Helm 3:
   * its flag sets, `helm list` showing only deployed and failed releases unless `--all`, boolean `--wait`.
   */
  helmVersion?: string;
  /** Behave as if helm were not installed (the call rejects with code ENOENT). */
  missing?: boolean;
  /** Chart versions the stand-in repository knows, mapped to their appVersion. */
  chartVersions?: Record<string, string>;
  /** CRD documents to install (default: small stand-ins for the three Argo CD CRDs without schemas). */
  crds?: Record<string, unknown>[];
  /** Milliseconds between --wait checks (default 20). */
  pollMs?: number;
}

/** A {@link ProcessRunner} that behaves like `helm` for the calls this package makes. */
export type HelmStandIn = ProcessRunner & {
  calls: HelmStandInCall[];
  /** Script a failure for the next call(s) of a subcommand. */
  fail(failure: HelmStandInFailure): void;
};

const DEFAULT_CHARTS: Record<string, string> = {
  "9.4.0": "v3.2.0",
  "10.1.1": "v3.4.4",
  "10.4.0": "v3.5.1",
  "10.4.2": "v3.5.1",
};

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

/**
 * Creates a helm stand-in: `version`, `repo add`, `repo update`, `upgrade --install` (with `--values -`
 * on stdin, `--create-namespace`, `--version`, `--wait`, `--timeout`, `--repo`, OCI references),
 * `list -o json`, `get values -o json` and `status`. An install puts the Argo CD objects (CRDs,
 * Deployments, the application-controller StatefulSet, ConfigMaps, Secrets) into the emulator and keeps
 * the release in a `sh.helm.release.v1.*` Secret, as Helm does. Helm 3 and Helm 4 spellings are told
 * apart (`--atomic` vs `--rollback-on-failure`, `--wait=watcher`, `--force-conflicts`).
 */
export function createHelmStandIn(options: HelmStandInOptions): HelmStandIn {
  const kube = options.kube;
  const helmVersion = options.helmVersion ?? "v4.2.4+g1a2b3c4";
  const major: 3 | 4 = Number(/^v?(\d+)/.exec(helmVersion)?.[1] ?? "4") >= 4 ? 4 : 3;
  const charts = options.chartVersions ?? DEFAULT_CHARTS;
  const pollMs = options.pollMs ?? 20;
  const repos = new Map<string, string>();
  const failures: (HelmStandInFailure & { remaining: number })[] = [];
  const calls: HelmStandInCall[] = [];

  const ok = (stdout: string, stderr = ""): ProcessResult => ({ exitCode: 0, stdout, stderr });
  const err = (stderr: string, exitCode = 1): ProcessResult => ({
    exitCode,
    stdout: "",
    stderr: `${stderr}\n`,
  });

  async function run(
    command: string,
    args: string[],
    runOptions: ProcessRunOptions = {},
  ): Promise<ProcessResult> {
    if (options.missing === true) {
      throw Object.assign(new Error(`spawn ${command} ENOENT`), {
        code: "ENOENT",
        errno: -2,
        syscall: `spawn ${command}`,
        path: command,
      });
    }
    const commandPath = commandOf(args);
    const flagSet = helmFlagSet(major, commandPath);
    if (flagSet === undefined) return err(`Error: unknown command "${commandPath}" for "helm"`);
    const parsed = parseArgs(args, flagSet);
    if (parsed instanceof Error) return err(`Error: ${parsed.message}`);
    const subcommand = parsed.positional[0] ?? "";
    const failure = failures.find((f) => f.subcommand === subcommand && f.remaining > 0);
    if (failure !== undefined) {
      failure.remaining -= 1;
      return err(failure.stderr ?? `Error: ${subcommand} failed`, failure.exitCode ?? 1);
    }
    const namespace = last(parsed, "--namespace") ?? "default";
    switch (subcommand) {
      case "version":
        return ok(`${helmVersion}\n`);
      case "repo":
        return repo(parsed);
      case "list":
        return ok(`${JSON.stringify(listReleases(namespace, last(parsed, "--filter"), statesOf(parsed)))}\n`);
      case "search":
        return search(parsed);
      case "rollback":
        return rollback(parsed, namespace, runOptions);
      case "history":
        return history(parsed, namespace);
      case "get": {
        if (parsed.positional[1] !== "values")
          return err(`Error: unknown command "${parsed.positional[1] ?? ""}" for "helm get"`);
        const release = latestRelease(namespace, parsed.positional[2] ?? "");
        if (release === undefined) return err("Error: release: not found");
        return ok(`${JSON.stringify(release.values ?? null)}\n`);
      }
      case "status": {
        const release = latestRelease(namespace, parsed.positional[1] ?? "");
        if (release === undefined) return err("Error: release: not found");
        return ok(
          `NAME: ${release.name}\nNAMESPACE: ${namespace}\nSTATUS: ${release.status}\nREVISION: ${release.revision}\n`,
        );
      }
      case "upgrade":
        return upgrade(parsed, namespace, runOptions);
      case "show":
        return show(parsed);
      default:
        return err(`Error: unknown command "${subcommand}" for "helm"`);
    }
  }

  // `helm show chart <chart> --repo URL --version V`: Chart.yaml of that version from the repo index
  function show(parsed: ParsedArgs): ProcessResult {
    const [, what, chartRef = ""] = parsed.positional;
    if (what !== "chart") return err(`Error: unknown command "${what ?? ""}" for "helm show"`);
    const source = last(parsed, "--repo") ?? repos.get(chartRef.split("/")[0] ?? "");
    const chartName = last(parsed, "--repo") !== undefined ? chartRef : (chartRef.split("/")[1] ?? chartRef);
    if (source === undefined) return err(`Error: repo ${chartRef.split("/")[0]} not found`);
    if (chartName !== "argo-cd") return err(`Error: chart "${chartName}" not found in ${source} repository`);
    const version = last(parsed, "--version") ?? Object.keys(charts).at(-1)!;
    const appVersion = charts[version];
    if (appVersion === undefined)
      return err(`Error: chart "${chartName}" version "${version}" not found in ${source} repository`);
    return ok(`apiVersion: v2\nappVersion: ${appVersion}\nname: ${chartName}\nversion: ${version}\n`);
  }

  function repo(parsed: ParsedArgs): ProcessResult {
    const action = parsed.positional[1];
    if (action === "add") {
      const [, , name, url] = parsed.positional;
      if (name === undefined || url === undefined) return err('Error: "helm repo add" requires 2 arguments');
      if (repos.has(name) && repos.get(name) !== url && !parsed.flags.has("--force-update")) {
        return err(`Error: repository name (${name}) already exists, please specify a different name`);
      }
      const existed = repos.get(name) === url;
      repos.set(name, url);
      return ok(
        existed
          ? `"${name}" already exists with the same configuration, skipping\n`
          : `"${name}" has been added to your repositories\n`,
      );
    }
    if (action === "list") {
      if (repos.size === 0) return err("Error: no repositories to show");
      return ok(`${JSON.stringify([...repos].map(([name, url]) => ({ name, url })))}\n`);
    }
    if (action === "update") {
      const names = parsed.positional.slice(2);
      if (repos.size === 0) return err("Error: no repositories found. You must add one before updating");
      for (const name of names)
        if (!repos.has(name))
          return err(`Error: no repositories found matching '${name}'.  Nothing will be updated`);
      const updated = names.length > 0 ? names : [...repos.keys()];
      return ok(
        `Hang tight while we grab the latest from your chart repositories...\n${updated.map((n) => `...Successfully got an update from the "${n}" chart repository\n`).join("")}Update Complete. ⎈Happy Helming!⎈\n`,
      );
    }
    return err(`Error: unknown command "${action ?? ""}" for "helm repo"`);
  }

  /** The --wait strategy: Helm 3 has a boolean (legacy waiter); Helm 4 a strategy, `--wait` alone = watcher. */
  function waitMode(parsed: ParsedArgs): "none" | "legacy" | "watcher" | Error {
    const value = parsed.flags.get("--wait")?.at(-1);
    if (major < 4) {
      if (value === undefined) return parsed.flags.has("--atomic") ? "legacy" : "none";
      return value === "false" ? "none" : "legacy";
    }
    // helm/helm v4.2.4 pkg/cmd/flags.go waitValue.Set; --rollback-on-failure defaults the strategy to watcher
    if (value === undefined)
      return parsed.flags.has("--rollback-on-failure") || parsed.flags.has("--atomic") ? "watcher" : "none";
    if (value === "" || value === "watcher" || value === "true") return "watcher";
    if (value === "legacy") return "legacy";
    if (value === "hookOnly" || value === "false") return "none";
    return new Error(
      `invalid argument "${value}" for "--wait" flag: invalid wait input "${value}". Valid inputs are watcher, hookOnly, and legacy`,
    );
  }

  /** Release states `helm list` shows: Helm 3 deployed+failed unless --all, Helm 4 every state (pkg/action/list.go). */
  function statesOf(parsed: ParsedArgs): Set<string> | undefined {
    const picked = ["deployed", "failed", "pending", "superseded", "uninstalled", "uninstalling"].filter(
      (s) => parsed.flags.has(`--${s}`),
    );
    if (picked.length > 0) {
      const states = new Set(picked);
      if (states.has("pending"))
        for (const p of ["pending-install", "pending-upgrade", "pending-rollback"]) states.add(p);
      return states;
    }
    if (major >= 4 || parsed.flags.has("--all")) return undefined;
    return new Set(["deployed", "failed"]);
  }

  function search(parsed: ParsedArgs): ProcessResult {
    if (parsed.positional[1] !== "repo")
      return err(`Error: unknown command "${parsed.positional[1] ?? ""}" for "helm search"`);
    const term = parsed.positional[2] ?? "";
    const [repoName] = term.split("/");
    if (repos.size === 0) return err("Error: no repositories configured");
    const url = repos.get(repoName ?? "");
    const entries = Object.entries(charts)
      .map(([version, appVersion]) => ({
        name: `${repoName}/argo-cd`,
        version,
        app_version: appVersion,
        description:
          "A Helm chart for Argo CD, a declarative, GitOps continuous delivery tool for Kubernetes.",
      }))
      .filter(() => url !== undefined && (term === `${repoName}/argo-cd` || term === repoName))
      .sort((a, b) => compareVersions(b.version, a.version));
    const shown = parsed.flags.has("--versions") ? entries : entries.slice(0, 1);
    return ok(`${JSON.stringify(shown)}\n`);
  }

  async function rollback(
    parsed: ParsedArgs,
    namespace: string,
    runOptions: ProcessRunOptions,
  ): Promise<ProcessResult> {
    const releaseName = parsed.positional[1];
    if (releaseName === undefined) return err('Error: "helm rollback" requires at least 1 argument');
    const current = latestRelease(namespace, releaseName);
    if (current === undefined) return err("Error: release: not found");
    const wanted = parsed.positional[2] === undefined ? current.revision - 1 : Number(parsed.positional[2]);
    const target = releaseRevision(namespace, releaseName, wanted);
    if (target === undefined) return err(`Error: release has no ${wanted} version`);
    const wait = waitMode(parsed);
    if (wait instanceof Error) return err(`Error: ${wait.message}`);
    const version = target.chart.replace(/^argo-cd-/, "");
    for (const object of argoCdObjects(
      namespace,
      releaseName,
      version,
      target.appVersion,
      target.values,
      options.crds,
    ))
      kube.apply(object, { fieldManager: "helm" });
    if (wait !== "none") {
      const timeoutMs = parseDuration(last(parsed, "--timeout") ?? "5m") ?? 300_000;
      const waited = await waitReady(
        namespace,
        releaseName,
        wait,
        Math.min(timeoutMs, runOptions.timeoutMs ?? timeoutMs),
        runOptions.signal,
      );
      if (waited !== true) return err("Error: context deadline exceeded");
    }
    storeRelease(namespace, { ...target, revision: current.revision + 1, status: "deployed" });
    return ok("Rollback was a success! Happy Helming!\n");
  }

  function history(parsed: ParsedArgs, namespace: string): ProcessResult {
    const releaseName = parsed.positional[1] ?? "";
    const revisions = allRevisions(namespace, releaseName);
    if (revisions.length === 0) return err("Error: release: not found");
    return ok(
      `${JSON.stringify(
        revisions.map((r) => ({
          revision: r.revision,
          updated: r.updated,
          status: r.status,
          chart: r.chart,
          app_version: r.appVersion,
          description: r.status === "deployed" ? "Upgrade complete" : "Superseded",
        })),
      )}\n`,
    );
  }

  async function upgrade(
    parsed: ParsedArgs,
    namespace: string,
    runOptions: ProcessRunOptions,
  ): Promise<ProcessResult> {
    const [, releaseName, chartRef] = parsed.positional;
    // flag values are checked while parsing, before anything else runs
    const wait = waitMode(parsed);
    if (wait instanceof Error) return err(`Error: ${wait.message}`);
    if (releaseName === undefined || chartRef === undefined)
      return err('Error: "helm upgrade" requires 2 arguments');
    if (!parsed.flags.has("--install")) {
      if (latestRelease(namespace, releaseName) === undefined)
        return err(`Error: UPGRADE FAILED: "${releaseName}" has no deployed releases`);
    }
    let chartName: string;
    let source: string;
    if (chartRef.startsWith("oci://")) {
      chartName = chartRef.split("/").at(-1) ?? "";
      source = chartRef;
    } else if (last(parsed, "--repo") !== undefined) {
      chartName = chartRef;
      source = last(parsed, "--repo")!;
    } else {
      const [repoName, name] = chartRef.split("/");
      if (name === undefined || !repos.has(repoName!)) {
        return err(`Error: repo ${repoName ?? chartRef} not found`);
      }
      chartName = name;
      source = repos.get(repoName!)!;
    }
    if (chartName !== "argo-cd") return err(`Error: chart "${chartName}" not found in ${source} repository`);
    const versions = Object.keys(charts);
    const version = last(parsed, "--version") ?? versions.at(-1)!;
    const appVersion = charts[version];
    if (appVersion === undefined)
      return err(`Error: chart "${chartName}" version "${version}" not found in ${source} repository`);

    let values: Record<string, unknown> = {};
    for (const file of parsed.flags.get("--values") ?? []) {
      let text: string;
      if (file === "-") text = runOptions.input ?? "";
      else {
        try {
          text = await readFile(file, "utf8");
        } catch {
          return err(`Error: open ${file}: no such file or directory`);
        }
      }
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch (error) {
        return err(`Error: failed to parse ${file === "-" ? "stdin" : file}: ${(error as Error).message}`);
      }
      if (doc !== null && doc !== undefined && !isRecord(doc))
        return err(`Error: failed to parse ${file}: values must be a map`);
      values = deepMerge(values, isRecord(doc) ? doc : {});
    }
    for (const assignment of parsed.flags.get("--set") ?? []) {
      const eq = assignment.indexOf("=");
      if (eq < 0) return err(`Error: failed parsing --set data: key "${assignment}" has no value`);
      values = deepMerge(values, nest(assignment.slice(0, eq).split("."), scalar(assignment.slice(eq + 1))));
    }

    if (kube.get({ apiVersion: "v1", kind: "Namespace", name: namespace }) === undefined) {
      if (!parsed.flags.has("--create-namespace"))
        return err(
          `Error: INSTALLATION FAILED: create: failed to create: namespaces "${namespace}" not found`,
        );
      kube.apply(
        { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
        { fieldManager: "helm" },
      );
    }
    const previous = latestRelease(namespace, releaseName);
    const isInstall = previous === undefined || previous.status === "uninstalled";
    const revision = (previous?.revision ?? 0) + 1;
    const objects = argoCdObjects(namespace, releaseName, version, appVersion, values, options.crds);
    for (const object of objects) kube.apply(object, { fieldManager: "helm" });
    if (previous !== undefined) {
      const keep = new Set(
        objects.map((o) => `${String(o.kind)}/${String((o.metadata as Record<string, unknown>).name)}`),
      );
      for (const kind of ["Deployment", "StatefulSet"]) {
        for (const existing of kube.list({ apiVersion: "apps/v1", kind, namespace })) {
          const labels = isRecord(existing.metadata.labels) ? existing.metadata.labels : {};
          if (
            labels["app.kubernetes.io/instance"] === releaseName &&
            !keep.has(`${kind}/${existing.metadata.name}`)
          ) {
            kube.delete({ apiVersion: "apps/v1", kind, namespace, name: existing.metadata.name });
          }
        }
      }
    }
    const timeoutMs = parseDuration(last(parsed, "--timeout") ?? "5m");
    if (timeoutMs === undefined)
      return err(
        `Error: invalid argument "${last(parsed, "--timeout") ?? ""}" for "--timeout" flag: time: invalid duration`,
      );
    const verb = isInstall ? "INSTALLATION FAILED" : "UPGRADE FAILED";
    if (wait !== "none") {
      const waited = await waitReady(
        namespace,
        releaseName,
        wait,
        Math.min(timeoutMs, runOptions.timeoutMs ?? timeoutMs),
        runOptions.signal,
      );
      if (waited !== true) {
        storeRelease(namespace, {
          name: releaseName,
          revision,
          status: "failed",
          chart: `argo-cd-${version}`,
          appVersion,
          values,
        });
        // helm/helm v4.2.4 pkg/kube/statuswait.go: one "resource K/NS/N not ready" line per resource, then the context error
        const detail =
          major >= 4
            ? `resource ${waited.kind}/${namespace}/${waited.name} not ready. status: InProgress, message: Available: 0/1\n`
            : "";
        if (parsed.flags.has("--atomic") || parsed.flags.has("--rollback-on-failure")) {
          return err(`Error: ${verb}: ${detail}context deadline exceeded (rolled back)`);
        }
        return err(`Error: ${verb}: ${detail}context deadline exceeded`);
      }
    }
    storeRelease(namespace, {
      name: releaseName,
      revision,
      status: "deployed",
      chart: `argo-cd-${version}`,
      appVersion,
      values,
    });
    const head = isInstall
      ? `Release "${releaseName}" does not exist. Installing it now.\n`
      : `Release "${releaseName}" has been upgraded. Happy Helming!\n`;
    const warning =
      major >= 4 && parsed.flags.has("--atomic")
        ? 'Flag --atomic has been deprecated, use "--rollback-on-failure" instead\n'
        : "";
    return ok(
      `${head}NAME: ${releaseName}\nLAST DEPLOYED: ${new Date().toUTCString()}\nNAMESPACE: ${namespace}\nSTATUS: deployed\nREVISION: ${revision}\nTEST SUITE: None\n`,
      warning,
    );
  }

  async function waitReady(
    namespace: string,
    releaseName: string,
    mode: "legacy" | "watcher",
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<true | { kind: string; name: string }> {
    const started = Date.now();
    for (;;) {
      let pending: { kind: string; name: string } | undefined;
      for (const kind of ["Deployment", "StatefulSet"]) {
        for (const object of kube.list({ apiVersion: "apps/v1", kind, namespace })) {
          const labels = isRecord(object.metadata.labels) ? object.metadata.labels : {};
          if (labels["app.kubernetes.io/instance"] !== releaseName) continue;
          if (!workloadReady(object, mode)) pending ??= { kind, name: object.metadata.name };
        }
      }
      if (pending === undefined) return true;
      if (signal?.aborted === true || Date.now() - started >= timeoutMs) return pending;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  function listReleases(
    namespace: string,
    filter: string | undefined,
    states: Set<string> | undefined,
  ): Record<string, unknown>[] {
    const pattern = filter === undefined ? undefined : new RegExp(filter);
    const latest = new Map<string, StoredRelease>();
    for (const secret of kube.list({ apiVersion: "v1", kind: "Secret", namespace })) {
      if (secret.type !== "helm.sh/release.v1") continue;
      const release = decodeRelease(secret);
      if (release === undefined) continue;
      if (pattern !== undefined && !pattern.test(release.name)) continue;
      const seen = latest.get(release.name);
      if (seen === undefined || seen.revision < release.revision) latest.set(release.name, release);
    }
    return [...latest.values()]
      .filter((r) => states === undefined || states.has(r.status))
      .map((r) => ({
        name: r.name,
        namespace,
        revision: String(r.revision),
        updated: r.updated,
        status: r.status,
        chart: r.chart,
        app_version: r.appVersion,
      }));
  }

  function allRevisions(namespace: string, name: string): StoredRelease[] {
    const found: StoredRelease[] = [];
    for (const secret of kube.list({ apiVersion: "v1", kind: "Secret", namespace })) {
      if (secret.type !== "helm.sh/release.v1") continue;
      const release = decodeRelease(secret);
      if (release?.name === name) found.push(release);
    }
    return found.sort((a, b) => a.revision - b.revision);
  }

  function latestRelease(namespace: string, name: string): StoredRelease | undefined {
    return allRevisions(namespace, name).at(-1);
  }

  function releaseRevision(namespace: string, name: string, revision: number): StoredRelease | undefined {
    return allRevisions(namespace, name).find((r) => r.revision === revision);
  }

  function storeRelease(namespace: string, release: Omit<StoredRelease, "updated">): void {
    for (const secret of kube.list({ apiVersion: "v1", kind: "Secret", namespace })) {
      const old = secret.type === "helm.sh/release.v1" ? decodeRelease(secret) : undefined;
      if (old?.name === release.name && old.status === "deployed") {
        writeRelease(namespace, { ...old, status: "superseded" });
      }
    }
    writeRelease(namespace, { ...release, updated: new Date().toISOString() });
  }

  function writeRelease(namespace: string, release: StoredRelease): void {
    kube.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: `sh.helm.release.v1.${release.name}.v${release.revision}`,
          namespace,
          labels: {
            name: release.name,
            owner: "helm",
            status: release.status,
            version: String(release.revision),
          },
        },
        type: "helm.sh/release.v1",
        data: { release: Buffer.from(JSON.stringify(release)).toString("base64") },
      },
      { fieldManager: "helm" },
    );
  }

  const runner = Object.assign(
    async (command: string, args: string[], runOptions?: ProcessRunOptions): Promise<ProcessResult> => {
      const call: HelmStandInCall = { command, args: [...args], exitCode: -1 };
      if (runOptions?.input !== undefined) call.input = runOptions.input;
      calls.push(call);
      const result = await run(command, args, runOptions);
      call.exitCode = result.exitCode;
      return result;
    },
    {
      calls,
      fail(failure: HelmStandInFailure) {
        failures.push({ ...failure, remaining: failure.times ?? 1 });
      },
    },
  );
  return runner;
}

interface StoredRelease {
  name: string;
  revision: number;
  status: string;
  chart: string;
  appVersion: string;
  values: Record<string, unknown>;
  updated: string;
}

function decodeRelease(secret: Record<string, unknown>): StoredRelease | undefined {
  const data = isRecord(secret.data) ? secret.data : {};
  if (typeof data.release !== "string") return undefined;
  try {
    return JSON.parse(Buffer.from(data.release, "base64").toString("utf8")) as StoredRelease;
  } catch {
    return undefined;
  }
}

function workloadReady(object: Record<string, unknown>, mode: "legacy" | "watcher"): boolean {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const spec = isRecord(object.spec) ? object.spec : {};
  const status = isRecord(object.status) ? object.status : {};
  const want = typeof spec.replicas === "number" ? spec.replicas : 1;
  const n = (v: unknown): number => (typeof v === "number" ? v : 0);
  if (n(status.observedGeneration) < n(metadata.generation)) return false;
  if (object.kind === "StatefulSet") {
    return n(status.readyReplicas) >= want && n(status.updatedReplicas) >= want;
  }
  if (mode === "legacy") {
    // Helm 3: ready when the new ReplicaSet has at least replicas - maxUnavailable ready pods.
    const maxUnavailable = Math.floor(want * 0.25);
    return n(status.updatedReplicas) >= want && n(status.readyReplicas) >= want - maxUnavailable;
  }
  return (
    n(status.updatedReplicas) === want && n(status.availableReplicas) === want && n(status.replicas) === want
  );
}

/** The command path the flag set belongs to: `list`, `upgrade`, `repo add`, `get values`, `search repo`. */
function commandOf(args: string[]): string {
  const words = args.filter((a) => !a.startsWith("-"));
  const [first = "", second = ""] = words;
  return ["repo", "get", "search", "show"].includes(first) ? `${first} ${second}` : first;
}

/** Parses like cobra/pflag: unknown flags and missing values are errors with pflag's wording. */
function parseArgs(args: string[], flagSet: FlagSet): ParsedArgs | Error {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (flag: string, value: string): void => {
    flags.set(flag, [...(flags.get(flag) ?? []), value]);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const written = eq >= 0 ? arg.slice(0, eq) : arg;
    let name: string;
    if (written.startsWith("--")) {
      name = written.slice(2);
      if (flagSet.flags[name] === undefined) return new Error(`unknown flag: ${written}`);
    } else {
      const letter = written.slice(1, 2);
      const long = flagSet.short[letter];
      if (long === undefined) return new Error(`unknown shorthand flag: '${letter}' in ${written}`);
      name = long;
      if (written.length > 2 && eq < 0) {
        // -nargocd: the rest of the word is the value
        add(`--${name}`, written.slice(2));
        continue;
      }
    }
    const kind = flagSet.flags[name]!;
    if (eq >= 0) {
      const value = arg.slice(eq + 1);
      if (
        kind === "bool" &&
        !["true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False"].includes(value)
      )
        return new Error(
          `invalid argument "${value}" for "${written}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`,
        );
      add(`--${name}`, value);
    } else if (kind === "value") {
      const value = args[i + 1];
      if (value === undefined)
        return new Error(
          written.startsWith("--")
            ? `flag needs an argument: ${written}`
            : `flag needs an argument: '${name.slice(0, 1)}' in ${written}`,
        );
      add(`--${name}`, value);
      i++;
    } else add(`--${name}`, "");
  }
  return { positional, flags };
}

function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, "").split(/[.-]/).map(Number);
  const pb = b.replace(/^v/, "").split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function last(parsed: ParsedArgs, ...names: string[]): string | undefined {
  for (const name of names) {
    const values = parsed.flags.get(name);
    if (values !== undefined && values.length > 0) return values.at(-1);
  }
  return undefined;
}

function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isRecord(v) && isRecord(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

function nest(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
}

function scalar(text: string): unknown {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?\d+$/.test(text)) return Number(text);
  return text;
}

function get(values: Record<string, unknown>, path: string): unknown {
  let current: unknown = values;
  for (const part of path.split(".")) current = isRecord(current) ? current[part] : undefined;
  return current;
}

function argoCdObjects(
  namespace: string,
  release: string,
  version: string,
  appVersion: string,
  values: Record<string, unknown>,
  crds: Record<string, unknown>[] | undefined,
): Record<string, unknown>[] {
  const checksum = createHash("sha256").update(JSON.stringify(values)).digest("hex");
  const labels = (component: string): Record<string, string> => ({
    "app.kubernetes.io/instance": release,
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/name": `argocd-${component}`,
    "app.kubernetes.io/part-of": "argocd",
    "app.kubernetes.io/version": appVersion,
    "helm.sh/chart": `argo-cd-${version}`,
  });
  const workload = (
    kind: "Deployment" | "StatefulSet",
    component: string,
    replicas: unknown,
  ): Record<string, unknown> => ({
    apiVersion: "apps/v1",
    kind,
    metadata: { name: `argocd-${component}`, namespace, labels: labels(component) },
    spec: {
      replicas: typeof replicas === "number" ? replicas : 1,
      selector: {
        matchLabels: {
          "app.kubernetes.io/name": `argocd-${component}`,
          "app.kubernetes.io/instance": release,
        },
      },
      ...(kind === "StatefulSet" ? { serviceName: `argocd-${component}` } : {}),
      template: {
        metadata: {
          labels: labels(component),
          annotations: { "checksum/values": checksum },
        },
        spec: { containers: [{ name: component, image: `argoproj/argocd:${appVersion}` }] },
      },
    },
  });
  const out: Record<string, unknown>[] = [];
  if (get(values, "crds.install") !== false) out.push(...(crds ?? defaultCrds()));
  const cm = get(values, "configs.cm");
  const cmData: Record<string, string> = { "admin.enabled": "true", "timeout.reconciliation": "180s" };
  if (isRecord(cm))
    for (const [k, v] of Object.entries(cm)) cmData[k] = typeof v === "string" ? v : JSON.stringify(v);
  out.push({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "argocd-cm", namespace, labels: labels("cm") },
    data: cmData,
  });
  const params = get(values, "configs.params");
  out.push({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "argocd-cmd-params-cm", namespace, labels: labels("cmd-params-cm") },
    data: isRecord(params) ? Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) : {},
  });
  out.push({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "argocd-rbac-cm", namespace, labels: labels("rbac-cm") },
    data: {},
  });
  const adminPassword = get(values, "configs.secret.argocdServerAdminPassword");
  out.push({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "argocd-secret", namespace, labels: labels("secret") },
    type: "Opaque",
    data:
      typeof adminPassword === "string"
        ? { "admin.password": Buffer.from(adminPassword).toString("base64") }
        : {},
  });
  out.push({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "argocd-server", namespace, labels: labels("server") },
    spec: {
      type: get(values, "server.service.type") ?? "ClusterIP",
      ports: [
        { name: "http", port: 80, targetPort: 8080 },
        { name: "https", port: 443, targetPort: 8080 },
      ],
    },
  });
  out.push(workload("Deployment", "server", get(values, "server.replicas")));
  out.push(workload("Deployment", "repo-server", get(values, "repoServer.replicas")));
  out.push(workload("Deployment", "redis", 1));
  out.push(workload("Deployment", "applicationset-controller", get(values, "applicationSet.replicas")));
  if (get(values, "dex.enabled") !== false) out.push(workload("Deployment", "dex-server", 1));
  if (get(values, "notifications.enabled") !== false)
    out.push(workload("Deployment", "notifications-controller", 1));
  out.push(workload("StatefulSet", "application-controller", get(values, "controller.replicas")));
  return out;
}

function defaultCrds(): Record<string, unknown>[] {
  const crd = (
    kind: string,
    plural: string,
    shortNames: string[],
    columns: Record<string, unknown>[],
    statusSubresource: boolean,
  ): Record<string, unknown> => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${plural}.argoproj.io`,
      labels: { "app.kubernetes.io/name": `${plural}.argoproj.io`, "app.kubernetes.io/part-of": "argocd" },
    },
    spec: {
      group: "argoproj.io",
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames },
      scope: "Namespaced",
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          subresources: statusSubresource ? { status: {} } : {},
        },
      ],
    },
  });
  return [
    crd(
      "Application",
      "applications",
      ["app", "apps"],
      [
        { jsonPath: ".status.sync.status", name: "Sync Status", type: "string" },
        { jsonPath: ".status.health.status", name: "Health Status", type: "string" },
      ],
      false,
    ),
    crd("AppProject", "appprojects", ["appproj", "appprojs"], [], false),
    crd("ApplicationSet", "applicationsets", ["appset", "appsets"], [], true),
  ];
}
