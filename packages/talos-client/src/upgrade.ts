import { isTalosClientError, TalosClientError } from "./errors.js";
import { ContainerDriver, ContainerdNamespace } from "./gen/common/common_pb.js";
import { ImageService } from "./gen/machine/image_pb.js";
import { LifecycleService } from "./gen/machine/lifecycle_pb.js";
import { MachineService, RebootRequest_Mode, UpgradeRequest_RebootMode } from "./gen/machine/machine_pb.js";
import type { Clock, KubernetesAccess } from "./health.js";
import { systemClock } from "./health.js";
import type { Calls } from "./internal/call.js";
import { first, firstIfAny, parseTag } from "./internal/messages.js";
import type { ProgressEvent, TalosClient, UpgradeResult } from "./types.js";

/** One step of an upgrade and what happened. */
export interface UpgradeStep {
  step: "pull" | "install" | "cordon" | "drain" | "reboot" | "wait" | "uncordon" | "upgrade";
  status: "done" | "skipped" | "failed";
  detail: string;
}

/** What the drain/reboot/wait part of an upgrade needs. */
export interface FinishUpgradeOptions {
  client: TalosClient;
  /** The target node (`node` metadata), or undefined for the endpoint itself. */
  node: string | undefined;
  /** The node's address as reported (matched against Kubernetes InternalIPs). */
  label: string;
  /** The tag the node should come back with (from the installer image), if it names one. */
  expectedTag: string | undefined;
  kubernetes: KubernetesAccess | undefined;
  /** Cordon and drain first; default true when Kubernetes access is given. */
  drain: boolean | undefined;
  kubernetesNodeName: string | undefined;
  drainTimeoutMs: number | undefined;
  /** Wait for the node to come back on the new version (and Ready); default true. */
  wait: boolean | undefined;
  waitTimeoutMs: number | undefined;
  clock: Clock | undefined;
  signal: AbortSignal | undefined;
  steps: UpgradeStep[];
  progress: (type: string, message: string, data?: Record<string, unknown>) => void;
  /** Sends the reboot (with the requested mode) and returns its actor id. */
  reboot: () => Promise<string>;
}

/** `kubectl drain` polls every few seconds; talosctl's nodedrain waits at most 5 minutes. */
const DRAIN_POLL_MS = 5_000;
/** `kubectl drain` waits for evicted pods to be gone, checking every second. */
const DELETE_POLL_MS = 1_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 5 * 60_000;
const WAIT_POLL_MS = 2_000;
const DEFAULT_WAIT_TIMEOUT_MS = 15 * 60_000;

/** The version tag an installer image names (`…/installer:v1.14.0` → `v1.14.0`), if any. */
export function imageTag(image: string): string | undefined {
  const name = image.split("@")[0] ?? image;
  const colon = name.lastIndexOf(":");
  if (colon <= name.lastIndexOf("/")) return undefined;
  const tag = name.slice(colon + 1);
  return /^v\d+\.\d+\.\d+/.test(tag) ? tag : undefined;
}

async function kubernetesNodeName(kube: KubernetesAccess, options: FinishUpgradeOptions): Promise<string> {
  if (options.kubernetesNodeName !== undefined) return options.kubernetesNodeName;
  const nodes = await kube.listNodes(options.signal ? { signal: options.signal } : {});
  const match = nodes.find((n) => n.internalIPs.includes(options.label));
  if (match === undefined) {
    throw new TalosClientError(
      "FAILED_PRECONDITION",
      `no Kubernetes node has InternalIP ${options.label}: pass kubernetesNodeName, or drain: false`,
      { details: { node: options.label } },
    );
  }
  return match.name;
}

/** Options of {@link drainNode}. */
export interface DrainNodeOptions {
  kubernetes: KubernetesAccess;
  /** The Kubernetes node name. */
  node: string;
  /** Default 5 minutes (talosctl's). */
  timeoutMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** One event per eviction pass (`drain.evicted`, `drain.blocked`). */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * Drains a (cordoned) Kubernetes node as `kubectl drain --ignore-daemonsets` does: evicts every pod
 * through the eviction API, so PodDisruptionBudgets hold (a refused eviction, HTTP 429, is retried
 * every 5 s until `timeoutMs`), leaves DaemonSet and mirror pods, then waits until the evicted pods
 * are gone (polled every second). Resolves to the number of pods evicted.
 * @throws TalosClientError DEADLINE_EXCEEDED naming the pods a budget still blocks
 */
export async function drainNode(options: DrainNodeOptions): Promise<number> {
  const { kubernetes: kube, node: name, signal } = options;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const started = clock.now();
  const call = signal ? { signal } : {};
  let evicted = 0;
  for (;;) {
    const pods = (await kube.listPods({ nodeName: name }, call)).filter((p) => !p.daemonSet && !p.mirror);
    if (pods.length === 0) return evicted;
    const blocked: string[] = [];
    for (const pod of pods) {
      const outcome = await kube.evictPod(pod.namespace, pod.name, call);
      if (outcome === "evicted") {
        evicted++;
        options.onProgress?.({
          type: "drain.evicted",
          message: `evicted ${pod.namespace}/${pod.name}`,
          node: name,
        });
      } else if (outcome === "blocked") blocked.push(`${pod.namespace}/${pod.name}`);
    }
    if (blocked.length > 0)
      options.onProgress?.({
        type: "drain.blocked",
        message: `a PodDisruptionBudget blocks ${blocked.join(", ")}; retrying`,
        node: name,
      });
    const wait = blocked.length > 0 ? DRAIN_POLL_MS : DELETE_POLL_MS;
    if (clock.now() - started + wait > timeoutMs) {
      throw new TalosClientError(
        "DEADLINE_EXCEEDED",
        `draining ${name} did not finish within ${timeoutMs} ms` +
          (blocked.length > 0 ? `: a PodDisruptionBudget blocks ${blocked.join(", ")}` : ""),
        { details: { node: name, blocked } },
      );
    }
    await clock.sleep(wait, signal);
  }
}

/** Polls until the node answers with the expected version and, with Kubernetes access, is Ready. */
async function waitBack(
  options: FinishUpgradeOptions,
  clock: Clock,
  name: string | undefined,
): Promise<string> {
  const started = clock.now();
  const timeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const call = options.signal ? { signal: options.signal } : {};
  let last = "no answer yet";
  for (;;) {
    await clock.sleep(WAIT_POLL_MS, options.signal);
    const target = options.node === undefined ? {} : { nodes: [options.node] };
    const [answer] = await options.client.version({ ...target, timeoutMs: 5_000, ...call });
    if (answer?.ok) {
      const tag = answer.value.tag;
      if (options.expectedTag === undefined || tag === options.expectedTag) {
        if (options.kubernetes === undefined || name === undefined) return tag;
        const ready = (await options.kubernetes.listNodes(call)).find((n) => n.name === name)?.ready === true;
        if (ready) return tag;
        last = `running ${tag}, Kubernetes node ${name} not Ready yet`;
      } else last = `still running ${tag}`;
    } else if (answer?.ok === false) last = answer.error.rawMessage;
    if (clock.now() - started + WAIT_POLL_MS > timeoutMs) {
      throw new TalosClientError(
        "DEADLINE_EXCEEDED",
        `${options.label} did not come back on ${options.expectedTag ?? "the new version"} within ${timeoutMs} ms (${last})`,
        { details: { node: options.label } },
      );
    }
  }
}

/**
 * The part of a 1.13+ upgrade after the install, as talosctl runs it (talos
 * cmd/talosctl/cmd/talos/upgrade.go upgradeViaLifecycleService): cordon and drain the Kubernetes node,
 * reboot with the requested mode, wait until the node answers on the new version and is Ready, uncordon
 * (also when a later step failed). Returns the reboot's actor id; every step lands in `steps`.
 */
export async function finishUpgrade(options: FinishUpgradeOptions): Promise<string> {
  const clock = options.clock ?? systemClock;
  const kube = options.kubernetes;
  const { steps, progress } = options;
  const drainWanted = options.drain ?? kube !== undefined;
  if (drainWanted && kube === undefined) {
    throw new TalosClientError(
      "INVALID_ARGUMENT",
      "drain needs Kubernetes access: pass kubernetes, or drain: false",
    );
  }
  let cordoned: string | undefined;
  try {
    if (drainWanted && kube !== undefined) {
      const name = await kubernetesNodeName(kube, options);
      progress("upgrade.cordon", `cordoning ${name}`);
      await kube.setUnschedulable(name, true, options.signal ? { signal: options.signal } : {});
      cordoned = name;
      steps.push({ step: "cordon", status: "done", detail: `cordoned ${name}` });
      progress("upgrade.drain", `draining ${name}`);
      const evicted = await drainNode({
        kubernetes: kube,
        node: name,
        clock,
        ...(options.drainTimeoutMs === undefined ? {} : { timeoutMs: options.drainTimeoutMs }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onProgress: (e) => progress(`upgrade.${e.type}`, e.message),
      });
      steps.push({ step: "drain", status: "done", detail: `evicted ${evicted} pod(s) from ${name}` });
    } else {
      const why = kube === undefined ? "no Kubernetes access" : "drain: false";
      steps.push(
        { step: "cordon", status: "skipped", detail: why },
        { step: "drain", status: "skipped", detail: why },
      );
    }
    progress("upgrade.reboot", `rebooting ${options.label}`);
    const actorId = await options.reboot();
    steps.push({
      step: "reboot",
      status: "done",
      detail: `reboot requested (actor ${actorId || "unknown"})`,
    });
    if (options.wait === false) {
      steps.push({ step: "wait", status: "skipped", detail: "wait: false" });
    } else {
      progress("upgrade.wait", `waiting for ${options.label} to come back`);
      const tag = await waitBack(options, clock, cordoned);
      steps.push({ step: "wait", status: "done", detail: `${options.label} is back on ${tag}` });
    }
    return actorId;
  } finally {
    if (cordoned !== undefined && kube !== undefined) {
      // After a failure too: talosctl uncordons in a deferred step.
      try {
        await kube.setUnschedulable(cordoned, false, options.signal ? { signal: options.signal } : {});
        steps.push({ step: "uncordon", status: "done", detail: `uncordoned ${cordoned}` });
        progress("upgrade.uncordon", `uncordoned ${cordoned}`);
      } catch (error) {
        steps.push({ step: "uncordon", status: "failed", detail: TalosClientError.from(error).rawMessage });
      }
    } else if (!drainWanted) {
      steps.push({ step: "uncordon", status: "skipped", detail: "not cordoned" });
    }
  }
}

/**
 * `TalosClient.upgrade`: on 1.13+ pull and install through ImageService/LifecycleService, then (unless
 * `reboot: false`) cordon, drain, reboot, wait and uncordon through {@link finishUpgrade}; before 1.13,
 * or staged, the legacy MachineService.Upgrade.
 */
export function upgradeMethod(c: Calls, client: () => TalosClient): TalosClient["upgrade"] {
  return async (opts) => {
    const { node, label } = await c.singleNode(opts.node);
    const progress = (type: string, message: string, data: Record<string, unknown> = {}): void =>
      opts.onProgress?.({ type, message, node: label, ...data });
    const legacy = async (): Promise<UpgradeResult> => {
      progress("upgrade.legacy", `upgrading ${label} with MachineService.Upgrade`);
      const res = await c.unary(
        MachineService.method.upgrade,
        {
          image: opts.image,
          stage: opts.stage ?? false,
          force: opts.force ?? false,
          preserve: opts.preserve ?? false,
          rebootMode:
            opts.rebootMode === "powercycle"
              ? UpgradeRequest_RebootMode.POWERCYCLE
              : UpgradeRequest_RebootMode.DEFAULT,
        },
        node,
        opts,
        false,
      );
      const m = firstIfAny(res.messages, label);
      progress("upgrade.accepted", m?.ack ?? "upgrade accepted");
      const steps: UpgradeStep[] = [
        { step: "upgrade", status: "done", detail: m?.ack ?? "upgrade accepted (MachineService.Upgrade)" },
      ];
      return { node: label, flow: "legacy", actorId: m?.actorId ?? "", steps };
    };
    if (opts.stage === true) return legacy();
    const versionRes = await c.unary(MachineService.method.version, {}, node, opts, true);
    const tag = parseTag(first(versionRes.messages, label, "version").version?.tag ?? "");
    if (tag === undefined || tag[0] < 1 || (tag[0] === 1 && tag[1] < 13)) return legacy();
    const containerd = { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_SYSTEM };
    const steps: UpgradeStep[] = [];
    try {
      progress("upgrade.pull", `pulling ${opts.image}`);
      for await (const item of c.serverStream(
        ImageService.method.pull,
        { containerd, imageRef: opts.image },
        node,
        opts,
      )) {
        if (item.response.case === "name") progress("upgrade.pulled", `pulled ${item.response.value}`);
        else if (item.response.case === "pullProgress") {
          const p = item.response.value;
          progress("upgrade.pull.progress", `layer ${p.layerId}`, {
            layer: p.layerId,
            offset: Number(p.progress?.offset ?? 0n),
            total: Number(p.progress?.total ?? 0n),
          });
        }
      }
    } catch (error) {
      if (isTalosClientError(error) && error.code === "UNIMPLEMENTED") return legacy();
      throw error;
    }
    steps.push({ step: "pull", status: "done", detail: `pulled ${opts.image}` });
    for await (const item of c.serverStream(
      LifecycleService.method.upgrade,
      { containerd, source: { imageName: opts.image } },
      node,
      opts,
    )) {
      const p = item.progress?.response;
      if (p?.case === "message") progress("upgrade.progress", p.value);
      else if (p?.case === "exitCode" && p.value !== 0) {
        throw new TalosClientError("NODE_ERROR", `${label}: the upgrade failed with exit code ${p.value}`, {
          details: { node: label, exitCode: p.value },
        });
      }
    }
    steps.push({ step: "install", status: "done", detail: `installed ${opts.image}` });
    let actorId = "";
    if (opts.reboot === false) {
      for (const step of ["cordon", "drain", "reboot", "wait", "uncordon"] as const) {
        steps.push({ step, status: "skipped", detail: "reboot: false" });
      }
    } else {
      const mode =
        opts.rebootMode === "powercycle" ? RebootRequest_Mode.POWERCYCLE : RebootRequest_Mode.DEFAULT;
      actorId = await finishUpgrade({
        client: client(),
        node,
        label,
        expectedTag: imageTag(opts.image),
        kubernetes: opts.kubernetes,
        drain: opts.drain,
        kubernetesNodeName: opts.kubernetesNodeName,
        drainTimeoutMs: opts.drainTimeoutMs,
        wait: opts.wait,
        waitTimeoutMs: opts.waitTimeoutMs,
        clock: opts.clock,
        signal: opts.signal,
        steps,
        progress,
        reboot: async () => {
          const res = await c.unary(MachineService.method.reboot, { mode }, node, opts, false);
          return res.messages[0]?.actorId ?? "";
        },
      });
    }
    return { node: label, flow: "lifecycle", actorId, steps };
  };
}
