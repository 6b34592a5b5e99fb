import { createReadStream } from "node:fs";
import { join, resolve } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadTalosClient, type TalosClient } from "../adapters/talos-client.js";
import { readVerifiedBackup, SNAPSHOT_FILE, sha256Of } from "../backup/manifest.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { runDay2 } from "../day2/command.js";
import type { Day2Plan, Day2Step } from "../day2/operation.js";
import { retryUntil } from "../day2/retry.js";
import { durationOption, rerunCommand } from "../day2/upgrade-talos.js";
import { clusterAccess } from "../state/cluster-access.js";
import { controlPlaneOf } from "./backup-run.js";
import { loadProject } from "./common.js";
import type { RESTORE_OPTIONS } from "./restore.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/** The state of the etcd service of each node (undefined: the node did not answer). */
async function etcdStates(talos: TalosClient, nodes: NodeConfig[]): Promise<Map<string, string | undefined>> {
  const results = await talos.serviceList({ nodes: nodes.map((n) => n.address) });
  const states = new Map<string, string | undefined>();
  for (const node of nodes) {
    const r = results.find((x) => x.node === node.address);
    states.set(node.name, r?.ok ? (r.value.find((s) => s.id === "etcd")?.state ?? "absent") : undefined);
  }
  return states;
}

/**
 * `homelab restore DIR`: verifies the backup, then recovers etcd on one control plane from its
 * snapshot (EtcdRecover, then Bootstrap with recover_etcd, as `talosctl bootstrap --recover-from`),
 * optionally wiping every control plane's EPHEMERAL first, and waits for the cluster to be healthy.
 */
export async function runRestore(inv: Invocation<typeof RESTORE_OPTIONS>): Promise<number> {
  const dirArg = inv.args[0];
  if (dirArg === undefined)
    throw new HomelabError("USAGE", "restore needs the backup directory: homelab restore DIR");
  const dir = resolve(inv.ctx.cwd, dirArg);
  const timeoutMs = durationOption(inv.options["node-timeout"], "node-timeout", 600_000);
  // the checksums first: a damaged backup stops everything before the cluster is read
  const manifest = await readVerifiedBackup(dir);
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const { config } = loaded;
  if (manifest.cluster !== config.cluster.name)
    throw new HomelabError(
      "BACKUP_INVALID",
      `${join(dir, "manifest.json")}: a backup of cluster ${manifest.cluster}, but homelab.yaml describes ${config.cluster.name}`,
    );
  const target = controlPlaneOf(loaded, inv.options.node);
  const access = await clusterAccess(inv, loaded);
  if (sha256Of(await access.secretsYaml()) !== manifest.machineSecretsSha256)
    throw new HomelabError(
      "BACKUP_INVALID",
      `${dir} was taken from a cluster with other machine secrets than ${access.stateDir}'s: its etcd cannot serve this cluster's nodes`,
      { hint: "restore the backup of this cluster" },
    );
  const talosLib = await loadTalosClient();
  const talos = talosLib.createTalosClient({ talosconfig: access.talosconfig, timeoutMs: 30_000 });
  const cps = config.nodes.filter((n) => n.role === "controlplane");
  const workers = config.nodes.filter((n) => n.role === "worker");
  const snapshot = join(dir, SNAPSHOT_FILE);
  return runDay2(inv, {
    stateDir: access.stateDir,
    operation: "restore",
    simulate: inv.options.simulate === true,
    question: () => `recover etcd of ${config.cluster.name} on ${target.name} from ${dir}?`,
    finally: () => talos.close(),
    plan: async (previous) => {
      const resuming = previous !== undefined && previous.finishedAt === undefined && previous.goal === dir;
      const states = await etcdStates(talos, cps);
      const silent = cps.filter((n) => states.get(n.name) === undefined);
      if (silent.length > 0 && !resuming)
        throw new HomelabError(
          "UNREACHABLE",
          `${silent.map((n) => `${n.name} (${n.address})`).join(", ")} did not answer: every control plane must be up to recover etcd`,
        );
      const running = cps.filter((n) => states.get(n.name) === "Running");
      if (running.length > 0 && inv.options.wipe !== true && !resuming)
        throw new HomelabError(
          "COMMAND_FAILED",
          `etcd runs on ${running.map((n) => n.name).join(", ")}: Talos recovers etcd only onto a node whose etcd data directory is empty; nothing was changed`,
          {
            hint: "if this cluster's etcd is what you mean to replace, pass --wipe (the other control planes leave etcd, then EPHEMERAL is wiped on every control plane)",
            details: { running: running.map((n) => n.name) },
          },
        );
      const steps: Day2Step[] = [];
      const wipe = inv.options.wipe === true && (running.length > 0 || resuming);
      if (wipe) {
        for (const node of cps.filter((n) => n !== target && (running.includes(n) || resuming)))
          steps.push({
            id: `leave:${node.name}`,
            kind: "etcd",
            node: node.name,
            description: `${node.name} hands etcd leadership over and leaves etcd`,
            async run() {
              const [state] = [(await etcdStates(talos, [node])).get(node.name)];
              if (state !== "Running") return `etcd is ${state ?? "not answering"}: nothing to leave`;
              await talos.etcdForfeitLeadership({ node: node.address });
              await talos.etcdLeaveCluster({ node: node.address });
              return "left etcd";
            },
          });
        // the node still running etcd first (talos internal/integration/api/etcd-recover.go): the
        // others left it, so once its data is gone no member holds any and none rejoins the old cluster
        for (const node of [target, ...cps.filter((n) => n !== target)])
          steps.push({
            id: `wipe:${node.name}`,
            kind: "reset",
            node: node.name,
            description: `${node.name}: wipe EPHEMERAL (etcd's data; the machine config stays) and reboot`,
            async run(ctx) {
              await talos.reset({
                node: node.address,
                graceful: false,
                reboot: true,
                systemPartitionsToWipe: ["EPHEMERAL"],
              });
              ctx.progress("reset sent; waiting for the node to come back");
              return retryUntil(
                ctx,
                { what: `${node.name} back with an empty etcd`, timeoutMs },
                async () => {
                  const state = (await etcdStates(talos, [node])).get(node.name);
                  // back from the reboot, etcd waiting to be bootstrapped (before: it ran, or had
                  // finished after the node left etcd)
                  return state === "Preparing" || state === "Waiting" ? `back, etcd ${state}` : undefined;
                },
              );
            },
          });
      }
      steps.push(
        {
          id: `recover:${target.name}`,
          kind: "restore",
          node: target.name,
          description: `upload ${SNAPSHOT_FILE} to ${target.name} (EtcdRecover)`,
          run: (ctx) =>
            retryUntil(
              ctx,
              {
                what: `${target.name} accepting the snapshot`,
                timeoutMs,
                retryable: (e) =>
                  ["FAILED_PRECONDITION", "UNAVAILABLE", "DEADLINE_EXCEEDED"].includes(codeOf(e) ?? ""),
              },
              async () => {
                const { bytes } = await talos.etcdRecover({
                  node: target.address,
                  source: createReadStream(snapshot),
                  signal: ctx.signal,
                });
                return `${bytes} bytes uploaded`;
              },
            ),
        },
        {
          id: `bootstrap:${target.name}`,
          kind: "etcd",
          node: target.name,
          description: `bootstrap etcd on ${target.name} from the snapshot (Bootstrap, recover_etcd)`,
          run: (ctx) =>
            retryUntil(
              ctx,
              {
                what: `${target.name} bootstrapping etcd`,
                timeoutMs,
                retryable: (e) =>
                  ["FAILED_PRECONDITION", "UNAVAILABLE", "DEADLINE_EXCEEDED"].includes(codeOf(e) ?? ""),
              },
              async () => {
                try {
                  await talos.bootstrap({ node: target.address, recoverEtcd: true });
                } catch (error) {
                  if (codeOf(error) === "ALREADY_EXISTS")
                    throw new HomelabError(
                      "COMMAND_FAILED",
                      `${target.name} refused to recover: its etcd data directory is not empty (etcd ran there since the check)`,
                      { cause: error, hint: "run restore again with --wipe" },
                    );
                  throw error;
                }
                return "etcd bootstrapped from the snapshot";
              },
            ),
        },
        {
          id: "health",
          kind: "health",
          description: `wait until the cluster is healthy (${cps.length} control plane(s) in etcd, ${workers.length} worker(s))`,
          async run(ctx) {
            const report = await talos.waitForHealthy({
              controlPlaneNodes: cps.map((n) => n.address),
              workerNodes: workers.map((n) => n.address),
              timeoutMs,
              signal: ctx.signal,
              onProgress: (e) => ctx.progress(e),
            });
            return `healthy (etcd members: ${report.etcdMembers.length})`;
          },
        },
      );
      const plan: Day2Plan = {
        operation: "restore",
        command: rerunCommand(inv, `restore ${dirArg}${inv.options.wipe === true ? " --wipe" : ""}`),
        goal: dir,
        summary: `recover etcd of ${config.cluster.name} on ${target.name} from the snapshot of ${manifest.createdAt} (taken on ${manifest.etcd.node}: Talos ${manifest.versions.talos}, Kubernetes ${manifest.versions.kubernetes ?? "unknown"})`,
        steps,
        notes: [`every file of ${dir} matches manifest.json's sha256`],
      };
      return plan;
    },
  });
}
