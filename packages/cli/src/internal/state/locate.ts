import { delimiter, join, resolve } from "node:path";
import type { Invocation } from "../cli/command.js";
import { stateDirOf } from "../commands/common.js";
import { type LoadedConfig, loadConfig } from "../config/load.js";
import { pathExists } from "../fs/exists.js";
import type { LabInfo } from "../lab/lab.js";
import { labStateDir, runningLab } from "../lab/running.js";

// One answer, for every command, to "where is this homelab's state": the state directory
// `homelab up` wrote (or the running simulated lab's), and the talosconfig and kubeconfig in use.

/** Where a project's state lives. */
export interface ProjectState {
  /** `.homelab/<cluster>` next to homelab.yaml, `.homelab/<cluster>/lab` while a lab runs, or --state-dir. */
  dir: string;
  /** The running simulated lab this state belongs to, if any. */
  lab?: LabInfo;
}

/** A credentials file and why it was chosen. */
export interface Located {
  path: string;
  /** flag, env, state (the project's state directory) or home (~/.talos/config, ~/.kube/config). */
  source: "flag" | "env" | "state" | "home";
}

/**
 * The project's state directory: while `homelab lab` runs for this homelab.yaml its directory
 * (`.homelab/<cluster>/lab`), else the real cluster's (`.homelab/<cluster>`); --state-dir wins.
 */
export async function projectState(inv: Invocation, loaded: LoadedConfig): Promise<ProjectState> {
  const labDir = labStateDir(loaded, inv);
  const lab = await runningLab(labDir, loaded.config);
  if (lab) return { dir: labDir, lab };
  return { dir: stateDirOf(inv, loaded) };
}

/**
 * The project for commands that work without one (`talos *`): --config's file, else ./homelab.yaml
 * when it exists, else undefined.
 */
export async function optionalProject(inv: Invocation): Promise<LoadedConfig | undefined> {
  const explicit = inv.flags.config;
  if (!explicit && !(await pathExists(resolve(inv.ctx.cwd, "homelab.yaml")))) return undefined;
  return loadConfig(explicit ?? "homelab.yaml", {
    cwd: inv.ctx.cwd,
    env: inv.ctx.env,
    resolveSecrets: false,
    placeholderSecrets: false,
  });
}

/** The project, already loaded or loaded on demand (only when flag and environment are unset). */
export type ProjectSource = LoadedConfig | undefined | (() => Promise<LoadedConfig | undefined>);

async function locate(
  inv: Invocation,
  project: ProjectSource,
  names: { option: string; env: string; file: string; home?: string[] },
): Promise<Located | undefined> {
  const flag = inv.options[names.option];
  if (typeof flag === "string") return { path: resolve(inv.ctx.cwd, flag), source: "flag" };
  // $KUBECONFIG may list several files: the first is the one kubectl writes to
  const env = inv.ctx.env[names.env]?.split(delimiter).find((p) => p !== "");
  if (env) return { path: resolve(inv.ctx.cwd, env), source: "env" };
  const loaded = typeof project === "function" ? await project() : project;
  if (loaded) {
    const path = join((await projectState(inv, loaded)).dir, names.file);
    if (await pathExists(path)) return { path, source: "state" };
  }
  if (!names.home) return undefined;
  const home = join(inv.ctx.homedir, ...names.home);
  return (await pathExists(home)) ? { path: home, source: "home" } : undefined;
}

/** The talosconfig: --talosconfig, $TALOSCONFIG, the project's state directory, ~/.talos/config. */
export function locateTalosconfig(inv: Invocation, project: ProjectSource): Promise<Located | undefined> {
  return locate(inv, project, {
    option: "talosconfig",
    env: "TALOSCONFIG",
    file: "talosconfig",
    home: [".talos", "config"],
  });
}

/**
 * The kubeconfig: --kubeconfig, $KUBECONFIG (its first file), the project's state directory. Never
 * ~/.kube/config: a project's commands act on the project's cluster, not on whatever is current.
 */
export function locateKubeconfig(inv: Invocation, project: ProjectSource): Promise<Located | undefined> {
  return locate(inv, project, { option: "kubeconfig", env: "KUBECONFIG", file: "kubeconfig" });
}
