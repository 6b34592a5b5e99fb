import { createWriteStream } from "node:fs";
import { readdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { finished } from "node:stream/promises";
import { encrypt } from "@talos-homelab/sops";
import { stringify } from "yaml";
import { HomelabError } from "../../errors.js";
import { loadTalosClient, type TalosClient } from "../adapters/talos-client.js";
import {
  type BackupFile,
  type BackupManifest,
  fileChecksum,
  MANIFEST_FILE,
  PLAIN_SECRETS_FILE,
  PLAIN_TALOSCONFIG_FILE,
  SEALED_SECRETS_FILE,
  SNAPSHOT_FILE,
  sha256Of,
} from "../backup/manifest.js";
import type { Invocation } from "../cli/command.js";
import type { LoadedConfig } from "../config/load.js";
import { runDay2 } from "../day2/command.js";
import type { Day2Plan } from "../day2/operation.js";
import { rerunCommand } from "../day2/upgrade-talos.js";
import { ensurePrivateDir, writeFileAtomic, writeFilesAtomic } from "../fs/atomic.js";
import { clusterAccess } from "../state/cluster-access.js";
import type { BACKUP_OPTIONS } from "./backup.js";
import { loadProject } from "./common.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

/** The control plane named by --node (default the first one). @throws HomelabError USAGE */
export function controlPlaneOf(loaded: LoadedConfig, name: string | undefined): NodeConfig {
  const cps = loaded.config.nodes.filter((n) => n.role === "controlplane");
  const node = name === undefined ? cps[0] : cps.find((n) => n.name === name);
  if (!node)
    throw new HomelabError(
      "USAGE",
      name === undefined
        ? "homelab.yaml lists no control plane"
        : `--node ${name}: not a control plane in homelab.yaml (control planes: ${cps.map((n) => n.name).join(", ")})`,
    );
  return node;
}

/** The Kubernetes version a node's live machine config runs (its kube-apiserver image tag). */
export async function liveKubernetesVersion(talos: TalosClient, address: string): Promise<string | null> {
  const resource = await talos
    .get({ type: "MachineConfigs.config.talos.dev", namespace: "config", id: "v1alpha1", node: address })
    .catch(() => undefined);
  const text = typeof resource?.spec === "string" ? resource.spec : "";
  return /kube-apiserver:v?(\d+\.\d+\.\d+[^\s"']*)/.exec(text)?.[1] ?? null;
}

/** The Talos version a node runs. @throws HomelabError UNREACHABLE */
export async function liveTalosVersion(talos: TalosClient, address: string): Promise<string> {
  const [result] = await talos.version({ nodes: [address] });
  if (!result?.ok)
    throw new HomelabError("UNREACHABLE", `${address} does not answer Version`, {
      ...(result && !result.ok ? { cause: result.error } : {}),
    });
  return result.value.tag;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
}

function timestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * `homelab backup`: the etcd snapshot of a control plane, the machine secrets and talosconfig
 * (SOPS-encrypted when homelab.yaml has `secrets:`, else 0600 files) and a manifest with checksums
 * and versions, in a new 0700 directory.
 */
export async function runBackup(inv: Invocation<typeof BACKUP_OPTIONS>): Promise<number> {
  const loaded = await loadProject(inv, { resolveSecrets: false });
  const node = controlPlaneOf(loaded, inv.options.node);
  const access = await clusterAccess(inv, loaded);
  const talosLib = await loadTalosClient();
  const talos = talosLib.createTalosClient({ talosconfig: access.talosconfig, timeoutMs: 30_000 });
  const { config } = loaded;
  return runDay2(inv, {
    stateDir: access.stateDir,
    operation: "backup",
    simulate: inv.options.simulate === true,
    question: (plan) => `write the backup to ${plan.goal}?`,
    finally: () => talos.close(),
    plan: async (previous) => {
      const explicit = inv.options.out === undefined ? undefined : resolve(inv.ctx.cwd, inv.options.out);
      // a stopped backup without --out continues in the directory it started
      const unfinished = previous && previous.finishedAt === undefined ? previous.goal : undefined;
      const out = explicit ?? unfinished ?? join(access.stateDir, "backups", timestamp(inv.ctx.clock.now()));
      if (out !== unfinished && !(await isEmptyOrMissing(out)))
        throw new HomelabError("FILE_EXISTS", `${out} exists and is not empty`, {
          hint: "pass --out with a new directory: a backup never overwrites another",
        });
      // gates, read only: etcd answers on the node, and the versions it runs
      const [status] = await talos.etcdStatus({ nodes: [node.address] });
      if (!status?.ok)
        throw new HomelabError("COMMAND_FAILED", `etcd does not answer on ${node.name} (${node.address})`, {
          ...(status && !status.ok ? { cause: status.error } : {}),
          hint: "back up from a control plane whose etcd runs (--node), or check `homelab talos health`",
        });
      const talosVersion = await liveTalosVersion(talos, node.address);
      const kubernetesVersion = await liveKubernetesVersion(talos, node.address);
      const sealed = loaded.config.secrets;
      const secretsFiles = sealed ? [SEALED_SECRETS_FILE] : [PLAIN_SECRETS_FILE, PLAIN_TALOSCONFIG_FILE];
      const plan: Day2Plan = {
        operation: "backup",
        command: rerunCommand(inv, `backup --out ${out}`),
        goal: out,
        summary: `back up ${config.cluster.name} (Talos ${talosVersion}, Kubernetes ${kubernetesVersion ?? "unknown"}) to ${out}`,
        steps: [
          {
            id: "snapshot",
            kind: "backup",
            node: node.name,
            description: `stream the etcd snapshot of ${node.name} to ${SNAPSHOT_FILE} (0600)`,
            async run(ctx) {
              await ensurePrivateDir(out);
              const partial = join(out, `.${SNAPSHOT_FILE}.partial`);
              const file = createWriteStream(partial, { mode: 0o600 });
              try {
                const { bytes } = await talos.etcdSnapshot({
                  node: node.address,
                  destination: file,
                  signal: ctx.signal,
                });
                file.end();
                await finished(file);
                await rename(partial, join(out, SNAPSHOT_FILE));
                return `${bytes} bytes from ${node.name}`;
              } catch (error) {
                file.destroy();
                await rm(partial, { force: true });
                throw error;
              }
            },
          },
          {
            id: "secrets",
            kind: "secret",
            description: sealed
              ? `write the machine secrets and talosconfig to ${SEALED_SECRETS_FILE}, SOPS-encrypted for ${sealed.recipients.length} age recipient(s)`
              : `write the machine secrets and talosconfig to ${secretsFiles.join(" and ")} (0600, in clear: homelab.yaml has no secrets: section)`,
            async run() {
              const secrets = await access.secretsYaml();
              if (sealed) {
                const text = await encrypt(
                  stringify({ talos: { secrets, talosconfig: access.talosconfig } }, { lineWidth: 0 }),
                  { format: "yaml", recipients: sealed.recipients, source: SEALED_SECRETS_FILE },
                );
                await writeFileAtomic(join(out, SEALED_SECRETS_FILE), text, 0o600);
                return `encrypted for ${sealed.recipients.length} recipient(s)`;
              }
              await writeFilesAtomic([
                { path: join(out, PLAIN_SECRETS_FILE), content: secrets, mode: 0o600 },
                { path: join(out, PLAIN_TALOSCONFIG_FILE), content: access.talosconfig, mode: 0o600 },
              ]);
              return "0600 files";
            },
          },
          {
            id: "manifest",
            kind: "backup",
            description: `write ${MANIFEST_FILE}: the sha256 of each file and the cluster's versions`,
            async run() {
              const files: BackupFile[] = [];
              for (const name of [SNAPSHOT_FILE, ...secretsFiles]) {
                const sum = await fileChecksum(join(out, name));
                files.push({ name, ...sum, ...(name === SEALED_SECRETS_FILE ? { encrypted: true } : {}) });
              }
              const manifest: BackupManifest = {
                version: 1,
                kind: "homelab-backup",
                cluster: config.cluster.name,
                createdAt: new Date(inv.ctx.clock.now()).toISOString(),
                etcd: { node: node.name, address: node.address },
                versions: {
                  talos: talosVersion,
                  kubernetes: kubernetesVersion,
                  argocdChart: config.argocd?.chartVersion ?? null,
                },
                machineSecretsSha256: sha256Of(await access.secretsYaml()),
                files,
              };
              await writeFileAtomic(
                join(out, MANIFEST_FILE),
                `${JSON.stringify(manifest, null, 2)}\n`,
                0o600,
              );
              return `${files.length + 1} file(s) in ${out}`;
            },
          },
        ],
      };
      return plan;
    },
  });
}
