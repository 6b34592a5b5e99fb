import { delimiter, join, resolve } from "node:path";
import type { Invocation } from "../cli/command.js";
import { stateDirOf } from "../commands/common.js";
import { type LoadedConfig, loadConfig } from "../config/load.js";
import { pathExists } from "../fs/exists.js";
import type { LabInfo } from "../lab/lab.js";
import { labStateDir, runningLab } from "../lab/running.js";
import { readOptional } from "../pipeline/state.js";
import {
  type MaterializedSecret,
  type StateSecretName,
  type StateSecrets,
  stateSecretsOf,
} from "../secrets/state-secrets.js";

// One answer, for every command, to "where is this homelab's state": the state directory
// `homelab up` wrote (or the running simulated lab's), and the talosconfig and kubeconfig in use.

/** Where a project's state lives. */
export interface ProjectState {
  /** `.homelab/<cluster>` next to homelab.yaml, `.homelab/<cluster>/lab` while a lab runs, or --state-dir. */
  dir: string;
  /** The running simulated lab this state belongs to, if any. */
  lab?: LabInfo;
}

/**
 * A credential (talosconfig, kubeconfig) and why it was chosen: a file, or, with `secrets:` in
 * homelab.yaml, a value in the SOPS file (never in clear text on disk).
 */
export interface Located {
  /** Where it is, for messages: a file path, or `<file>.sops.yaml#talos.talosconfig` for `sops`. */
  path: string;
  /**
   * flag, env, state (a file in the project's state directory), sops (the project's SOPS file) or home
   * (~/.talos/config).
   */
  source: "flag" | "env" | "state" | "sops" | "home";
  /** The content (decrypted in memory for `sops`); undefined when the file vanished meanwhile. */
  read(): Promise<string | undefined>;
  /**
   * A file holding the content, for tools that only take a path (helm): the file itself, or a 0600 copy
   * in a fresh 0700 temp directory that `dispose` (and process exit) removes.
   */
  materialize(): Promise<MaterializedSecret | undefined>;
}

function locatedFile(path: string, source: Located["source"]): Located {
  return {
    path,
    source,
    read: () => readOptional(path),
    materialize: async () => ((await pathExists(path)) ? { path, dispose: async () => {} } : undefined),
  };
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

/** The project's state secrets: in its SOPS file (the lab's under `lab.`) or its state directory. */
export async function projectStateSecrets(inv: Invocation, loaded: LoadedConfig): Promise<StateSecrets> {
  const { dir, lab } = await projectState(inv, loaded);
  return stateSecretsOf(loaded, dir, { simulated: lab !== undefined, env: inv.ctx.env });
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
    homedir: inv.ctx.homedir,
  });
}

/** The project, already loaded or loaded on demand (only when flag and environment are unset). */
export type ProjectSource = LoadedConfig | undefined | (() => Promise<LoadedConfig | undefined>);

async function locate(
  inv: Invocation,
  project: ProjectSource,
  names: { option: string; env: string; file: StateSecretName; home?: string[] },
): Promise<Located | undefined> {
  const flag = inv.options[names.option];
  if (typeof flag === "string") return locatedFile(resolve(inv.ctx.cwd, flag), "flag");
  // $KUBECONFIG may list several files: the first is the one kubectl writes to
  const env = inv.ctx.env[names.env]?.split(delimiter).find((p) => p !== "");
  if (env) return locatedFile(resolve(inv.ctx.cwd, env), "env");
  const loaded = typeof project === "function" ? await project() : project;
  if (loaded) {
    if (loaded.secrets) {
      // the SOPS file holds it (the lab's under `lab.`); a clear file left from before moves in
      const state = await projectStateSecrets(inv, loaded);
      const text = await state.read(names.file);
      if (text !== undefined)
        return {
          path: state.describe(names.file),
          source: "sops",
          read: async () => text,
          materialize: () => state.materialize(names.file),
        };
    } else {
      const path = join((await projectState(inv, loaded)).dir, names.file);
      if (await pathExists(path)) return locatedFile(path, "state");
    }
  }
  if (!names.home) return undefined;
  const home = join(inv.ctx.homedir, ...names.home);
  return (await pathExists(home)) ? locatedFile(home, "home") : undefined;
}

/**
 * The talosconfig: --talosconfig, $TALOSCONFIG, the project's SOPS file (with `secrets:`) or state
 * directory, ~/.talos/config.
 */
export function locateTalosconfig(inv: Invocation, project: ProjectSource): Promise<Located | undefined> {
  return locate(inv, project, {
    option: "talosconfig",
    env: "TALOSCONFIG",
    file: "talosconfig",
    home: [".talos", "config"],
  });
}

/**
 * The kubeconfig: --kubeconfig, $KUBECONFIG (its first file), the project's SOPS file (with `secrets:`)
 * or state directory. Never ~/.kube/config: a project's commands act on the project's cluster, not on
 * whatever is current.
 */
export function locateKubeconfig(inv: Invocation, project: ProjectSource): Promise<Located | undefined> {
  return locate(inv, project, { option: "kubeconfig", env: "KUBECONFIG", file: "kubeconfig" });
}
