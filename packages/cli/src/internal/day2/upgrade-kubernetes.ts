import { basename } from "node:path";
import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import type { UPGRADE_KUBERNETES_OPTIONS } from "../commands/upgrade/options.js";
import {
  bootstrapManifestImages,
  type ComponentImages,
  componentImage,
  componentImages,
  imageVersion,
  withComponentImage,
} from "../plan/kubernetes-images.js";
import { type Day2Cluster, type Day2Node, openDay2Cluster } from "./cluster.js";
import { runDay2 } from "./command.js";
import {
  configEditStep,
  DEFAULT_HEALTH_MS,
  DEFAULT_NODE_BACK_MS,
  healthStep,
  kubernetesNodeName,
  waitUntil,
} from "./node-steps.js";
import type { Day2Plan, Day2Step, Day2StepContext } from "./operation.js";
import { durationOption, rerunCommand } from "./upgrade-talos.js";
import { checkKubernetesUpgrade, parseVersion } from "./versions.js";

// `talosctl upgrade-k8s` (talos pkg/cluster/kubernetes/talos_managed.go Upgrade): the control plane
// static pods one component at a time, each one node at a time (kube-apiserver, then
// kube-controller-manager, then kube-scheduler), then kube-proxy, then every node's kubelet; each
// change is a patch of the node's live machine config applied without a reboot, and waited for
// (the static pod's new image Ready; the Node reporting the new kubelet version). Last, as
// PerformManifestsSync does, the bootstrap manifests the first control plane renders from its (now
// patched) config go to the cluster: here their images, the kube-proxy DaemonSet's and the coredns
// Deployment's.

type Options = typeof UPGRADE_KUBERNETES_OPTIONS;

/** The COSI resource holding a node's active machine config. */
const MACHINE_CONFIG = {
  type: "MachineConfigs.config.talos.dev",
  namespace: "config",
  id: "v1alpha1",
} as const;

const CONTROL_PLANE_COMPONENTS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

/**
 * A node's live machine config. Read over mTLS with the cluster's CA: a node that answers is the
 * cluster's own (node-trust.ts), so the patched config goes back to the machine it came from.
 */
async function liveConfig(cluster: Day2Cluster, node: Day2Node, signal: AbortSignal): Promise<string> {
  const resource = await cluster
    .client(node)
    .get({ ...MACHINE_CONFIG, node: node.address, signal, timeoutMs: 10_000 });
  if (typeof resource.spec !== "string")
    throw new HomelabError("STATE_INVALID", `${node.name} reports no machine config`);
  return resource.spec;
}

/** Patches one component's image into the node's config and applies it without a reboot; false when it already had it. */
async function patchImage(
  cluster: Day2Cluster,
  node: Day2Node,
  component: keyof ComponentImages,
  image: string,
  ctx: Day2StepContext,
): Promise<boolean> {
  const text = await liveConfig(cluster, node, ctx.signal);
  if (componentImages(text)[component] === image) return false;
  await cluster.client(node).applyConfiguration({
    data: withComponentImage(text, component, image),
    mode: "no-reboot",
    node: node.address,
    signal: ctx.signal,
  });
  ctx.progress(`${node.name}: machine configuration patched (${component} ${image})`);
  return true;
}

function staticPodStep(
  cluster: Day2Cluster,
  node: Day2Node,
  component: (typeof CONTROL_PLANE_COMPONENTS)[number],
  options: { from: string; to: string; timeoutMs: number },
): Day2Step {
  return {
    id: `${component}:${node.name}`,
    kind: "kubernetes",
    node: node.name,
    description: `${component} ${options.from} -> ${options.to} on ${node.name}`,
    run: async (ctx) => {
      const current = componentImages(await liveConfig(cluster, node, ctx.signal))[component];
      const image = componentImage(component, options.to, current);
      const patched = await patchImage(cluster, node, component, image, ctx);
      const name = await kubernetesNodeName(cluster.kubernetes, node, ctx.signal);
      // talos pkg/cluster/kubernetes/talos_managed.go checkPodStatus: the node's pod of the component, Ready
      await waitUntil(ctx, options.timeoutMs, `${component} on ${node.name} is not updated`, async () => {
        const pods = await cluster.kubernetes.listPodImages("kube-system", `k8s-app=${component}`, {
          signal: ctx.signal,
        });
        const pod = pods.find((p) => p.nodeName === name);
        if (pod === undefined) return `no ${component} pod on ${name} yet`;
        if (!pod.images.includes(image)) return `${pod.name} still runs ${pod.images.join(", ")}`;
        return pod.ready ? undefined : `${pod.name} is not ready`;
      });
      return patched ? `${image} Ready` : `already ${image}`;
    },
  };
}

function kubeProxyStep(cluster: Day2Cluster, node: Day2Node, options: { to: string }): Day2Step {
  return {
    id: `kube-proxy:${node.name}`,
    kind: "kubernetes",
    node: node.name,
    description: `kube-proxy image ${options.to} in ${node.name}'s machine config`,
    run: async (ctx) => {
      const current = componentImages(await liveConfig(cluster, node, ctx.signal))["kube-proxy"];
      const image = componentImage("kube-proxy", options.to, current);
      return (await patchImage(cluster, node, "kube-proxy", image, ctx))
        ? `set ${image}`
        : `already ${image}`;
    },
  };
}

function kubeletStep(
  cluster: Day2Cluster,
  node: Day2Node,
  options: { from: string; to: string; timeoutMs: number },
): Day2Step {
  return {
    id: `kubelet:${node.name}`,
    kind: "kubernetes",
    node: node.name,
    description: `kubelet ${options.from} -> ${options.to} on ${node.name}`,
    run: async (ctx) => {
      const current = componentImages(await liveConfig(cluster, node, ctx.signal)).kubelet;
      const image = componentImage("kubelet", options.to, current);
      const patched = await patchImage(cluster, node, "kubelet", image, ctx);
      const name = await kubernetesNodeName(cluster.kubernetes, node, ctx.signal);
      const want = `v${options.to}`;
      // talos pkg/cluster/kubernetes/kubelet.go checkNodeKubeletVersion: the Node reports the new version
      await waitUntil(ctx, options.timeoutMs, `the kubelet of ${node.name} is not updated`, async () => {
        const version = (await cluster.kubernetes.kubeletVersions({ signal: ctx.signal }))[name];
        if (version !== want) return `${name} reports kubelet ${version ?? "nothing"}`;
        const ready = (await cluster.kubernetes.listNodes({ signal: ctx.signal })).find(
          (n) => n.name === name,
        )?.ready;
        return ready ? undefined : `${name} is not Ready`;
      });
      return patched ? `${name} reports kubelet ${want}, Ready` : `already ${want}`;
    },
  };
}

/** The bootstrap workloads whose images follow the machine config: kind, name, container. */
const MANIFEST_WORKLOADS = [
  { image: "kube-proxy", kind: "DaemonSet", name: "kube-proxy", container: "kube-proxy" },
  { image: "coredns", kind: "Deployment", name: "coredns", container: "coredns" },
] as const;

/** What of the bootstrap manifests differs from `wanted`: `kind/name image` per workload to change. */
async function manifestChanges(
  cluster: Day2Cluster,
  wanted: ReturnType<typeof bootstrapManifestImages>,
  signal: AbortSignal,
): Promise<(typeof MANIFEST_WORKLOADS)[number][]> {
  const changes: (typeof MANIFEST_WORKLOADS)[number][] = [];
  for (const w of MANIFEST_WORKLOADS) {
    const image = wanted[w.image];
    if (image === undefined) continue;
    const current = await cluster.kubernetes.workloadImages(w.kind, "kube-system", w.name, { signal });
    // a workload the cluster does not have (removed, or kube-proxy disabled) is not created here
    if (current !== undefined && current[w.container] !== image) changes.push(w);
  }
  return changes;
}

function manifestsStep(cluster: Day2Cluster, cp: Day2Node): Day2Step {
  return {
    id: "manifests",
    kind: "kubernetes",
    node: cp.name,
    description: `bootstrap manifests: kube-proxy DaemonSet and coredns Deployment images from ${cp.name}'s machine config`,
    run: async (ctx) => {
      const wanted = bootstrapManifestImages(await liveConfig(cluster, cp, ctx.signal));
      const changes = await manifestChanges(cluster, wanted, ctx.signal);
      for (const w of changes) {
        const image = wanted[w.image] as string;
        await cluster.kubernetes.setWorkloadImage(w.kind, "kube-system", w.name, w.container, image, {
          signal: ctx.signal,
        });
        ctx.progress(`kube-system ${w.kind} ${w.name}: ${image}`);
      }
      return changes.length === 0
        ? "already in step"
        : changes.map((w) => `${w.kind} ${w.name} ${wanted[w.image]}`).join(", ");
    },
  };
}

/** `homelab upgrade kubernetes`: the plan, the question and the roll-out. */
export async function runUpgradeKubernetes(inv: Invocation<Options>): Promise<number> {
  const { options } = inv;
  const simulate = options.simulate === true;
  const nodeTimeoutMs = durationOption(options["node-timeout"], "node-timeout", DEFAULT_NODE_BACK_MS);
  const healthTimeoutMs = durationOption(options["health-timeout"], "health-timeout", DEFAULT_HEALTH_MS);
  if (options.to !== undefined && parseVersion(options.to) === undefined)
    throw new HomelabError("USAGE", `--to expects a Kubernetes version like 1.35.1, got '${options.to}'`);
  const cluster = await openDay2Cluster(inv, { simulate });
  const { config } = cluster.loaded;
  const target = (options.to ?? config.cluster.kubernetesVersion).replace(/^v/, "");
  return runDay2(inv, {
    stateDir: cluster.stateDir,
    operation: "upgrade-kubernetes",
    simulate,
    question: (plan) =>
      `upgrade Kubernetes to ${target} on ${config.cluster.name} (${plan.steps.filter((s) => s.kind === "kubernetes").length} change(s))?`,
    finally: () => cluster.close(),
    plan: async (previous): Promise<Day2Plan> => {
      const signal = inv.ctx.signal;
      const nodes = config.nodes;
      const cps = nodes.filter((n) => n.role === "controlplane");
      const workers = nodes.filter((n) => n.role !== "controlplane");
      const live = new Map<string, ComponentImages>();
      const talosVersions: string[] = [];
      await Promise.all(
        nodes.map(async (node) => {
          live.set(node.name, componentImages(await liveConfig(cluster, node, signal)));
          const [v] = await cluster.client(node).version({ signal, timeoutMs: 10_000 });
          if (v?.ok) talosVersions.push(v.value.tag);
        }),
      );
      const server = await cluster.kubernetes.serverVersion({ signal });
      const from = server.replace(/^v/, "");
      const want = `v${target}`;
      // a step a stopped run left failed or interrupted may have patched the config already: it
      // stays in the plan, so that its wait (and the health gate after it) still happen
      const unfinished = (id: string) =>
        previous?.goal === target &&
        previous.finishedAt === undefined &&
        previous.steps[id] !== undefined &&
        previous.steps[id]?.status !== "done";
      const differs = (node: Day2Node, component: keyof ComponentImages) =>
        imageVersion(live.get(node.name)?.[component]) !== want || unfinished(`${component}:${node.name}`);
      const steps: Day2Step[] = [];
      if (config.cluster.kubernetesVersion !== target)
        steps.push(
          configEditStep({
            id: "config:kubernetesVersion",
            path: cluster.loaded.path,
            file: basename(cluster.loaded.path),
            key: ["cluster", "kubernetesVersion"],
            from: config.cluster.kubernetesVersion,
            to: target,
          }),
        );
      const changes: Day2Step[] = [];
      const fromOf = (node: Day2Node, component: keyof ComponentImages) =>
        imageVersion(live.get(node.name)?.[component])?.replace(/^v/, "") ?? from;
      for (const component of CONTROL_PLANE_COMPONENTS)
        for (const cp of cps.filter((n) => differs(n, component)))
          changes.push(
            staticPodStep(cluster, cp, component, {
              from: fromOf(cp, component),
              to: target,
              timeoutMs: nodeTimeoutMs,
            }),
          );
      if (changes.length > 0)
        changes.push(
          healthStep(
            cluster,
            "health:control-plane",
            "the cluster is healthy with the new control plane",
            healthTimeoutMs,
          ),
        );
      // kube-proxy: only where the config names it (a cluster with kube-proxy disabled has no image to move)
      for (const cp of cps.filter(
        (n) => live.get(n.name)?.["kube-proxy"] !== undefined && differs(n, "kube-proxy"),
      ))
        changes.push(kubeProxyStep(cluster, cp, { to: target }));
      for (const node of [...cps, ...workers].filter((n) => differs(n, "kubelet"))) {
        changes.push(
          kubeletStep(cluster, node, { from: fromOf(node, "kubelet"), to: target, timeoutMs: nodeTimeoutMs }),
        );
        changes.push(
          healthStep(
            cluster,
            `health:${node.name}`,
            `the cluster is healthy after ${node.name}'s kubelet`,
            healthTimeoutMs,
          ),
        );
      }
      // the bootstrap manifests as the first control plane renders them once its kube-proxy image moved
      const first = cps[0];
      const firstImages = first === undefined ? undefined : live.get(first.name);
      if (first !== undefined && firstImages !== undefined) {
        const text = await liveConfig(cluster, first, signal);
        const wanted = bootstrapManifestImages(text);
        if (wanted["kube-proxy"] !== undefined)
          wanted["kube-proxy"] = componentImage("kube-proxy", target, wanted["kube-proxy"]);
        if (changes.length > 0 || (await manifestChanges(cluster, wanted, signal)).length > 0) {
          changes.push(manifestsStep(cluster, first));
          changes.push(
            healthStep(
              cluster,
              "health:manifests",
              "the cluster is healthy with the synced bootstrap manifests",
              healthTimeoutMs,
            ),
          );
        }
      }
      if (changes.length > 0) {
        const lowest = [
          ...nodes.flatMap((n) => Object.values(live.get(n.name) ?? {}).map(imageVersion)),
          server,
        ]
          .filter((v): v is string => v !== undefined)
          .sort((a, b) => (parseVersion(a)?.minor ?? 0) - (parseVersion(b)?.minor ?? 0))[0];
        checkKubernetesUpgrade({
          from: (lowest ?? server).replace(/^v/, ""),
          to: target,
          talos: talosVersions,
        });
        steps.push(
          healthStep(
            cluster,
            "health:before",
            "the cluster is healthy before the first change",
            healthTimeoutMs,
          ),
        );
      }
      steps.push(...changes);
      return {
        operation: "upgrade-kubernetes",
        command: rerunCommand(inv, `upgrade kubernetes --to ${target}`),
        goal: target,
        summary:
          changes.length === 0
            ? `${config.cluster.name} runs Kubernetes ${target} everywhere`
            : `Kubernetes ${from} -> ${target} on ${config.cluster.name}: control plane components node by node, then the kubelets, then the bootstrap manifests`,
        steps: changes.length === 0 ? steps.filter((s) => s.kind === "config") : steps,
        notes:
          changes.length === 0
            ? []
            : [
                "the bootstrap manifests sync sets the kube-proxy DaemonSet's and the coredns Deployment's images only; their other fields stay as they are",
              ],
      };
    },
  });
}
