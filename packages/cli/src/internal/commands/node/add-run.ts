import { HomelabError } from "../../../errors.js";
import { loadTalosClient, type TalosClient } from "../../adapters/talos-client.js";
import type { Invocation } from "../../cli/command.js";
import { addNodeText, type NodeEntry, writeConfigText } from "../../config/edit.js";
import { type LoadedConfig, parseConfig } from "../../config/load.js";
import { runDay2 } from "../../day2/command.js";
import { waitReadyStep } from "../../day2/node-steps.js";
import type { Day2Plan, Day2Step } from "../../day2/operation.js";
import { retryUntil } from "../../day2/retry.js";
import { durationOption, rerunCommand } from "../../day2/upgrade-talos.js";
import { type ClusterKubernetes, createKubernetesAccess } from "../../kube/access.js";
import { remoteHelm } from "../../lab/lab.js";
import { powerOnLabMachine, runningLab } from "../../lab/running.js";
import type { NodeTrust } from "../../pipeline/node-trust.js";
import { createStepContext, planSteps } from "../../pipeline/run.js";
import { type Change, isFailure } from "../../pipeline/step.js";
import { machineConfigStep } from "../../pipeline/steps/machine-config.js";
import { secretsStep } from "../../pipeline/steps/secrets.js";
import { talosconfigStep } from "../../pipeline/steps/talosconfig.js";
import { tunnelStep } from "../../pipeline/steps/tunnel.js";
import { labTarget, realTarget, type Target } from "../../pipeline/target.js";
import { cloudflareApiToken } from "../../secrets/cloudflare-token.js";
import { clusterAccess } from "../../state/cluster-access.js";
import { confirm, execRunner, loadProject } from "../common.js";
import type { NODE_ADD_OPTIONS } from "./add.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

/** The homelab.yaml entry the flags describe, shaped like a node of the same role. */
function entryOf(
  config: LoadedConfig["config"],
  name: string,
  address: string,
  options: Invocation<typeof NODE_ADD_OPTIONS>["options"],
): NodeEntry {
  const role = options.role ?? "worker";
  const sibling = config.nodes.find((n) => n.role === role) ?? config.nodes[0];
  const model = sibling?.interfaces[0];
  const prefix = model?.addresses?.[0]?.split("/")[1] ?? "24";
  const interfaceName = options.interface ?? model?.name;
  const gateway = options.gateway ?? model?.gateway;
  const installDisk = options["install-disk"] ?? sibling?.installDisk;
  const selector = installDisk === undefined ? sibling?.installDiskSelector : undefined;
  // control planes share the VIP their siblings announce
  const vip = role === "controlplane" && options.interface === undefined ? model?.vip : undefined;
  return {
    name,
    role,
    address,
    ...(installDisk ? { installDisk } : {}),
    ...(selector ? { installDiskSelector: selector } : {}),
    ...(interfaceName
      ? {
          interfaces: [
            {
              name: interfaceName,
              addresses: [`${address}/${prefix}`],
              ...(gateway ? { gateway } : {}),
              ...(vip ? { vip } : {}),
            },
          ],
        }
      : {}),
  };
}

/** True when the node answers over mTLS as a member of this cluster. */
async function isMember(talos: TalosClient, node: NodeConfig): Promise<boolean> {
  const [answer] = await talos.version({ nodes: [node.address], timeoutMs: 5_000 });
  return answer?.ok === true;
}

/** `homelab node add [NAME]` */
export async function runNodeAdd(inv: Invocation<typeof NODE_ADD_OPTIONS>): Promise<number> {
  const { options, ctx } = inv;
  const name = inv.args[0];
  const timeoutMs = durationOption(options["node-timeout"], "node-timeout", 600_000);
  const shaping = (["role", "install-disk", "interface", "gateway"] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (options.address === undefined && shaping.length > 0)
    throw new HomelabError("USAGE", `--${shaping[0]} describes a new node: give its --address too`);
  if (options.address !== undefined && name === undefined)
    throw new HomelabError(
      "USAGE",
      "--address needs the new node's NAME: homelab node add NAME --address IP",
    );
  const first = await loadProject(inv, { resolveSecrets: false });
  const access = await clusterAccess(inv, first);
  // with --address, homelab.yaml is read with the node added (written only when the plan is applied)
  let text = first.text;
  let writes: NodeEntry | undefined;
  if (options.address !== undefined && name !== undefined) {
    const listed = first.config.nodes.find((n) => n.name === name);
    if (listed && listed.address !== options.address)
      throw new HomelabError(
        "USAGE",
        `${first.path}: nodes already lists ${name} with address ${listed.address}`,
      );
    if (!listed) {
      writes = entryOf(first.config, name, options.address, options);
      text = addNodeText(first.text, first.path, writes);
    }
  }
  const loaded = await parseConfig(text, {
    path: first.path,
    dir: first.dir,
    displayName: first.displayName,
    env: ctx.env,
    homedir: ctx.homedir,
    resolveSecrets: true,
    placeholderSecrets: access.lab !== undefined,
  });
  const { config } = loaded;
  const talosLib = await loadTalosClient();
  const talos = talosLib.createTalosClient({ talosconfig: access.talosconfig, timeoutMs: 30_000 });
  const fingerprint = options["cert-fingerprint"];
  // the Kubernetes API through the kubeconfig `up` stored, opened when a plan has nodes to wait for
  const kubernetes = async (): Promise<ClusterKubernetes> => {
    const text = await access.state.read("kubeconfig");
    if (text === undefined)
      throw new HomelabError(
        "MISSING_CREDENTIALS",
        `no kubeconfig in ${access.state.describe("kubeconfig")}: this homelab was not brought up from here`,
        { hint: "run `homelab up` first" },
      );
    return createKubernetesAccess(text, access.state.describe("kubeconfig"));
  };
  return runDay2(inv, {
    stateDir: access.stateDir,
    operation: "node-add",
    simulate: inv.options.simulate === true,
    question: (plan) => `${plan.summary}?`,
    finally: () => talos.close(),
    plan: async () => {
      let nodes: NodeConfig[];
      if (name !== undefined) {
        const node = config.nodes.find((n) => n.name === name);
        if (!node)
          throw new HomelabError("USAGE", `${loaded.path}: nodes lists no ${name}`, {
            hint: `add it to homelab.yaml, or give its address: homelab node add ${name} --address IP`,
          });
        nodes = [node];
      } else nodes = config.nodes;
      const lab = access.lab;
      const fresh: NodeConfig[] = [];
      for (const node of nodes) {
        const hasMachine = !lab || lab.nodes.some((m) => m.name === node.name);
        if (!hasMachine || !(await isMember(talos, node))) fresh.push(node);
      }
      const goal = fresh.map((n) => n.name).join(",") || "none";
      const steps: Day2Step[] = [];
      if (writes) {
        const entry = writes;
        steps.push({
          id: "config",
          kind: "config",
          node: entry.name,
          description: `add ${entry.name} (${entry.role}, ${entry.address}) to ${loaded.displayName ?? loaded.path} (comments kept)`,
          async run() {
            await writeConfigText(loaded.path, text);
            return `${entry.name} listed in nodes`;
          },
        });
      }
      for (const node of fresh) {
        if (lab && !lab.nodes.some((m) => m.name === node.name))
          steps.push({
            id: `machine:${node.name}`,
            kind: "config",
            node: node.name,
            description: `power on a machine for ${node.name} in the simulated lab (it boots into maintenance mode)`,
            async run() {
              const info = await powerOnLabMachine(access.stateDir, lab, node);
              return `machine up at ${info.nodes.find((m) => m.name === node.name)?.endpoint ?? "?"}`;
            },
          });
        steps.push({
          id: `apply:${node.name}`,
          kind: "apply",
          node: node.name,
          description: `render ${node.name}'s machine config and apply it in maintenance mode (certificate checked first)`,
          async run(step) {
            let target: Target;
            if (lab) {
              const info = (await runningLab(access.stateDir, config)) ?? lab;
              target = labTarget(info, remoteHelm(info.helm.url));
            } else {
              target = realTarget(ctx.env, execRunner(inv), await cloudflareApiToken(loaded, ctx.env));
              if (options.offline === true) delete target.imageFactory;
            }
            const trust: NodeTrust = {
              // a node added again after `node remove` is known to the state: it may be in maintenance mode
              reinstall: new Set([node.name]),
              pinned: fingerprint ? { [node.name]: fingerprint } : {},
              ...(inv.flags.yes || lab ? {} : { confirm: (q: string) => confirm(inv, q) }),
            };
            const sc = await createStepContext({
              loaded,
              stateDir: access.stateDir,
              target,
              out: inv.out,
              signal: step.signal,
              clock: step.clock,
              env: ctx.env,
              trust,
              nodeTimeoutMs: timeoutMs,
            });
            const plan = await planSteps(sc, [secretsStep, tunnelStep, talosconfigStep, machineConfigStep]);
            let ours: Change | undefined;
            for (const { step: s, items } of plan.steps)
              for (const item of items) {
                const mine = item.id === `config:${node.name}`;
                if (isFailure(item)) {
                  // another node that cannot be read is not this command's business
                  if (s.id === "machine-config" && !mine) continue;
                  throw item.error ?? new HomelabError("COMMAND_FAILED", `${item.subject}: ${item.message}`);
                }
                if (mine) ours = item;
                else if (s.id === "talosconfig" && item.action !== "none") {
                  step.progress("control-plane endpoints changed: rewriting talosconfig");
                  await s.apply(sc, item);
                }
              }
            if (!ours || ours.action === "none") return "config already applied";
            return machineConfigStep.apply(sc, ours as Parameters<typeof machineConfigStep.apply>[1]);
          },
        });
        steps.push({
          id: `join:${node.name}`,
          kind: "wait",
          node: node.name,
          description:
            node.role === "controlplane"
              ? `wait until ${node.name} runs and is an etcd member`
              : `wait until ${node.name} runs its services`,
          async run(step) {
            const fresh = talosLib.createTalosClient({
              talosconfig: (await access.state.read("talosconfig")) ?? access.talosconfig,
              timeoutMs: 10_000,
            });
            try {
              return await retryUntil(step, { what: `${node.name} joining`, timeoutMs }, async () => {
                const [services] = await fresh.serviceList({ nodes: [node.address] });
                if (!services?.ok) return undefined;
                const kubelet = services.value.find((s) => s.id === "kubelet");
                if (kubelet?.state !== "Running") return undefined;
                if (node.role !== "controlplane") return "running (kubelet up)";
                const members = await fresh.etcdMemberList({ node: node.address });
                return members.some((m) => m.hostname === node.name)
                  ? `etcd member (${members.length} member(s))`
                  : undefined;
              });
            } finally {
              fresh.close();
            }
          },
        });
      }
      // the kubelet registered its Node and the Node is Ready (as the upgrades wait for a node coming back)
      if (fresh.length > 0) {
        const cluster = { kubernetes: await kubernetes() };
        for (const node of fresh)
          steps.push(
            waitReadyStep(cluster, node, { timeoutMs, what: "a registered, Ready Kubernetes Node" }),
          );
      }
      if (fresh.length > 0)
        steps.push({
          id: "health",
          kind: "health",
          description: `wait until the cluster is healthy (${config.nodes.length} node(s))`,
          async run(step) {
            const client = talosLib.createTalosClient({
              talosconfig: (await access.state.read("talosconfig")) ?? access.talosconfig,
              timeoutMs: 30_000,
            });
            try {
              const report = await client.waitForHealthy({
                controlPlaneNodes: config.nodes
                  .filter((n) => n.role === "controlplane")
                  .map((n) => n.address),
                workerNodes: config.nodes.filter((n) => n.role === "worker").map((n) => n.address),
                timeoutMs,
                signal: step.signal,
                onProgress: (e) => step.progress(e),
              });
              return `healthy (etcd members: ${report.etcdMembers.length})`;
            } finally {
              client.close();
            }
          },
        });
      const plan: Day2Plan = {
        operation: "node-add",
        command: rerunCommand(inv, `node add${name ? ` ${name}` : ""}`),
        goal,
        summary:
          fresh.length === 0
            ? `${nodes.map((n) => n.name).join(", ")} already in ${config.cluster.name}`
            : `join ${fresh.map((n) => `${n.role} ${n.name} (${n.address})`).join(", ")} to ${config.cluster.name}`,
        steps: fresh.length === 0 && !writes ? [] : steps,
      };
      return plan;
    },
  });
}
