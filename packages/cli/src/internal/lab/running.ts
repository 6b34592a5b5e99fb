import { rm } from "node:fs/promises";
import { join } from "node:path";
import { HomelabError } from "../../errors.js";
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

/**
 * The lab another process (`homelab lab`) keeps running for this state dir, if any. It serves this
 * homelab.yaml while no node is listed with another address than the lab's machine of that name and
 * they share a node: nodes added to homelab.yaml since (their machines are powered on by `node
 * add`) and machines whose node was removed from it (`node remove`) do not make it another lab.
 */
export async function runningLab(stateDir: string, config: HomelabConfig): Promise<LabInfo | undefined> {
  const text = await readOptional(join(stateDir, "lab.json"));
  if (!text) return undefined;
  try {
    const info = JSON.parse(text) as LabInfo;
    const byName = new Map(info.nodes.map((n) => [n.name, n.address]));
    const compatible =
      config.nodes.some((n) => byName.has(n.name)) &&
      config.nodes.every((n) => !byName.has(n.name) || byName.get(n.name) === n.address);
    if (info.version === 1 && alive(info.pid) && compatible) return info;
  } catch {
    // unreadable: treat as absent
  }
  return undefined;
}

/** The nodes of homelab.yaml the running lab has no machine for. */
export function missingMachines(info: LabInfo, config: HomelabConfig): string[] {
  return config.nodes.filter((n) => !info.nodes.some((m) => m.name === n.name)).map((n) => n.name);
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
  const missing = info ? missingMachines(info, config) : [];
  if (info && missing.length > 0)
    throw new HomelabError(
      "USAGE",
      `the running lab (process ${info.pid}) has no machine for ${missing.join(", ")}, listed in homelab.yaml since it started`,
      {
        hint: `run \`homelab node add ${missing[0]}\` (it powers one on in the lab and joins it), or restart \`homelab lab\``,
      },
    );
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

/**
 * Powers a machine on for `node` in the running lab (it boots into maintenance mode, as a new
 * machine from the Talos ISO would) and publishes the lab's new endpoints in `stateDir`.
 * @throws HomelabError COMMAND_FAILED when the lab cannot add it
 */
export async function powerOnLabMachine(
  stateDir: string,
  info: LabInfo,
  node: { name: string; address: string; role: string; talosVersion?: string | undefined },
): Promise<LabInfo> {
  if (!info.machines)
    throw new HomelabError(
      "COMMAND_FAILED",
      "the running lab cannot power on machines (started by an older homelab)",
      {
        hint: "restart `homelab lab`",
      },
    );
  const response = await fetch(info.machines.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: node.name,
      address: node.address,
      role: node.role,
      ...(node.talosVersion ? { talosVersion: node.talosVersion } : {}),
    }),
  });
  const body = (await response.json()) as { info?: LabInfo; error?: string };
  if (!response.ok || !body.info)
    throw new HomelabError(
      "COMMAND_FAILED",
      `the lab did not power on ${node.name}: ${body.error ?? response.status}`,
    );
  await publishLab(stateDir, body.info);
  return body.info;
}
