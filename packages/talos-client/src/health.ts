import { TalosClientError } from "./errors.js";
import type { HealthReport, NodeHealth, ProgressEvent, TalosClient } from "./types.js";

/** Time as the health and upgrade loops see it; inject a fake one in tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with CANCELLED when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A Kubernetes node as the health checks and the upgrade drain need it. */
export interface KubernetesNode {
  name: string;
  /** The node's InternalIP addresses. */
  internalIPs: string[];
  ready: boolean;
  unschedulable: boolean;
}

/** A pod as the health checks and the drain need it. */
export interface KubernetesPod {
  namespace: string;
  name: string;
  nodeName: string;
  ready: boolean;
  /** Owned by a DaemonSet (a drain leaves those alone, as `kubectl drain --ignore-daemonsets`). */
  daemonSet: boolean;
  /** A static (mirror) pod: not evictable. */
  mirror: boolean;
}

/**
 * The little of the Kubernetes API that health checks and upgrades use, injected so this package needs
 * no Kubernetes client library. Implement it over any client (kubectl, @kubernetes/client-node, fetch).
 */
export interface KubernetesAccess {
  listNodes(options?: { signal?: AbortSignal }): Promise<KubernetesNode[]>;
  /** Pods of a namespace (all when `namespace` is undefined), filtered by label selector and/or node. */
  listPods(
    query: { namespace?: string; labelSelector?: string; nodeName?: string },
    options?: { signal?: AbortSignal },
  ): Promise<KubernetesPod[]>;
  /** Desired replicas of the DaemonSets or Deployments matching the selector; undefined when none exists. */
  desiredReplicas(
    kind: "DaemonSet" | "Deployment",
    namespace: string,
    labelSelector: string,
    options?: { signal?: AbortSignal },
  ): Promise<number | undefined>;
  /** Sets `spec.unschedulable` (cordon / uncordon). */
  setUnschedulable(node: string, unschedulable: boolean, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Evicts a pod through the eviction API, which honours PodDisruptionBudgets: `blocked` when a budget
   * refuses it now (HTTP 429), `gone` when the pod no longer exists.
   */
  evictPod(
    namespace: string,
    name: string,
    options?: { signal?: AbortSignal },
  ): Promise<"evicted" | "blocked" | "gone">;
}

/** One of the checks `talosctl health` runs, with its outcome. */
export interface HealthCheckResult {
  /** talosctl's wording, e.g. `etcd members to be consistent across nodes`. */
  name: string;
  ok: boolean;
  /** Skipped (no Kubernetes access, or the workload does not exist). */
  skipped: boolean;
  problems: string[];
}

/** Options of {@link checkHealth}. */
export interface CheckHealthOptions {
  controlPlaneNodes: string[];
  workerNodes: string[];
  /** Kubernetes access for the Kubernetes checks; without it they are reported as skipped. */
  kubernetes?: KubernetesAccess;
  /** Deadline of each probe; default 10 s. */
  probeTimeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

const CONTROL_PLANE_SERVICES = ["apid", "containerd", "cri", "etcd", "kubelet", "machined", "trustd"];
const WORKER_SERVICES = ["apid", "containerd", "cri", "kubelet", "machined"];
const STATIC_PODS = [
  "kube-system/kube-apiserver",
  "kube-system/kube-controller-manager",
  "kube-system/kube-scheduler",
];

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new TalosClientError("CANCELLED", "the operation was cancelled"));
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new TalosClientError("CANCELLED", "the operation was cancelled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

function message(error: unknown): string {
  return TalosClientError.from(error).rawMessage;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return url;
  }
}

/**
 * One round of the checks `talosctl health` runs (talos pkg/cluster/check/default.go): etcd healthy,
 * etcd members consistent across control planes and all of them control planes, apid ready, no
 * diagnostics, every node's core services, boot sequence finished, control-plane static pods; with
 * Kubernetes access also: all Kubernetes nodes reported (matching the Talos nodes) and Ready, kube-proxy
 * and CoreDNS ready when deployed, nodes schedulable. Never throws for an unhealthy cluster.
 */
export async function checkHealth(client: TalosClient, options: CheckHealthOptions): Promise<HealthReport> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const call = {
    timeoutMs: options.probeTimeoutMs ?? 10_000,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const cps = options.controlPlaneNodes;
  const all = [
    ...cps.map((node) => ({ node, role: "controlplane" as const })),
    ...options.workerNodes.map((node) => ({ node, role: "worker" as const })),
  ];
  const checks: HealthCheckResult[] = [];
  const check = (name: string, problems: string[], skipped = false): void => {
    checks.push({ name, ok: problems.length === 0, skipped, problems });
  };

  // Per node: apid, services, machine status, diagnostics, static pods.
  const nodes: NodeHealth[] = await Promise.all(
    all.map(async ({ node, role }) => {
      const health: NodeHealth = {
        node,
        role,
        version: undefined,
        stage: undefined,
        services: {},
        problems: [],
      };
      const [version] = await client.version({ nodes: [node], ...call });
      if (!version?.ok) {
        health.problems.push(
          `${node}: not answering (${version?.ok === false ? version.error.rawMessage : "no reply"})`,
        );
        return health;
      }
      health.version = version.value.tag;
      const [services] = await client.serviceList({ nodes: [node], ...call });
      if (services?.ok) {
        for (const s of services.value) {
          health.services[s.id] = { state: s.state, healthy: s.health.healthy && !s.health.unknown };
        }
      } else {
        health.problems.push(`${node}: service list failed`);
      }
      return health;
    }),
  );
  const answering = nodes.filter((n) => n.version !== undefined);

  check(
    "etcd to be healthy",
    nodes
      .filter((n) => n.role === "controlplane" && n.version !== undefined)
      .flatMap((n) => {
        const s = n.services.etcd;
        if (s === undefined) return [`${n.node}: service etcd is missing`];
        if (s.state !== "Running") return [`${n.node}: service etcd is ${s.state}`];
        return s.healthy ? [] : [`${n.node}: service etcd is not healthy`];
      }),
  );

  // talos pkg/cluster/check/etcd.go EtcdConsistentAssertion / EtcdControlPlaneNodesAssertion.
  const memberSets: { node: string; ids: string[]; hostnames: string[]; peers: string[] }[] = [];
  const etcdProblems: string[] = [];
  for (const node of cps) {
    try {
      const members = await client.etcdMemberList({ node, ...call });
      memberSets.push({
        node,
        ids: members.map((m) => m.id.toString(16)).sort(),
        hostnames: members.map((m) => m.hostname),
        peers: members.flatMap((m) => m.peerUrls.map(hostOf)),
      });
      const learners = members.filter((m) => m.isLearner).map((m) => m.hostname);
      if (learners.length > 0)
        etcdProblems.push(`${node}: etcd members still learners: ${learners.join(", ")}`);
    } catch (error) {
      etcdProblems.push(`${node}: etcd member list failed: ${message(error)}`);
    }
  }
  const reference = memberSets[0];
  for (const set of memberSets) {
    if (set.ids.length !== cps.length) {
      etcdProblems.push(`${set.node}: expected to have ${cps.length} members, got ${set.ids.length}`);
    } else if (reference !== undefined && set.ids.join(",") !== reference.ids.join(",")) {
      etcdProblems.push(`${set.node}: etcd members differ from those seen by ${reference.node}`);
    }
  }
  check("etcd members to be consistent across nodes", etcdProblems);
  const strangers = [...new Set(memberSets.flatMap((s) => s.peers))].filter((ip) => !cps.includes(ip));
  check(
    "etcd members to be control plane nodes",
    strangers.length === 0 ? [] : [`etcd member ips ${strangers.join(", ")} are not control plane nodes`],
  );

  check(
    "apid to be ready",
    nodes.filter((n) => n.version === undefined).flatMap((n) => n.problems),
  );

  const diagnostics: string[] = [];
  const bootProblems: string[] = [];
  const staticPodProblems: string[] = [];
  await Promise.all(
    answering.map(async (n) => {
      try {
        const items = await client.list<{ message?: string }>({
          node: n.node,
          type: "Diagnostics.runtime.talos.dev",
          namespace: "runtime",
          ...call,
        });
        for (const d of items) diagnostics.push(`${n.node}: ${d.spec?.message ?? d.metadata.id}`);
      } catch (error) {
        const code = TalosClientError.from(error).code;
        if (code !== "NOT_FOUND" && code !== "UNIMPLEMENTED")
          diagnostics.push(`${n.node}: ${message(error)}`);
      }
      try {
        const status = await client.get<{
          stage?: string;
          status?: { ready?: boolean; unmetConditions?: { name?: string; reason?: string }[] };
        }>({
          node: n.node,
          type: "MachineStatuses.runtime.talos.dev",
          namespace: "runtime",
          id: "machine",
          ...call,
        });
        n.stage = status.spec?.stage;
        if (n.stage !== undefined && n.stage !== "running")
          bootProblems.push(`${n.node}: machine stage is ${n.stage}`);
        else if (status.spec?.status?.ready === false) {
          const unmet = (status.spec.status.unmetConditions ?? [])
            .map((c) => `${c.name}: ${c.reason}`)
            .join(", ");
          bootProblems.push(`${n.node}: machine is not ready${unmet === "" ? "" : ` (${unmet})`}`);
        }
      } catch (error) {
        const code = TalosClientError.from(error).code;
        if (code !== "NOT_FOUND" && code !== "UNIMPLEMENTED") {
          bootProblems.push(`${n.node}: machine status unavailable (${code})`);
        }
      }
      if (n.role !== "controlplane") return;
      // talos pkg/cluster/check/kubernetes.go K8sControlPlaneStaticPods (Talos COSI, no Kubernetes API).
      try {
        const pods = await client.list({
          node: n.node,
          type: "StaticPodStatuses.kubernetes.talos.dev",
          namespace: "k8s",
          ...call,
        });
        const missing = STATIC_PODS.filter((p) => !pods.some((r) => r.metadata.id.startsWith(p)));
        if (missing.length > 0)
          staticPodProblems.push(`missing static pods on node ${n.node}: ${missing.join(", ")}`);
      } catch (error) {
        if (TalosClientError.from(error).code !== "UNIMPLEMENTED") {
          staticPodProblems.push(`error listing static pods on node ${n.node}: ${message(error)}`);
        }
      }
    }),
  );
  check("no diagnostics", diagnostics.sort());

  const serviceProblems: string[] = [];
  for (const n of answering) {
    for (const id of n.role === "controlplane" ? CONTROL_PLANE_SERVICES : WORKER_SERVICES) {
      const s = n.services[id];
      if (s === undefined) serviceProblems.push(`${n.node}: service ${id} is missing`);
      else if (s.state !== "Running") serviceProblems.push(`${n.node}: service ${id} is ${s.state}`);
      else if (!s.healthy && id !== "machined")
        serviceProblems.push(`${n.node}: service ${id} is not healthy`);
    }
  }
  check("all node services to be running and healthy", serviceProblems);
  check("all nodes to finish boot sequence", bootProblems.sort());
  check("all control plane static pods to be running", staticPodProblems.sort());

  await kubernetesChecks(
    options,
    all.map((n) => n.node),
    check,
    call,
  );

  for (const n of nodes) {
    for (const c of checks)
      for (const p of c.problems)
        if (p.startsWith(`${n.node}:`) && !n.problems.includes(p)) n.problems.push(p);
  }
  const problems = [...new Set(checks.flatMap((c) => c.problems))];
  return {
    healthy: problems.length === 0,
    nodes,
    etcdMembers: reference?.hostnames ?? [],
    problems,
    checks,
    elapsedMs: clock.now() - started,
  };
}

async function kubernetesChecks(
  options: CheckHealthOptions,
  talosNodes: string[],
  check: (name: string, problems: string[], skipped?: boolean) => void,
  call: { signal?: AbortSignal },
): Promise<void> {
  const names = [
    "all k8s nodes to report",
    "all k8s nodes to report ready",
    "kube-proxy to report ready",
    "coredns to report ready",
    "all k8s nodes to report schedulable",
  ];
  const kube = options.kubernetes;
  if (kube === undefined) {
    for (const name of names) check(name, [], true);
    return;
  }
  const signalOnly = call.signal ? { signal: call.signal } : {};
  let kubeNodes: Awaited<ReturnType<KubernetesAccess["listNodes"]>>;
  try {
    kubeNodes = await kube.listNodes(signalOnly);
  } catch (error) {
    const problem = `listing Kubernetes nodes failed: ${message(error)}`;
    for (const name of names) check(name, [problem]);
    return;
  }
  // talos pkg/cluster/check/kubernetes.go K8sAllNodesReportedAssertion: the same set of nodes.
  const reported = new Set(kubeNodes.flatMap((n) => n.internalIPs));
  const missing = talosNodes.filter((n) => !reported.has(n));
  const extra = kubeNodes
    .filter((k) => !k.internalIPs.some((ip) => talosNodes.includes(ip)))
    .map((k) => k.name);
  check("all k8s nodes to report", [
    ...(missing.length > 0 ? [`Kubernetes nodes missing for ${missing.join(", ")}`] : []),
    ...(extra.length > 0 ? [`unexpected Kubernetes nodes: ${extra.join(", ")}`] : []),
  ]);
  const notReady = kubeNodes.filter((n) => !n.ready).map((n) => n.name);
  check(
    "all k8s nodes to report ready",
    notReady.length > 0 ? [`some nodes are not ready: ${notReady.join(", ")}`] : [],
  );
  for (const [name, kind, selector] of [
    ["kube-proxy to report ready", "DaemonSet", "k8s-app=kube-proxy"],
    ["coredns to report ready", "Deployment", "k8s-app=kube-dns"],
  ] as const) {
    try {
      const desired = await kube.desiredReplicas(kind, "kube-system", selector, signalOnly);
      if (desired === undefined) {
        check(name, [], true);
        continue;
      }
      const pods = await kube.listPods({ namespace: "kube-system", labelSelector: selector }, signalOnly);
      const ready = pods.filter((p) => p.ready).length;
      check(name, ready === desired ? [] : [`expected ${desired} ready pods for ${selector}, got ${ready}`]);
    } catch (error) {
      check(name, [`${selector}: ${message(error)}`]);
    }
  }
  const cordoned = kubeNodes.filter((n) => n.unschedulable).map((n) => n.name);
  check(
    "all k8s nodes to report schedulable",
    cordoned.length > 0 ? [`some nodes are not schedulable: ${cordoned.join(", ")}`] : [],
  );
}

/** Options of {@link waitForHealth}. */
export interface WaitForHealthOptions extends CheckHealthOptions {
  /** Overall deadline. */
  timeoutMs: number;
  /** Delay between rounds; default 1 s. */
  intervalMs?: number;
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * Repeats {@link checkHealth} until every check passes. @throws HEALTH_TIMEOUT naming what is still
 * failing, CANCELLED when `signal` aborts.
 */
export async function waitForHealth(
  client: TalosClient,
  options: WaitForHealthOptions,
): Promise<HealthReport> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const interval = options.intervalMs ?? 1000;
  const progress = (message: string, data: Record<string, unknown> = {}): void =>
    options.onProgress?.({ type: "health", message, ...data });
  for (;;) {
    if (options.signal?.aborted) throw new TalosClientError("CANCELLED", "the health wait was cancelled");
    const remaining = options.timeoutMs - (clock.now() - started);
    // Each probe gets at most 10 s and never runs far past the overall deadline.
    const report = await checkHealth(client, {
      ...options,
      clock,
      probeTimeoutMs: Math.max(500, Math.min(options.probeTimeoutMs ?? 10_000, remaining)),
    });
    report.elapsedMs = clock.now() - started;
    if (report.healthy) {
      progress("cluster is healthy", { elapsedMs: report.elapsedMs });
      return report;
    }
    progress(`waiting: ${report.problems[0] ?? "checking"}`, { problems: report.problems });
    if (clock.now() - started + interval > options.timeoutMs) {
      throw new TalosClientError(
        "HEALTH_TIMEOUT",
        `the cluster is not healthy after ${options.timeoutMs} ms: ${report.problems.join("; ")}`,
        { details: { missing: report.problems, report } },
      );
    }
    await clock.sleep(interval, options.signal);
  }
}
