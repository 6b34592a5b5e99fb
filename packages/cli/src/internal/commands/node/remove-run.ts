import { HomelabError } from "../../../errors.js";
import type { TalosClient } from "../../adapters/talos-client.js";
import type { Invocation } from "../../cli/command.js";
import { removeNodeText, writeConfigText } from "../../config/edit.js";
import { type LoadedConfig, parseConfig } from "../../config/load.js";
import { openDay2Cluster } from "../../day2/cluster.js";
import { runDay2 } from "../../day2/command.js";
import { cordonDrainStep, kubernetesNodeName } from "../../day2/node-steps.js";
import type { Day2Plan, Day2Step } from "../../day2/operation.js";
import { retryUntil } from "../../day2/retry.js";
import { durationOption, rerunCommand } from "../../day2/upgrade-talos.js";
import { createStepContext, planSteps } from "../../pipeline/run.js";
import { isFailure } from "../../pipeline/step.js";
import { secretsStep } from "../../pipeline/steps/secrets.js";
import { talosconfigStep } from "../../pipeline/steps/talosconfig.js";
import type { NODE_REMOVE_OPTIONS } from "./remove.js";
import { tunnelConnections } from "./tunnel-connections.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

/**
 * The etcd gate of removing a control plane: refused for the last one, and when the members left
 * after it would not have a healthy majority (quorum lost, the cluster stops accepting writes).
 * @returns one line on what was checked
 * @throws HomelabError COMMAND_FAILED
 */
export async function checkEtcdQuorum(
  talos: TalosClient,
  node: NodeConfig,
  cps: NodeConfig[],
): Promise<string> {
  const others = cps.filter((n) => n.name !== node.name);
  if (others.length === 0)
    throw new HomelabError(
      "COMMAND_FAILED",
      `${node.name} is the last control plane: removing it ends the cluster`,
      {
        hint: "add another control plane first (`homelab node add`), or take the cluster down with `homelab down`",
      },
    );
  const statuses = await talos.etcdStatus({ nodes: others.map((n) => n.address) });
  const healthy = others.filter((n) => statuses.some((s) => s.node === n.address && s.ok));
  const ask = healthy[0];
  if (!ask)
    throw new HomelabError(
      "COMMAND_FAILED",
      `etcd answers on none of the other control planes (${others.map((n) => n.name).join(", ")}): removing ${node.name} would leave no quorum`,
    );
  const members = await talos.etcdMemberList({ node: ask.address });
  const isMember = members.some((m) => m.hostname === node.name);
  const after = members.length - (isMember ? 1 : 0);
  const quorum = Math.floor(after / 2) + 1;
  if (healthy.length < quorum)
    throw new HomelabError(
      "COMMAND_FAILED",
      `removing ${node.name} would lose etcd quorum: ${after} member(s) would remain, ${quorum} needed, but only ${healthy.length} (${healthy.map((n) => n.name).join(", ")}) answer`,
      {
        hint: `bring ${others
          .filter((n) => !healthy.includes(n))
          .map((n) => n.name)
          .join(", ")} back first, then remove ${node.name}`,
        details: { members: members.length, healthy: healthy.map((n) => n.name) },
      },
    );
  return `etcd keeps quorum: ${after} member(s) left, ${healthy.length} healthy, ${quorum} needed`;
}

/** `homelab node remove NAME` */
export async function runNodeRemove(inv: Invocation<typeof NODE_REMOVE_OPTIONS>): Promise<number> {
  const name = inv.args[0];
  if (name === undefined) throw new HomelabError("USAGE", "node remove needs the node's name");
  const timeoutMs = durationOption(inv.options["node-timeout"], "node-timeout", 600_000);
  const cluster = await openDay2Cluster(inv, { simulate: inv.options.simulate === true });
  const { loaded } = cluster;
  const { config } = loaded;
  const node = config.nodes.find((n) => n.name === name);
  if (!node) {
    cluster.close();
    throw new HomelabError("USAGE", `${loaded.path}: nodes lists no ${name}`, {
      hint: `nodes: ${config.nodes.map((n) => n.name).join(", ")}`,
    });
  }
  const cps = config.nodes.filter((n) => n.role === "controlplane");
  // etcd questions go to another control plane: this one may be on its way out
  const talos = cluster.client(cps.find((n) => n.name !== node.name) ?? node);
  return runDay2(inv, {
    stateDir: cluster.stateDir,
    operation: "node-remove",
    simulate: inv.options.simulate === true,
    question: () =>
      `remove ${node.name} (${node.role}, ${node.address}) from ${config.cluster.name} and wipe it?`,
    finally: () => cluster.close(),
    plan: async () => {
      const isControlPlane = node.role === "controlplane";
      // gate first, read only: the cluster must survive without this node
      const quorum = isControlPlane ? await checkEtcdQuorum(talos, node, cps) : undefined;
      const steps: Day2Step[] = [cordonDrainStep(cluster, node, { drainTimeoutMs: timeoutMs })];
      if (isControlPlane)
        steps.push({
          id: "etcd-leave",
          kind: "etcd",
          node: node.name,
          description: `${node.name} hands etcd leadership over and leaves etcd`,
          async run() {
            const others = cps.filter((n) => n.name !== node.name);
            const ask = others[0];
            const members = ask ? await talos.etcdMemberList({ node: ask.address }) : [];
            if (!members.some((m) => m.hostname === node.name)) return "not an etcd member (left earlier)";
            await talos.etcdForfeitLeadership({ node: node.address });
            await talos.etcdLeaveCluster({ node: node.address });
            return "left etcd";
          },
        });
      steps.push({
        id: "reset",
        kind: "reset",
        node: node.name,
        description: `reset ${node.name} (wipe; it reboots into maintenance mode) and wait until it has left the cluster`,
        async run(ctx) {
          const [version] = await talos.version({ nodes: [node.address] });
          if (version?.ok) {
            await talos.reset({ node: node.address, graceful: false, reboot: true });
            ctx.progress("reset sent");
          }
          return retryUntil(ctx, { what: `${node.name} leaving the cluster`, timeoutMs }, async () => {
            const [answer] = await talos.version({ nodes: [node.address], timeoutMs: 5_000 });
            return answer?.ok ? undefined : "wiped: it no longer answers as a member of this cluster";
          });
        },
      });
      steps.push({
        id: "delete-node",
        kind: "kubernetes",
        node: node.name,
        description: `delete the Kubernetes Node ${node.name}`,
        async run(step) {
          const kubeName = await kubernetesNodeName(cluster.kubernetes, node, step.signal);
          return (await cluster.kubernetes.deleteNode(kubeName, { signal: step.signal }))
            ? `deleted ${kubeName}`
            : "no such Node (deleted earlier)";
        },
      });
      if (config.tunnel && node.tunnel !== false)
        steps.push({
          id: "tunnel",
          kind: "config",
          node: node.name,
          description: `delete the cloudflared connections from ${node.address}, so the tunnel audit no longer lists ${node.name}`,
          async run() {
            const deleted = await tunnelConnections(cluster.target, loaded).deleteFrom(node.address);
            return deleted === 0 ? "no connection left" : `deleted ${deleted} connection(s)`;
          },
        });
      if (isControlPlane)
        steps.push({
          id: "talosconfig",
          kind: "config",
          description: `rewrite the talosconfig without ${node.name}'s endpoint`,
          async run(step) {
            const text = removeNodeText(loaded.text, loaded.path, node.name);
            const without = await parseConfig(text, {
              path: loaded.path,
              dir: loaded.dir,
              env: inv.ctx.env,
              resolveSecrets: false,
            });
            const sc = await createStepContext({
              loaded: without,
              stateDir: cluster.stateDir,
              target: cluster.target,
              out: inv.out,
              signal: step.signal,
              clock: step.clock,
            });
            const planned = await planSteps(sc, [secretsStep, talosconfigStep]);
            const change = planned.steps.find((s) => s.step.id === "talosconfig")?.items[0];
            if (!change || isFailure(change) || change.action === "none") return "no endpoint to drop";
            return talosconfigStep.apply(sc, change);
          },
        });
      steps.push({
        id: "config",
        kind: "config",
        node: node.name,
        description: `remove ${node.name} from ${loaded.displayName ?? loaded.path} (comments kept)`,
        async run() {
          await writeConfigText(loaded.path, removeNodeText(loaded.text, loaded.path, node.name));
          return `${node.name} removed from nodes`;
        },
      });
      const plan: Day2Plan = {
        operation: "node-remove",
        command: rerunCommand(inv, `node remove ${node.name}`),
        goal: node.name,
        summary: `remove ${node.role} ${node.name} (${node.address}) from ${config.cluster.name}`,
        steps,
        ...(quorum ? { notes: [quorum] } : {}),
      };
      return plan;
    },
  });
}
