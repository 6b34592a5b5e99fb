/**
 * The flags each helm command accepts, per major version, so the stand-in refuses what the real binary
 * refuses ("Error: unknown flag: --all"). Taken from helm's own command definitions:
 * - Helm 3: helm/helm v3.21.4 cmd/helm/{list,upgrade,rollback,status,history,search_repo,repo_add,
 *   repo_update,repo_list,get_values,version}.go, cmd/helm/flags.go (addChartPathOptionsFlags,
 *   addValueOptionsFlags, bindOutputFlag, bindPostRenderFlag) and pkg/cli/environment.go (global flags).
 * - Helm 4: helm/helm v4.2.4 pkg/cmd/ (same files), pkg/cmd/flags.go (AddWaitFlag: `--wait` takes an
 *   optional strategy), pkg/cmd/helpers.go (addDryRunFlag: optional value) and pkg/cli/environment.go.
 */

/** How a flag takes its value: `bool` (optional `=true|false`), `value` (required), `optional` (`--f` or `--f=v`). */
export type FlagKind = "bool" | "value" | "optional";

/** One command's flag set: long name → kind, plus single-letter shorthands → long name. */
export interface FlagSet {
  flags: Record<string, FlagKind>;
  short: Record<string, string>;
}

const GLOBAL_COMMON: Record<string, FlagKind> = {
  namespace: "value",
  kubeconfig: "value",
  "kube-context": "value",
  "kube-token": "value",
  "kube-as-user": "value",
  "kube-as-group": "value",
  "kube-apiserver": "value",
  "kube-ca-file": "value",
  "kube-tls-server-name": "value",
  "kube-insecure-skip-tls-verify": "bool",
  debug: "bool",
  "registry-config": "value",
  "repository-config": "value",
  "repository-cache": "value",
  "burst-limit": "value",
  help: "bool",
};

const GLOBAL: Record<3 | 4, Record<string, FlagKind>> = {
  3: GLOBAL_COMMON,
  4: { ...GLOBAL_COMMON, "content-cache": "value", color: "value", colour: "value" },
};

const CHART_PATH: Record<string, FlagKind> = {
  version: "value",
  verify: "bool",
  keyring: "value",
  repo: "value",
  username: "value",
  password: "value",
  "cert-file": "value",
  "key-file": "value",
  "insecure-skip-tls-verify": "bool",
  "plain-http": "bool",
  "ca-file": "value",
  "pass-credentials": "bool",
};

const VALUES: Record<string, FlagKind> = {
  values: "value",
  set: "value",
  "set-string": "value",
  "set-file": "value",
  "set-json": "value",
  "set-literal": "value",
};

const OUTPUT: Record<string, FlagKind> = { output: "value" };
const POST_RENDER: Record<string, FlagKind> = { "post-renderer": "value", "post-renderer-args": "value" };

const LIST_COMMON: Record<string, FlagKind> = {
  short: "bool",
  "no-headers": "bool",
  "time-format": "value",
  date: "bool",
  reverse: "bool",
  uninstalled: "bool",
  superseded: "bool",
  uninstalling: "bool",
  deployed: "bool",
  failed: "bool",
  pending: "bool",
  "all-namespaces": "bool",
  max: "value",
  offset: "value",
  filter: "value",
  selector: "value",
  ...OUTPUT,
};

const UPGRADE_COMMON: Record<string, FlagKind> = {
  "create-namespace": "bool",
  install: "bool",
  devel: "bool",
  "hide-secret": "bool",
  force: "bool",
  "no-hooks": "bool",
  "disable-openapi-validation": "bool",
  "skip-crds": "bool",
  timeout: "value",
  "reset-values": "bool",
  "reuse-values": "bool",
  "reset-then-reuse-values": "bool",
  "wait-for-jobs": "bool",
  atomic: "bool",
  "history-max": "value",
  "cleanup-on-fail": "bool",
  "render-subchart-notes": "bool",
  "hide-notes": "bool",
  "skip-schema-validation": "bool",
  labels: "value",
  description: "value",
  "dependency-update": "bool",
  "enable-dns": "bool",
  "take-ownership": "bool",
  ...CHART_PATH,
  ...VALUES,
  ...OUTPUT,
  ...POST_RENDER,
};

const REPO_ADD_COMMON: Record<string, FlagKind> = {
  username: "value",
  password: "value",
  "password-stdin": "bool",
  "force-update": "bool",
  "cert-file": "value",
  "key-file": "value",
  "ca-file": "value",
  "insecure-skip-tls-verify": "bool",
  "allow-deprecated-repos": "bool",
  "pass-credentials": "bool",
  timeout: "value",
};

const SEARCH_REPO: Record<string, FlagKind> = {
  regexp: "bool",
  versions: "bool",
  devel: "bool",
  version: "value",
  "max-col-width": "value",
  "fail-on-no-result": "bool",
  ...OUTPUT,
};

const COMMANDS: Record<3 | 4, Record<string, Record<string, FlagKind>>> = {
  3: {
    version: { short: "bool", template: "value", client: "bool" },
    list: { ...LIST_COMMON, all: "bool" },
    upgrade: { ...UPGRADE_COMMON, "dry-run": "optional", "recreate-pods": "bool", wait: "bool" },
    rollback: {
      "dry-run": "bool",
      "recreate-pods": "bool",
      force: "bool",
      "no-hooks": "bool",
      timeout: "value",
      wait: "bool",
      "wait-for-jobs": "bool",
      "cleanup-on-fail": "bool",
      "history-max": "value",
    },
    status: { revision: "value", "show-desc": "bool", "show-resources": "bool", ...OUTPUT },
    history: { max: "value", ...OUTPUT },
    "get values": { revision: "value", all: "bool", ...OUTPUT },
    "repo add": { ...REPO_ADD_COMMON, "no-update": "bool" },
    "repo update": { timeout: "value", "fail-on-repo-update-fail": "bool" },
    "repo list": { "no-headers": "bool", ...OUTPUT },
    "search repo": SEARCH_REPO,
    "show chart": { devel: "bool", ...CHART_PATH },
  },
  4: {
    version: { short: "bool", template: "value" },
    list: LIST_COMMON,
    upgrade: {
      ...UPGRADE_COMMON,
      "dry-run": "optional",
      wait: "optional",
      "force-replace": "bool",
      "force-conflicts": "bool",
      "server-side": "value",
      "rollback-on-failure": "bool",
    },
    rollback: {
      "dry-run": "optional",
      wait: "optional",
      "force-replace": "bool",
      force: "bool",
      "force-conflicts": "bool",
      "server-side": "value",
      "no-hooks": "bool",
      timeout: "value",
      "wait-for-jobs": "bool",
      "cleanup-on-fail": "bool",
      "history-max": "value",
    },
    status: { revision: "value", ...OUTPUT },
    history: { max: "value", ...OUTPUT },
    "get values": { revision: "value", all: "bool", ...OUTPUT },
    "repo add": REPO_ADD_COMMON,
    "repo update": { timeout: "value" },
    "repo list": { "no-headers": "bool", ...OUTPUT },
    "search repo": SEARCH_REPO,
    "show chart": { devel: "bool", ...CHART_PATH },
  },
};

const SHORT: Record<string, Record<string, string>> = {
  list: { q: "short", d: "date", r: "reverse", A: "all-namespaces", m: "max", f: "filter", l: "selector" },
  upgrade: { i: "install", l: "labels", f: "values" },
  "get values": { a: "all" },
  "search repo": { r: "regexp", l: "versions" },
  version: { c: "client" },
};

/** Commands the stand-in knows, for the given major (`list`, `get values`, `repo add`, ...). */
export function helmCommands(major: 3 | 4): string[] {
  return Object.keys(COMMANDS[major]);
}

/** The flag set of `command` for Helm `major`, global flags included; undefined for an unknown command. */
export function helmFlagSet(major: 3 | 4, command: string): FlagSet | undefined {
  const own = COMMANDS[major][command];
  if (own === undefined) return undefined;
  const short: Record<string, string> = { n: "namespace", h: "help" };
  if ("output" in own) short.o = "output";
  const commandShort = SHORT[command] ?? {};
  for (const [letter, long] of Object.entries(commandShort)) {
    if (long in own) short[letter] = long;
  }
  if (major === 3 && command === "list") short.a = "all";
  return { flags: { ...GLOBAL[major], ...own }, short };
}
