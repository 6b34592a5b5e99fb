import { dirname, join } from "node:path";
import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import type { LabInfo } from "../lab/lab.js";
import { readOptional } from "../pipeline/state.js";
import { type StateSecrets, stateSecretsOf } from "../secrets/state-secrets.js";
import { locateTalosconfig, projectState } from "./locate.js";

/** What a day-2 command needs to act on a homelab `up` brought up: its state and credentials. */
export interface ClusterAccess {
  /** The state directory (the running lab's while `homelab lab` runs for this homelab.yaml). */
  stateDir: string;
  /** The running simulated lab, if this state is its. */
  lab?: LabInfo;
  /** The talosconfig, the machine secrets and the kubeconfig: 0600 files, or the SOPS file. */
  state: StateSecrets;
  talosconfig: string;
  /** Where the talosconfig came from, for messages. */
  talosconfigSource: string;
  /**
   * The Talos machine secrets (secrets.yaml) `up` generated.
   * @throws HomelabError STATE_INVALID when the state has none
   */
  secretsYaml(): Promise<string>;
}

/**
 * The state and credentials of a project: --talosconfig or $TALOSCONFIG when given (the state is
 * the directory holding it), else the project's state directory (with `secrets:` in homelab.yaml,
 * the SOPS file): the running lab's while `homelab lab` runs for homelab.yaml.
 * @throws HomelabError USAGE (--simulate without a running lab), MISSING_CREDENTIALS (no talosconfig)
 */
export async function clusterAccess(inv: Invocation, loaded: LoadedConfig): Promise<ClusterAccess> {
  const project = await projectState(inv, loaded);
  if (inv.options.simulate === true && project.lab === undefined)
    throw new HomelabError("USAGE", `no simulated lab is running for ${loaded.path}`, {
      hint: "start one with `homelab lab` (it brings it up as `homelab up --simulate` does), then run this again",
    });
  const found = await locateTalosconfig(inv, loaded);
  const explicit = found?.source === "flag" || found?.source === "env";
  const stateDir = explicit && found ? dirname(found.path) : project.dir;
  const lab = project.lab && stateDir === project.dir ? project.lab : undefined;
  // with secrets: in homelab.yaml, the talosconfig and machine secrets are in the SOPS file
  const state = stateSecretsOf(loaded, stateDir, {
    simulated: lab !== undefined,
    env: inv.ctx.env,
  });
  const path = found?.path ?? join(stateDir, "talosconfig");
  const talosconfig =
    loaded.secrets && !explicit ? await state.read("talosconfig") : await readOptional(path);
  if (!talosconfig)
    throw new HomelabError("MISSING_CREDENTIALS", `no talosconfig at ${path}`, {
      hint: "run `homelab up` first, or pass --talosconfig",
    });
  const plain = loaded.secrets && !explicit ? undefined : join(stateDir, "secrets.yaml");
  return {
    stateDir,
    ...(lab ? { lab } : {}),
    state,
    talosconfig,
    talosconfigSource: loaded.secrets && !explicit ? state.describe("talosconfig") : path,
    async secretsYaml() {
      const text = plain ? await readOptional(plain) : await state.read("secrets.yaml");
      if (!text)
        throw new HomelabError(
          "STATE_INVALID",
          `no machine secrets (secrets.yaml) in ${plain ?? state.describe("secrets.yaml")}`,
          { hint: "this command needs the state directory `homelab up` wrote" },
        );
      return text;
    },
  };
}
