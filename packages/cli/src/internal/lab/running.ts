import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Invocation } from "../cli/command.js";
import type { HomelabConfig, LoadedConfig } from "../config/load.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readOptional } from "../pipeline/state.js";
import { ALLOW_ENDPOINT_OVERRIDE, labTarget, type Target } from "../pipeline/target.js";
import { type Lab, type LabInfo, remoteHelm, startLab } from "./lab.js";

/** The state directory of the simulated lab: `.homelab/<cluster>/lab` (never mixed with a real cluster's). */
export function labStateDir(loaded: LoadedConfig, inv: Invocation): string {
  const explicit = inv.options["state-dir"];
  if (typeof explicit === "string") return join(inv.ctx.cwd, explicit);
  return join(loaded.dir, ".homelab", loaded.config.cluster.name, "lab");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The lab another process (`homelab lab`) keeps running for this state dir, if any. */
export async function runningLab(stateDir: string, config: HomelabConfig): Promise<LabInfo | undefined> {
  const text = await readOptional(join(stateDir, "lab.json"));
  if (!text) return undefined;
  try {
    const info = JSON.parse(text) as LabInfo;
    const sameNodes =
      info.nodes.length === config.nodes.length &&
      config.nodes.every((n) => info.nodes.some((m) => m.name === n.name && m.address === n.address));
    if (info.version === 1 && alive(info.pid) && sameNodes) return info;
  } catch {
    // unreadable: treat as absent
  }
  return undefined;
}

/**
 * Starts a new simulated lab for `stateDir`. Its nodes are new machines in maintenance mode, so what
 * the state recorded about an earlier lab's nodes (progress.json) describes machines that are gone:
 * it is dropped, or the next `up` would refuse the new nodes as unverified. secrets.yaml stays.
 */
export async function startFreshLab(
  stateDir: string,
  config: HomelabConfig,
  projectDir?: string,
): Promise<Lab> {
  await rm(join(stateDir, "progress.json"), { force: true });
  return startLab({ config, ...(projectDir === undefined ? {} : { gitCheckout: projectDir }) });
}

/** A lab to run against: the running one, or a fresh in-process one (closed by `release`). */
export async function acquireLab(
  stateDir: string,
  config: HomelabConfig,
  projectDir?: string,
): Promise<{ target: Target; info: LabInfo; fresh: boolean; lab?: Lab; release(): Promise<void> }> {
  const info = await runningLab(stateDir, config);
  if (info)
    return {
      target: labTarget(info, remoteHelm(info.helm.url)),
      info,
      fresh: false,
      release: async () => {},
    };
  const lab = await startFreshLab(stateDir, config, projectDir);
  return {
    target: labTarget(lab.info, lab.helm),
    info: lab.info,
    fresh: true,
    lab,
    release: () => lab.close(),
  };
}

/** Writes lab.json and cloudflare.env for other processes. */
export async function publishLab(stateDir: string, info: LabInfo): Promise<void> {
  await writeFileAtomic(join(stateDir, "lab.json"), `${JSON.stringify(info, null, 2)}\n`, 0o600);
  await writeFileAtomic(
    join(stateDir, "cloudflare.env"),
    `CLOUDFLARE_BASE_URL=${info.cloudflare.url}\nCLOUDFLARE_API_TOKEN=${info.cloudflare.apiToken}\n${ALLOW_ENDPOINT_OVERRIDE}=1\n`,
    0o600,
  );
}

/** Removes lab.json (the lab stopped). */
export async function unpublishLab(stateDir: string): Promise<void> {
  await rm(join(stateDir, "lab.json"), { force: true });
}
