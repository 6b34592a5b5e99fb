import { basename } from "node:path";
import { HomelabError } from "../../errors.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { Invocation } from "../cli/command.js";
import type { UPGRADE_TALOS_OPTIONS } from "../commands/upgrade/options.js";
import { ensureSchematicRegistered } from "../image-factory/register.js";
import { parseDuration } from "../pipeline/node-wait.js";
import { schematicOf } from "../plan/schematic.js";
import { type Day2Cluster, type Day2Node, openDay2Cluster } from "./cluster.js";
import { runDay2 } from "./command.js";
import type { Journal } from "./journal.js";
import {
  configEditStep,
  cordonDrainStep,
  DEFAULT_DRAIN_MS,
  DEFAULT_HEALTH_MS,
  DEFAULT_NODE_BACK_MS,
  etcdQuorumStep,
  healthStep,
  uncordonStep,
  waitReadyStep,
  waitUntil,
} from "./node-steps.js";
import type { Day2Plan, Day2Step } from "./operation.js";
import { checkTalosUpgrade, parseVersion } from "./versions.js";

type Options = typeof UPGRADE_TALOS_OPTIONS;

/** A duration option, or its default. @throws HomelabError USAGE */
export function durationOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new HomelabError("USAGE", `--${name} expects a duration like 30s or 5m, got '${value}'`);
  return ms;
}

/** The command that runs an operation again, with the flags that select the same project. */
export function rerunCommand(inv: Invocation, words: string): string {
  const parts = [`homelab ${words}`];
  if (inv.flags.config) parts.push(`--config ${inv.flags.config}`);
  if (inv.options.simulate === true) parts.push("--simulate");
  return parts.join(" ");
}

/**
 * The Talos version each node answers with. The plan needs every node up, except one a stopped run
 * left half way (it may be rebooting into the new version): its version is then unknown.
 */
async function liveVersions(
  cluster: Day2Cluster,
  signal: AbortSignal,
  halfway: (node: string) => boolean,
): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  await Promise.all(
    cluster.loaded.config.nodes.map(async (node) => {
      const [answer] = await cluster.client(node).version({ signal, timeoutMs: 10_000 });
      if (!answer?.ok && halfway(node.name)) return;
      if (!answer?.ok)
        throw new HomelabError(
          "UNREACHABLE",
          `${node.name} (${node.address}) does not answer: ${answer?.ok === false ? answer.error.rawMessage : "no reply"}; an upgrade starts only with every node up`,
          { hint: `check that ${node.name} is powered on, then run this again` },
        );
      versions.set(node.name, answer.value.tag);
    }),
  );
  return versions;
}

/** The steps of one node: etcd gate (control planes), cordon + drain, upgrade, Ready, uncordon, health. */
function nodeSteps(
  cluster: Day2Cluster,
  node: Day2Node,
  options: {
    image: string;
    target: string;
    nodeTimeoutMs: number;
    drainTimeoutMs: number;
    healthTimeoutMs: number;
  },
): Day2Step[] {
  const steps: Day2Step[] = [];
  if (node.role === "controlplane") steps.push(etcdQuorumStep(cluster, node));
  steps.push(cordonDrainStep(cluster, node, { drainTimeoutMs: options.drainTimeoutMs }));
  steps.push({
    id: `upgrade:${node.name}`,
    kind: "upgrade",
    node: node.name,
    description: `upgrade ${node.name} to ${options.target}`,
    run: async (ctx) => {
      const client = cluster.client(node);
      // a node a stopped run left rebooting is waited for before deciding
      let tag: string | undefined;
      await waitUntil(ctx, options.nodeTimeoutMs, `${node.name} does not answer`, async () => {
        const [answer] = await client.version({ signal: ctx.signal, timeoutMs: 5_000 });
        if (!answer?.ok) return `${node.name} does not answer yet`;
        tag = answer.value.tag;
        return undefined;
      });
      if (tag === options.target) return `already on ${options.target}`;
      // talos-client's flow: pull + install (LifecycleService on 1.13+), reboot, wait for the new version
      const result = await client.upgrade({
        image: options.image,
        node: node.address,
        drain: false,
        wait: true,
        waitTimeoutMs: options.nodeTimeoutMs,
        clock: ctx.clock,
        signal: ctx.signal,
        // one line per layer of the pull is noise here
        onProgress: (e) => {
          if (e.type !== "upgrade.pull.progress") ctx.progress(e);
        },
      });
      const done = result.steps.filter((s) => s.status === "done").map((s) => s.step);
      return `${done.join(", ")} (${result.flow === "lifecycle" ? "LifecycleService" : "MachineService.Upgrade"})`;
    },
  });
  steps.push(
    waitReadyStep(cluster, node, {
      timeoutMs: options.nodeTimeoutMs,
      what: `back on ${options.target} and Ready`,
      check: async (ctx) => {
        const [answer] = await cluster.client(node).version({ signal: ctx.signal, timeoutMs: 5_000 });
        if (!answer?.ok) return `${node.name} does not answer yet`;
        return answer.value.tag === options.target ? undefined : `${node.name} runs ${answer.value.tag}`;
      },
    }),
  );
  steps.push(uncordonStep(cluster, node));
  steps.push(
    healthStep(
      cluster,
      `health:${node.name}`,
      `the cluster is healthy after ${node.name}`,
      options.healthTimeoutMs,
    ),
  );
  return steps;
}

/** True when a stopped run left this node half way (some of its steps done, not all). */
function halfDone(journal: Journal | undefined, target: string, node: string): boolean {
  if (journal === undefined || journal.goal !== target || journal.finishedAt !== undefined) return false;
  const ids = Object.keys(journal.steps).filter((id) => id.endsWith(`:${node}`));
  return ids.length > 0 && journal.steps[`health:${node}`]?.status !== "done";
}

/** `homelab upgrade talos`: the plan, the question and the roll-out. */
export async function runUpgradeTalos(inv: Invocation<Options>): Promise<number> {
  const { options } = inv;
  const simulate = options.simulate === true;
  const nodeTimeoutMs = durationOption(options["node-timeout"], "node-timeout", DEFAULT_NODE_BACK_MS);
  const drainTimeoutMs = durationOption(options["drain-timeout"], "drain-timeout", DEFAULT_DRAIN_MS);
  const healthTimeoutMs = durationOption(options["health-timeout"], "health-timeout", DEFAULT_HEALTH_MS);
  if (options.to !== undefined && parseVersion(options.to) === undefined)
    throw new HomelabError("USAGE", `--to expects a Talos version like v1.14.1, got '${options.to}'`);
  const cluster = await openDay2Cluster(inv, { simulate });
  const { config } = cluster.loaded;
  const target = options.to === undefined ? config.cluster.talosVersion : `v${options.to.replace(/^v/, "")}`;
  return runDay2(inv, {
    stateDir: cluster.stateDir,
    operation: "upgrade-talos",
    simulate,
    question: (plan) =>
      `upgrade Talos to ${target} on ${plan.steps.filter((s) => s.kind === "upgrade").length} node(s) of ${config.cluster.name}?`,
    finally: () => cluster.close(),
    plan: async (previous): Promise<Day2Plan> => {
      const versions = await liveVersions(cluster, inv.ctx.signal, (name) =>
        halfDone(previous, target, name),
      );
      const tc = await loadTalosConfig();
      const schematic = schematicOf(tc, config);
      const image = tc.installerImage({ schematicId: schematic.id, version: target });
      const notes: string[] = [];
      // nodes pinned to their own version in homelab.yaml keep it
      const following = config.nodes.filter((n) => n.talosVersion === undefined);
      for (const n of config.nodes.filter((n) => n.talosVersion !== undefined))
        notes.push(`${n.name} is pinned to ${n.talosVersion} in homelab.yaml and is left as is`);
      const ordered = [
        ...following.filter((n) => n.role === "controlplane"),
        ...following.filter((n) => n.role !== "controlplane"),
      ];
      const todo = ordered.filter(
        (n) => versions.get(n.name) !== target || halfDone(previous, target, n.name),
      );
      for (const n of todo)
        if (versions.has(n.name) && versions.get(n.name) !== target)
          checkTalosUpgrade({
            node: n.name,
            from: versions.get(n.name) as string,
            to: target,
            kubernetes: config.cluster.kubernetesVersion,
          });
      const steps: Day2Step[] = [];
      if (config.cluster.talosVersion !== target)
        steps.push(
          configEditStep({
            id: "config:talosVersion",
            path: cluster.loaded.path,
            file: basename(cluster.loaded.path),
            key: ["cluster", "talosVersion"],
            from: config.cluster.talosVersion,
            to: target,
          }),
        );
      if (todo.length > 0) {
        const factory = options.offline === true ? undefined : cluster.target.imageFactory;
        if (factory !== undefined)
          steps.push({
            id: "schematic",
            kind: "check",
            description: `the Image Factory serves schematic ${schematic.id.slice(0, 12)}… (registered)`,
            run: async (ctx) => {
              await ensureSchematicRegistered(factory, schematic, ctx.signal);
              return `registered ${schematic.id}`;
            },
          });
        steps.push(
          healthStep(
            cluster,
            "health:before",
            "the cluster is healthy before the first node",
            healthTimeoutMs,
          ),
        );
      }
      for (const node of todo)
        steps.push(
          ...nodeSteps(cluster, node, { image, target, nodeTimeoutMs, drainTimeoutMs, healthTimeoutMs }),
        );
      if (todo.length > 0)
        notes.push(
          `installer image: ${image}`,
          "each node's machine config keeps its install image until the next `homelab up`, which updates it without a reboot",
        );
      const moving = todo.filter((n) => versions.has(n.name) && versions.get(n.name) !== target);
      const from = [...new Set(moving.map((n) => versions.get(n.name)))].join(", ");
      const names = todo.map((n) => n.name).join(", ");
      return {
        operation: "upgrade-talos",
        command: rerunCommand(inv, `upgrade talos --to ${target}`),
        goal: target,
        summary:
          todo.length === 0
            ? `every node of ${config.cluster.name} runs Talos ${target}`
            : moving.length === 0
              ? `finishing the upgrade to Talos ${target} on ${names}`
              : `Talos ${from} -> ${target} on ${names} (one node at a time, control planes first)`,
        steps,
        notes,
      };
    },
  });
}
