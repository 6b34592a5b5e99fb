import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { IN_CLUSTER_SERVER as IN_CLUSTER, REFRESH_ANNOTATION } from "../constants.js";
import { readGitOpsTree } from "../gitops-tree.js";
import { isDestinationPermitted, isGroupKindPermitted, isSourcePermitted } from "../internal/app-project.js";
import { isRecord } from "../internal/util.js";
import { APPLICATION_HEALTH_KEY } from "../manifests.js";
import { schemaFindings } from "../validate.js";
import { chartObjects } from "./chart-inventory.js";
import {
  CLUSTER_NODE_TYPES,
  createClusterNodes,
  type KubeNodes,
  POD_SUBRESOURCES,
  StatusError,
} from "./cluster-nodes.js";
import {
  apiVersionOf,
  mergeApplied,
  ObjectStore,
  type ResourceType,
  type StoredObject,
  StoreError,
  VERBS,
  type WatchEventType,
} from "./store.js";

/** A recorded API request. */
export interface KubeRequestLogEntry {
  method: string;
  path: string;
  status: number;
  contentType?: string;
  fieldManager?: string;
}

/** A fault rule: matching requests get an error status instead of an answer. */
export interface ApiFault {
  /** HTTP status to answer with (default 500). */
  status?: number;
  /** Only this method (GET, PATCH, ...). */
  method?: string;
  /** Only paths containing this string or matching this pattern. */
  path?: string | RegExp;
  /** How many requests to fail (default: all until cleared). */
  times?: number;
}

/** Ways a workload's rollout can get stuck. */
export type RolloutStall =
  /** New pods never become ready (Helm's --wait also times out). */
  | "unavailable"
  /** An old pod never terminates: ready enough for Helm's legacy --wait, not rolled out for kubectl. */
  | "old-replicas";

/** Fault injection for {@link KubeEmulator}. */
export interface KubeEmulatorFaults {
  /** Answer matching requests with an error status. */
  apiError(fault: ApiFault): void;
  /** Make a Deployment or StatefulSet's rollout never complete. */
  stallRollout(target: {
    kind: "Deployment" | "StatefulSet";
    name: string;
    namespace?: string;
    mode?: RolloutStall;
  }): void;
  /** Let a stalled rollout continue. */
  resumeRollout(target: { kind: "Deployment" | "StatefulSet"; name: string; namespace?: string }): void;
  /** Remove every fault (stalled rollouts resume). */
  clear(): void;
}

/** Control of the Argo CD stand-in controller. */
export interface ArgoStandIn {
  /** Force an Application's health (for example `Degraded`); `undefined` returns to normal. */
  setHealth(
    name: string,
    health: string | undefined,
    options?: { namespace?: string; message?: string },
  ): void;
  /** Objects a Git source renders to: the stand-in applies them when it syncs an app with that source. */
  setGitContent(source: { repoURL: string; path: string }, objects: readonly object[]): void;
  /**
   * A local checkout of a Git repository: apps with that `repoURL` render their `path` from it with
   * kustomize (the real `kubectl kustomize` where it is installed, else {@link readGitOpsTree}).
   */
  setGitRepo(repoURL: string, dir: string): void;
}

/** Options for {@link createKubeEmulator}. */
export interface KubeEmulatorOptions {
  /** Milliseconds between controller steps (rollouts, Argo CD stand-in); default 20. */
  stepMs?: number;
  /** Kubernetes version reported by /version (default 1.32.0). */
  kubernetesVersion?: string;
}

/** A Kubernetes API server on 127.0.0.1 for tests; see {@link createKubeEmulator}. */
export interface KubeEmulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** kubeconfig YAML text for this server (plain HTTP, `insecure-skip-tls-verify`). */
  kubeconfig: string;
  faults: KubeEmulatorFaults;
  argo: ArgoStandIn;
  /**
   * The cluster's Nodes, as kubelets register them (see cluster-nodes.ts). Once a Node exists, the
   * emulator also places pods: Deployments', StatefulSets' and DaemonSets' on schedulable nodes,
   * mirror pods of static pods, PodDisruptionBudgets kept current, evictions that honour them.
   */
  nodes: KubeNodes;
  /** Changes the version /version reports (the API server was upgraded), e.g. `1.35.0`. */
  setKubernetesVersion(version: string): void;
  requestLog: KubeRequestLogEntry[];
  /** Reads an object straight from the store. */
  get(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): StoredObject | undefined;
  /** Lists objects straight from the store. */
  list(ref: { apiVersion: string; kind: string; namespace?: string }): StoredObject[];
  /** Server-side applies an object straight into the store (creating it when missing). */
  apply(object: Record<string, unknown>, options?: { fieldManager?: string }): StoredObject;
  /** Deletes an object from the store; false when it did not exist. */
  delete(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): boolean;
  /** Resolves once `check` returns true (checked every step) or rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a Kubernetes API server emulator on 127.0.0.1:0, good enough for `@kubernetes/client-node`
 * and `kubectl`: discovery, namespaces, server-side apply, get/list/watch, Table output, Deployments
 * and StatefulSets that roll out over time, Secrets, CRDs, and an Argo CD stand-in controller.
 *
 * @example
 * ```ts
 * const kube = await createKubeEmulator();
 * // ... use kube.kubeconfig ...
 * await kube.close();
 * ```
 */
export async function createKubeEmulator(options: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const store = new ObjectStore();
  store.addTypes(CLUSTER_NODE_TYPES);
  const cluster = createClusterNodes(store);
  const stepMs = options.stepMs ?? 20;
  let kubernetesVersion = options.kubernetesVersion ?? "1.32.0";
  const requestLog: KubeRequestLogEntry[] = [];
  const apiFaults: (ApiFault & { remaining: number })[] = [];
  const stalls = new Map<string, RolloutStall>();
  const healthOverrides = new Map<string, { health: string; message?: string }>();
  const gitContent = new Map<string, Record<string, unknown>[]>();
  const sims = new Map<string, { oldPods: number; newPods: number; newReady: number; generation: number }>();
  const appPhases = new Map<string, { phase: number; specHash: string }>();
  const appResources = new Map<string, Record<string, unknown>[]>();
  const gitRepos = new Map<string, string>();
  const renders = new Map<string, { objects: Record<string, unknown>[] } | { error: string } | "pending">();
  const openResponses = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendStatus(res, 500, "InternalError", error instanceof Error ? error.message : String(error));
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: emulator",
    "    cluster:",
    `      server: ${url}`,
    "      insecure-skip-tls-verify: true",
    "users:",
    "  - name: emulator",
    "    user: {}",
    "contexts:",
    "  - name: emulator",
    "    context:",
    "      cluster: emulator",
    "      user: emulator",
    "      namespace: default",
    "current-context: emulator",
    "",
  ].join("\n");

  // The controllers step while clients talk to the API (or watch it) and for a second after; an
  // idle emulator (nobody polling) runs no timer at all, so a long-lived lab costs no CPU.
  const idleTicks = Math.max(1, Math.ceil(1000 / stepMs));
  let quietTicks = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const wake = (): void => {
    quietTicks = 0;
    if (ticker !== undefined) return;
    ticker = setInterval(() => {
      try {
        step();
      } catch {
        // A controller step never takes the server down.
      }
      // an open watch is a client listening: keep stepping for it
      if (openResponses.size > 0) quietTicks = 0;
      else if (++quietTicks >= idleTicks) {
        clearInterval(ticker);
        ticker = undefined;
      }
    }, stepMs);
    ticker.unref();
  };
  wake();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    wake();
    const parsed = new URL(req.url ?? "/", url);
    const method = (req.method ?? "GET").toUpperCase();
    const body = await readBody(req);
    const entry: KubeRequestLogEntry = { method, path: parsed.pathname + parsed.search, status: 200 };
    const contentType = req.headers["content-type"];
    if (contentType !== undefined) entry.contentType = contentType;
    const fieldManager = parsed.searchParams.get("fieldManager");
    if (fieldManager !== null) entry.fieldManager = fieldManager;
    requestLog.push(entry);
    res.on("finish", () => {
      entry.status = res.statusCode;
    });
    const fault = apiFaults.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined ||
          (typeof f.path === "string" ? parsed.pathname.includes(f.path) : f.path.test(parsed.pathname))),
    );
    if (fault !== undefined) {
      fault.remaining -= 1;
      sendStatus(res, fault.status ?? 500, "InternalError", "injected fault");
      return;
    }
    if (String(contentType ?? "").startsWith("application/vnd.kubernetes.protobuf")) {
      sendStatus(res, 415, "UnsupportedMediaType", "the emulator speaks JSON and YAML only, not protobuf");
      return;
    }
    const path = parsed.pathname.replace(/\/+$/, "") || "/";
    if (method === "GET" && path === "/version") {
      const [major, minor] = kubernetesVersion.split(".");
      sendJson(res, 200, {
        major,
        minor,
        gitVersion: `v${kubernetesVersion}`,
        gitCommit: "0000000000000000000000000000000000000000",
        gitTreeState: "clean",
        buildDate: "2026-01-01T00:00:00Z",
        goVersion: "go1.24.0",
        compiler: "gc",
        platform: "linux/amd64",
      });
      return;
    }
    if (method === "GET" && path === "/api") {
      sendJson(res, 200, {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `127.0.0.1:${port}` }],
      });
      return;
    }
    if (method === "GET" && path === "/apis") {
      sendJson(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: groups().map(groupInfo) });
      return;
    }
    if (method === "GET" && path === "/openapi/v3") {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const t of store.types()) {
        const gv = t.group === "" ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
        paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${openApiHash(gv)}` };
      }
      sendJson(res, 200, { paths });
      return;
    }
    if (method === "GET" && path.startsWith("/openapi/v3/")) {
      const gv = path.slice("/openapi/v3/".length);
      const types = store
        .types()
        .filter((t) => (t.group === "" ? `api/${t.version}` : `apis/${t.group}/${t.version}`) === gv);
      if (types.length === 0) {
        sendStatus(res, 404, "NotFound", "the server could not find the requested resource");
        return;
      }
      sendJson(res, 200, openApiDocument(gv, types, kubernetesVersion));
      return;
    }
    if (method === "GET" && (path === "/healthz" || path === "/readyz" || path === "/livez")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const segments = path.split("/").filter((s) => s !== "");
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === "api" && segments.length >= 2) {
      group = "";
      version = segments[1]!;
      rest = segments.slice(2);
    } else if (segments[0] === "apis" && segments.length >= 2) {
      group = segments[1]!;
      if (segments.length === 2) {
        const found = groups().find((g) => g.name === group);
        if (found === undefined || method !== "GET")
          sendStatus(res, 404, "NotFound", "the server could not find the requested resource");
        else sendJson(res, 200, { kind: "APIGroup", apiVersion: "v1", ...groupInfo(found) });
        return;
      }
      version = segments[2]!;
      rest = segments.slice(3);
    } else {
      sendStatus(res, 404, "NotFound", "the server could not find the requested resource");
      return;
    }
    const typesHere = store.types().filter((t) => t.group === group && t.version === version);
    if (typesHere.length === 0) {
      sendStatus(res, 404, "NotFound", "the server could not find the requested resource");
      return;
    }
    if (rest.length === 0) {
      if (method !== "GET") {
        sendStatus(res, 405, "MethodNotAllowed", "method not allowed");
        return;
      }
      sendJson(res, 200, {
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: group === "" ? version : `${group}/${version}`,
        resources: typesHere.flatMap((t) => [
          {
            name: t.resource,
            singularName: t.singular,
            namespaced: t.namespaced,
            kind: t.kind,
            verbs: VERBS,
            shortNames: t.shortNames ?? [],
            categories: t.categories ?? [],
          },
          ...(t.statusSubresource === true
            ? [
                {
                  name: `${t.resource}/status`,
                  singularName: "",
                  namespaced: t.namespaced,
                  kind: t.kind,
                  verbs: ["get", "patch", "update"],
                },
              ]
            : []),
          ...(t.kind === "Pod" ? POD_SUBRESOURCES : []),
        ]),
      });
      return;
    }
    let namespace: string | undefined;
    let resourceName: string;
    let name: string | undefined;
    let sub: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1];
      resourceName = rest[2]!;
      name = rest[3];
      sub = rest[4];
    } else {
      resourceName = rest[0]!;
      name = rest[1];
      sub = rest[2];
    }
    const type = typesHere.find((t) => t.resource === resourceName);
    const eviction = type?.kind === "Pod" && sub === "eviction";
    if (type === undefined || (sub !== undefined && sub !== "status" && !eviction)) {
      sendStatus(res, 404, "NotFound", "the server could not find the requested resource");
      return;
    }
    if (!type.namespaced && namespace !== undefined) {
      sendStatus(res, 404, "NotFound", "the server could not find the requested resource");
      return;
    }
    try {
      if (eviction && name !== undefined && namespace !== undefined) {
        if (method !== "POST") throw new StoreError(405, "MethodNotAllowed", `${method} is not supported`);
        sendJson(
          res,
          201,
          cluster.evict(namespace, name, parseBody(body), parsed.searchParams.get("dryRun") === "All"),
        );
      } else if (name === undefined) {
        await collection(req, res, method, type, namespace, parsed.searchParams, body);
      } else {
        item(req, res, method, type, namespace, name, sub === "status", parsed.searchParams, body);
      }
    } catch (error) {
      if (error instanceof StatusError)
        sendStatus(res, error.status, error.reason, error.message, error.details);
      else if (error instanceof StoreError) sendStatus(res, error.status, error.reason, error.message);
      else throw error;
    }
  }

  /**
   * Checks a custom resource against its CRD schema like the API server: type and required errors are
   * 422; unknown fields are pruned with a warning, or refused with fieldValidation=Strict.
   */
  function admit(
    res: ServerResponse,
    type: ResourceType,
    object: Record<string, unknown>,
    query: URLSearchParams,
  ): void {
    if (type.schema === undefined) return;
    const findings = schemaFindings(object, type.schema);
    const unknown = findings.filter((f) => f.code === "SCHEMA_UNKNOWN_FIELD");
    const invalid = findings.filter((f) => f.code !== "SCHEMA_UNKNOWN_FIELD");
    const name = isRecord(object.metadata) ? String(object.metadata.name ?? "") : "";
    if (invalid.length > 0) {
      throw new StoreError(
        422,
        "Invalid",
        `${type.kind}.${type.group} "${name}" is invalid: ${invalid.map((f) => `${dotted(f.path).slice(1)}: ${f.message}`).join(", ")}`,
      );
    }
    if (unknown.length === 0) return;
    if (query.get("fieldValidation") === "Strict") {
      throw new StoreError(
        400,
        "BadRequest",
        `strict decoding error: ${unknown.map((f) => `unknown field "${dotted(f.path).slice(1)}"`).join(", ")}`,
      );
    }
    for (const f of unknown) deletePath(object, f.path);
    if (query.get("fieldValidation") !== "Ignore") {
      res.setHeader(
        "Warning",
        unknown.map((f) => `299 - "unknown field \\"${dotted(f.path).slice(1)}\\""`),
      );
    }
  }

  async function collection(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    type: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
    body: string,
  ): Promise<void> {
    if (method === "GET") {
      const matches = (o: StoredObject): boolean => selectorMatches(o, query);
      if (query.get("watch") === "true" || query.get("watch") === "1") {
        watch(req, res, type, namespace, query, matches);
        return;
      }
      const items = store.list(type, namespace).filter(matches);
      if (wantsTable(req)) {
        sendJson(res, 200, table(type, items));
        return;
      }
      sendJson(res, 200, {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: store.resourceVersion },
        items,
      });
      return;
    }
    if (method === "POST") {
      const input = parseBody(body);
      if (type.namespaced)
        input.metadata = { ...(isRecord(input.metadata) ? input.metadata : {}), namespace };
      admit(res, type, input, query);
      const created = store.create(type, input, query.get("fieldManager") ?? "kubectl-create");
      sendJson(res, 201, created);
      return;
    }
    sendStatus(res, 405, "MethodNotAllowed", `${method} is not supported on a collection here`);
  }

  function item(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    statusOnly: boolean,
    query: URLSearchParams,
    body: string,
  ): void {
    const current = store.get(type, namespace, name);
    const manager = query.get("fieldManager") ?? "unknown";
    const dryRun = query.get("dryRun") === "All";
    if (method === "GET") {
      if (current === undefined) throw notFound(type, name);
      sendJson(res, 200, wantsTable(req) ? table(type, [current]) : current);
      return;
    }
    if (method === "DELETE") {
      if (current === undefined) throw notFound(type, name);
      const deleted = dryRun ? current : store.delete(type, namespace, name);
      sendJson(res, 200, deleted);
      return;
    }
    if (method === "PUT") {
      if (current === undefined) throw notFound(type, name);
      const input = parseBody(body) as StoredObject;
      input.metadata = {
        ...(isRecord(input.metadata) ? input.metadata : {}),
        name,
        ...(namespace === undefined ? {} : { namespace }),
      } as StoredObject["metadata"];
      checkResourceVersion(input, current);
      if (!statusOnly) admit(res, type, input, query);
      sendJson(res, 200, dryRun ? input : store.replace(type, input, { manager, statusOnly }));
      return;
    }
    if (method === "PATCH") {
      const contentType = String(req.headers["content-type"] ?? "")
        .split(";")[0]!
        .trim();
      const patch = parseBody(body);
      if (contentType === "application/apply-patch+yaml") {
        if (query.get("fieldManager") === null) {
          throw new StoreError(400, "BadRequest", "PATCH with apply requires a fieldManager");
        }
        const meta = isRecord(patch.metadata) ? patch.metadata : {};
        if (meta.name !== undefined && meta.name !== name) {
          throw new StoreError(
            400,
            "BadRequest",
            `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`,
          );
        }
        if (typeof patch.apiVersion !== "string" || typeof patch.kind !== "string") {
          throw new StoreError(400, "BadRequest", "apiVersion and kind must be set in an apply patch");
        }
        patch.metadata = { ...meta, name, ...(namespace === undefined ? {} : { namespace }) };
        if (current === undefined) {
          admit(res, type, patch, query);
          if (dryRun) {
            sendJson(res, 201, patch);
            return;
          }
          const created = store.create(type, stripReadOnly(patch), manager);
          const applied = store.replace(type, created, { manager, operation: "Apply" });
          sendJson(res, 201, applied);
          return;
        }
        const merged = mergeApplied(current, stripReadOnly(patch)) as StoredObject;
        if (statusOnly) merged.status = (patch as StoredObject).status;
        else admit(res, type, merged, query);
        sendJson(
          res,
          200,
          dryRun ? merged : store.replace(type, merged, { manager, operation: "Apply", statusOnly }),
        );
        return;
      }
      if (current === undefined) throw notFound(type, name);
      if (
        contentType === "application/merge-patch+json" ||
        contentType === "application/strategic-merge-patch+json"
      ) {
        const merged = mergeApplied(current, patch) as StoredObject;
        if (!statusOnly) admit(res, type, merged, query);
        sendJson(res, 200, dryRun ? merged : store.replace(type, merged, { manager, statusOnly }));
        return;
      }
      throw new StoreError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`,
      );
    }
    sendStatus(res, 405, "MethodNotAllowed", `${method} is not supported`);
  }

  function watch(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
    matches: (o: StoredObject) => boolean,
  ): void {
    res.writeHead(200, {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
      "cache-control": "no-cache",
    });
    res.flushHeaders();
    openResponses.add(res);
    const send = (eventType: WatchEventType | "BOOKMARK", object: unknown): void => {
      res.write(`${JSON.stringify({ type: eventType, object })}\n`);
    };
    const since = Number(query.get("resourceVersion") ?? "0");
    if (!(since > 0)) {
      for (const object of store.list(type, namespace).filter(matches)) send("ADDED", object);
    }
    const unsubscribe = store.onChange((eventType, object, objectType) => {
      if (objectType.group !== type.group || objectType.resource !== type.resource) return;
      if (namespace !== undefined && object.metadata.namespace !== namespace) return;
      if (!matches(object)) return;
      if (Number(object.metadata.resourceVersion ?? 0) <= since) return;
      send(eventType, object);
    });
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? "0");
    const timer = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    const cleanup = (): void => {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      openResponses.delete(res);
    };
    req.on("close", cleanup);
    res.on("close", cleanup);
  }

  function groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const t of store.types()) {
      if (t.group === "") continue;
      const list = out.get(t.group) ?? [];
      if (!list.includes(t.version)) list.push(t.version);
      out.set(t.group, list);
    }
    return [...out.entries()].map(([name, versions]) => ({ name, versions }));
  }

  function step(): void {
    stepWorkloads();
    cluster.step();
    stepArgo();
  }

  function stepWorkloads(): void {
    for (const kind of ["Deployment", "StatefulSet"] as const) {
      const type = store.typeFor("apps/v1", kind)!;
      for (const object of store.list(type)) {
        const k = `${kind}/${object.metadata.namespace}/${object.metadata.name}`;
        const spec = isRecord(object.spec) ? object.spec : {};
        const want = typeof spec.replicas === "number" ? spec.replicas : 1;
        const generation = Number(object.metadata.generation ?? 1);
        let sim = sims.get(k);
        // kubelet: a container whose env reads a missing Secret never starts (CreateContainerConfigError)
        const stall =
          stalls.get(k) ?? (missingSecret(object) === undefined ? undefined : ("unavailable" as const));
        let observing = false;
        if (sim === undefined || sim.generation !== generation) {
          const previousReady = sim?.newReady ?? 0;
          sim = { oldPods: previousReady, newPods: 0, newReady: 0, generation };
          sims.set(k, sim);
          observing = true;
        } else if (kind === "Deployment") {
          // A leftover pod that never terminates: counted from the start, so no status ever shows "done".
          if (stall === "old-replicas" && sim.oldPods === 0) sim.oldPods = 1;
          if (sim.newReady < sim.newPods && stall !== "unavailable") sim.newReady += 1;
          else if (
            sim.oldPods > 0 &&
            sim.newReady > 0 &&
            sim.oldPods + sim.newReady > want &&
            stall !== "old-replicas"
          )
            sim.oldPods -= 1;
          else if (sim.newPods < want) sim.newPods += 1;
        } else {
          if (sim.newPods < want) sim.newPods += 1;
          else if (sim.newReady < sim.newPods && stall !== "unavailable") sim.newReady += 1;
          if (sim.newPods >= want && sim.newReady >= want) sim.oldPods = 0;
          else if (sim.oldPods > 0 && sim.newPods > 0) sim.oldPods -= 1;
        }
        const status =
          kind === "Deployment"
            ? deploymentStatus(object, sim, want, observing)
            : statefulSetStatus(object, sim, want, observing);
        if (JSON.stringify(status) !== JSON.stringify(object.status)) {
          store.replace(
            type,
            { ...object, status },
            { manager: "kube-controller-manager", statusOnly: true },
          );
        }
        if (
          kind === "Deployment" &&
          object.metadata.name === "argocd-server" &&
          sim.newReady >= want &&
          want > 0
        ) {
          ensureInitialAdminSecret(String(object.metadata.namespace));
        }
      }
    }
  }

  function deploymentStatus(
    object: StoredObject,
    sim: { oldPods: number; newPods: number; newReady: number },
    want: number,
    observing: boolean,
  ): Record<string, unknown> {
    const previous = isRecord(object.status) ? object.status : {};
    if (observing && previous.observedGeneration === undefined) {
      return {};
    }
    const replicas = sim.oldPods + sim.newPods;
    const available = sim.oldPods + sim.newReady;
    const done = sim.newPods === want && sim.newReady === want && sim.oldPods === 0;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    return {
      observedGeneration: object.metadata.generation,
      replicas,
      updatedReplicas: sim.newPods,
      readyReplicas: available,
      availableReplicas: available,
      ...(replicas - available > 0 ? { unavailableReplicas: replicas - available } : {}),
      conditions: [
        {
          type: "Available",
          status: available >= want ? "True" : "False",
          reason: available >= want ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          lastUpdateTime: now,
          lastTransitionTime: now,
        },
        {
          type: "Progressing",
          status: "True",
          reason: done ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          lastUpdateTime: now,
          lastTransitionTime: now,
        },
      ],
    };
  }

  function statefulSetStatus(
    object: StoredObject,
    sim: { oldPods: number; newPods: number; newReady: number; generation: number },
    want: number,
    observing: boolean,
  ): Record<string, unknown> {
    const previous = isRecord(object.status) ? object.status : {};
    if (observing && previous.observedGeneration === undefined) return {};
    const revision = `${object.metadata.name}-${createHash("sha256").update(String(sim.generation)).digest("hex").slice(0, 10)}`;
    const complete = sim.newPods >= want && sim.newReady >= want;
    return {
      observedGeneration: object.metadata.generation,
      replicas: Math.max(want, sim.newPods + sim.oldPods),
      readyReplicas: sim.newReady + sim.oldPods,
      availableReplicas: sim.newReady + sim.oldPods,
      currentReplicas: complete ? sim.newPods : sim.oldPods,
      updatedReplicas: sim.newPods,
      currentRevision: complete ? revision : String(previous.currentRevision ?? revision),
      updateRevision: revision,
      collisionCount: 0,
    };
  }

  function ensureInitialAdminSecret(namespace: string): void {
    const secretType = store.typeFor("v1", "Secret")!;
    if (store.get(secretType, namespace, "argocd-initial-admin-secret") !== undefined) return;
    const argocdSecret = store.get(secretType, namespace, "argocd-secret");
    const data = isRecord(argocdSecret?.data) ? argocdSecret.data : {};
    if (argocdSecret === undefined || typeof data["admin.password"] === "string") return;
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    const password = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join("");
    store.replace(
      secretType,
      {
        ...argocdSecret,
        data: {
          ...data,
          "admin.password": Buffer.from(
            `$2a$10$${createHash("sha256").update(password).digest("base64").slice(0, 53)}`,
          ).toString("base64"),
          "admin.passwordMtime": Buffer.from(new Date().toISOString()).toString("base64"),
        },
      },
      { manager: "argocd-server" },
    );
    store.create(
      secretType,
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "argocd-initial-admin-secret", namespace },
        type: "Opaque",
        data: { password: Buffer.from(password).toString("base64") },
      },
      "argocd-server",
    );
  }

  function controllerReady(namespace: string): boolean {
    const type = store.typeFor("apps/v1", "StatefulSet")!;
    const controller = store.get(type, namespace, "argocd-application-controller");
    const status = isRecord(controller?.status) ? controller.status : {};
    return typeof status.readyReplicas === "number" && status.readyReplicas >= 1;
  }

  /** What an app's source renders: Git content set by a test, a local checkout built with kustomize, or a known chart. */
  function renderApp(
    app: StoredObject,
  ): { objects: Record<string, unknown>[] } | { error: string } | "pending" {
    const spec = isRecord(app.spec) ? app.spec : {};
    const source = isRecord(spec.source) ? spec.source : {};
    const destinationNamespace = isRecord(spec.destination) ? String(spec.destination.namespace ?? "") : "";
    if (typeof source.chart === "string") {
      const values = isRecord(source.helm) ? source.helm.valuesObject : undefined;
      const releaseName =
        isRecord(source.helm) && typeof source.helm.releaseName === "string"
          ? source.helm.releaseName
          : app.metadata.name;
      return {
        objects: chartObjects(
          source.chart,
          String(source.targetRevision ?? ""),
          values,
          destinationNamespace,
          releaseName,
        ),
      };
    }
    if (typeof source.path !== "string") return { objects: [] };
    const set = gitContent.get(`${String(source.repoURL)}#${source.path}`);
    if (set !== undefined) return { objects: set };
    const checkout = gitRepos.get(String(source.repoURL));
    if (checkout === undefined) return { objects: [] };
    const key = `${checkout}#${source.path}`;
    const cached = renders.get(key);
    if (cached !== undefined) return cached;
    renders.set(key, "pending");
    kustomizeBuild(join(checkout, source.path)).then(
      (objects) => renders.set(key, { objects }),
      (error: unknown) =>
        renders.set(key, { error: `kustomize build ${source.path} failed: ${(error as Error).message}` }),
    );
    return "pending";
  }

  function ensureNamespace(name: string): void {
    const type = store.typeFor("v1", "Namespace")!;
    if (store.get(type, undefined, name) === undefined)
      applyObject({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, "argocd-controller");
  }

  function permissionError(
    object: Record<string, unknown>,
    projectSpec: Record<string, unknown>,
    project: string,
  ): string[] {
    const apiVersion = String(object.apiVersion ?? "");
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
    const kind = String(object.kind ?? "");
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const type = store.typeFor(apiVersion, kind);
    const namespaced = type?.namespaced ?? typeof meta.namespace === "string";
    if (!isGroupKindPermitted(projectSpec, { group, kind, name: String(meta.name ?? "") }, namespaced))
      return [`resource ${group}:${kind} is not permitted in project ${project}`];
    if (
      namespaced &&
      typeof meta.namespace === "string" &&
      !isDestinationPermitted(projectSpec, { server: IN_CLUSTER, namespace: meta.namespace })
    )
      return [`namespace ${meta.namespace} is not permitted in project '${project}'`];
    return [];
  }

  function specPermissionError(
    spec: Record<string, unknown>,
    projectSpec: Record<string, unknown>,
    project: string,
  ): string | undefined {
    const source = isRecord(spec.source) ? spec.source : {};
    if (!isSourcePermitted(projectSpec, String(source.repoURL ?? "")))
      return `application repo ${String(source.repoURL)} is not permitted in project '${project}'`;
    const destination = isRecord(spec.destination) ? spec.destination : {};
    const server = typeof destination.server === "string" ? destination.server : undefined;
    const name = typeof destination.name === "string" ? destination.name : undefined;
    const namespace = String(destination.namespace ?? "");
    if (!isDestinationPermitted(projectSpec, { server, name, namespace }))
      return `application destination server '${server ?? name ?? ""}' and namespace '${namespace}' do not match any of the allowed destinations in project '${project}'`;
    return undefined;
  }

  /** The worst health of an app's resources (gitops-engine health.IsWorse order). */
  function aggregateHealth(
    namespace: string,
    resources: Record<string, unknown>[],
  ): { status: string; message?: string } {
    const order = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"];
    let worst: { status: string; message?: string } = { status: "Healthy" };
    for (const resource of resources) {
      const health = resourceHealth(namespace, resource);
      if (health !== undefined && order.indexOf(health.status) > order.indexOf(worst.status)) worst = health;
    }
    return worst;
  }

  function resourceHealth(
    argoNamespace: string,
    ref: Record<string, unknown>,
  ): { status: string; message?: string } | undefined {
    const meta = isRecord(ref.metadata) ? ref.metadata : {};
    const type = store.typeFor(String(ref.apiVersion ?? ""), String(ref.kind ?? ""));
    if (type === undefined) return undefined;
    const live = store.get(
      type,
      type.namespaced ? String(meta.namespace ?? "") : undefined,
      String(meta.name ?? ""),
    );
    const label = `${String(ref.kind)} ${String(meta.namespace ?? "")}/${String(meta.name ?? "")}`;
    if (live === undefined) return { status: "Missing", message: `${label} is missing` };
    const status = isRecord(live.status) ? live.status : {};
    const liveSpec = isRecord(live.spec) ? live.spec : {};
    if (live.kind === "Application") {
      // Argo CD 3.x has no built-in Application health: only the argocd-cm Lua check gives one
      const cm = store.get(store.typeFor("v1", "ConfigMap")!, argoNamespace, "argocd-cm");
      const data = isRecord(cm?.data) ? cm.data : {};
      if (typeof data[APPLICATION_HEALTH_KEY] !== "string") return undefined;
      const health = isRecord(status.health) ? String(status.health.status ?? "") : "";
      return health === ""
        ? { status: "Progressing", message: `${label} has no health yet` }
        : { status: health, message: `${label} is ${health}` };
    }
    if (live.kind === "Service" && liveSpec.type === "LoadBalancer") {
      const ingress = isRecord(status.loadBalancer) ? status.loadBalancer.ingress : undefined;
      if (!Array.isArray(ingress) || ingress.length === 0)
        return {
          status: "Progressing",
          message: `${label}: waiting for a load balancer address (none is installed)`,
        };
    }
    if (live.kind === "Deployment") {
      const want = typeof liveSpec.replicas === "number" ? liveSpec.replicas : 1;
      if (Number(status.availableReplicas ?? 0) < want) {
        const secret = missingSecret(live);
        return {
          status: "Progressing",
          message:
            secret === undefined
              ? `${label}: ${Number(status.availableReplicas ?? 0)} of ${want} available`
              : `${label}: secret "${secret}" not found`,
        };
      }
    }
    return { status: "Healthy" };
  }

  /** The first Secret a workload's containers read through env that does not exist. */
  function missingSecret(workload: StoredObject): string | undefined {
    const spec = isRecord(workload.spec) ? workload.spec : {};
    const template = isRecord(spec.template) ? spec.template : {};
    const podSpec = isRecord(template.spec) ? template.spec : {};
    const containers = Array.isArray(podSpec.containers) ? podSpec.containers.filter(isRecord) : [];
    const secretType = store.typeFor("v1", "Secret")!;
    for (const container of containers) {
      for (const env of Array.isArray(container.env) ? container.env.filter(isRecord) : []) {
        const ref =
          isRecord(env.valueFrom) && isRecord(env.valueFrom.secretKeyRef)
            ? env.valueFrom.secretKeyRef
            : undefined;
        if (ref === undefined || ref.optional === true) continue;
        if (store.get(secretType, String(workload.metadata.namespace), String(ref.name)) === undefined)
          return String(ref.name);
      }
    }
    return undefined;
  }

  function stepArgo(): void {
    const appType = store.typeFor("argoproj.io/v1alpha1", "Application");
    if (appType === undefined) return;
    const projectType = store.typeFor("argoproj.io/v1alpha1", "AppProject");
    for (const app of store.list(appType)) {
      const namespace = String(app.metadata.namespace);
      if (!controllerReady(namespace)) continue;
      const k = `${namespace}/${app.metadata.name}`;
      const spec = isRecord(app.spec) ? app.spec : {};
      const source = isRecord(spec.source) ? spec.source : undefined;
      const specHash = JSON.stringify([spec.source, spec.sources, spec.destination]);
      let state = appPhases.get(k);
      if (
        state === undefined ||
        state.specHash !== specHash ||
        (app.operation !== undefined && state.phase >= 2)
      ) {
        state = { phase: 0, specHash };
        appPhases.set(k, state);
      }
      // argo-cd v3.5.1 controller/appcontroller.go needRefreshAppStatus: a refresh request compares with Git
      // again (automated apps sync what changed); persistReconciliationStatus removes the annotation with the
      // new status (below, once the render is done)
      const refresh = isRecord(app.metadata.annotations)
        ? app.metadata.annotations[REFRESH_ANNOTATION] !== undefined
        : false;
      if (refresh && (state.phase === 3 || state.phase === 9)) {
        const checkout = source === undefined ? undefined : gitRepos.get(String(source.repoURL));
        if (checkout !== undefined) renders.delete(`${checkout}#${String(source?.path)}`);
        if (state.phase === 3) state.phase = 1;
      }
      const status: Record<string, unknown> = isRecord(app.status) ? structuredClone(app.status) : {};
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const override = healthOverrides.get(k);
      const project = String(spec.project ?? "default") || "default";
      const projectObject =
        projectType === undefined ? undefined : store.get(projectType, namespace, project);
      const projectExists = project === "default" || projectObject !== undefined;
      // the default project Argo CD creates permits everything
      const projectSpec =
        projectObject !== undefined && isRecord(projectObject.spec) ? projectObject.spec : undefined;
      const comparedTo = {
        ...(spec.source === undefined ? {} : { source: spec.source }),
        ...(spec.sources === undefined ? {} : { sources: spec.sources }),
        destination: spec.destination,
      };
      const revision =
        source?.chart !== undefined
          ? String(source.targetRevision ?? "")
          : createHash("sha1")
              .update(JSON.stringify(spec.source ?? spec.sources))
              .digest("hex");
      if (!projectExists) {
        status.conditions = [
          {
            type: "InvalidSpecError",
            message: `Application referencing project ${project} which does not exist`,
            lastTransitionTime: now,
          },
        ];
        status.sync = { status: "Unknown", comparedTo };
        status.health = { status: "Unknown" };
        status.reconciledAt = now;
        writeAppStatus(appType, app, status);
        continue;
      }
      delete status.conditions;
      const specError =
        projectSpec === undefined ? undefined : specPermissionError(spec, projectSpec, project);
      if (specError !== undefined) {
        // argo-cd v3.5.1 util/argo/argo.go ValidatePermissions: an InvalidSpecError condition, no sync
        status.conditions = [{ type: "InvalidSpecError", message: specError, lastTransitionTime: now }];
        status.sync = { status: "Unknown", comparedTo };
        status.health = { status: "Unknown" };
        status.reconciledAt = now;
        writeAppStatus(appType, app, status);
        continue;
      }
      const automated =
        isRecord(spec.syncPolicy) &&
        isRecord(spec.syncPolicy.automated) &&
        spec.syncPolicy.automated.enabled !== false;
      if (state.phase === 0) {
        status.sync = { status: "OutOfSync", comparedTo, revision };
        status.health = { status: "Missing" };
        status.reconciledAt = now;
        if (automated || app.operation !== undefined) {
          status.operationState = {
            phase: "Running",
            startedAt: now,
            message: "syncing",
            operation: { sync: { revision } },
          };
          state.phase = 1;
        }
      } else if (state.phase === 1) {
        const render = renderApp(app);
        if (render === "pending") continue;
        if ("error" in render) {
          status.conditions = [{ type: "ComparisonError", message: render.error, lastTransitionTime: now }];
          status.sync = { status: "Unknown", comparedTo, revision };
          status.health = { status: "Unknown" };
          status.reconciledAt = now;
          writeAppStatus(appType, app, status);
          continue;
        }
        const denied =
          projectSpec === undefined
            ? []
            : render.objects.flatMap((o) => permissionError(o, projectSpec, project));
        if (denied.length > 0) {
          // argo-cd v3.5.1 controller/sync.go validateSyncPermissions: the sync fails, nothing is applied.
          // The stand-in spends the retries at once (Argo CD would back off between them).
          const limit =
            isRecord(spec.syncPolicy) && isRecord(spec.syncPolicy.retry)
              ? Number(spec.syncPolicy.retry.limit ?? 0)
              : 0;
          status.sync = { status: "OutOfSync", comparedTo, revision };
          status.health = { status: "Missing" };
          status.operationState = {
            phase: "Failed",
            startedAt: (isRecord(status.operationState) ? status.operationState.startedAt : now) ?? now,
            finishedAt: now,
            message: `one or more synchronization tasks are not valid: ${denied.join("; ")}`,
            retryCount: limit,
            operation: { sync: { revision } },
          };
          status.reconciledAt = now;
          state.phase = 9;
          writeAppStatus(appType, app, status);
          continue;
        }
        const refs: Record<string, unknown>[] = [];
        for (const object of render.objects) {
          const child = structuredClone(object);
          const meta = isRecord(child.metadata) ? child.metadata : {};
          const type =
            typeof child.apiVersion === "string"
              ? store.typeFor(child.apiVersion, String(child.kind))
              : undefined;
          child.metadata = {
            ...meta,
            ...(type?.namespaced === false
              ? {}
              : {
                  namespace:
                    meta.namespace ?? (isRecord(spec.destination) ? spec.destination.namespace : undefined),
                }),
          };
          if (type === undefined) continue;
          try {
            if (type.namespaced && typeof (child.metadata as Record<string, unknown>).namespace === "string")
              ensureNamespace(String((child.metadata as Record<string, unknown>).namespace));
            applyObject(child, "argocd-controller");
            refs.push(child);
          } catch {
            // An object the stand-in cannot store is skipped, as a failed resource would be.
          }
        }
        appResources.set(k, refs);
        status.sync = { status: "Synced", comparedTo, revision };
        status.health = { status: "Progressing" };
        status.operationState = {
          phase: "Succeeded",
          startedAt: (isRecord(status.operationState) ? status.operationState.startedAt : now) ?? now,
          finishedAt: now,
          message: "successfully synced (all tasks run)",
          operation: { sync: { revision } },
          syncResult: { revision, resources: [] },
        };
        status.reconciledAt = now;
        state.phase = 2;
        if (app.operation !== undefined) {
          const { operation, ...withoutOperation } = app;
          void operation;
          writeAppStatus(appType, withoutOperation as StoredObject, status);
          continue;
        }
      } else if (state.phase < 9) {
        status.health =
          override === undefined
            ? aggregateHealth(namespace, appResources.get(k) ?? [])
            : {
                status: override.health,
                ...(override.message === undefined ? {} : { message: override.message }),
              };
        if (state.phase === 2) {
          status.reconciledAt = now;
          state.phase = 3;
        }
      }
      writeAppStatus(appType, app, status);
    }
  }

  function writeAppStatus(type: ResourceType, app: StoredObject, status: Record<string, unknown>): void {
    const current = isRecord(app.status) ? app.status : undefined;
    const annotations = isRecord(app.metadata.annotations) ? app.metadata.annotations : {};
    const phase = appPhases.get(`${app.metadata.namespace}/${app.metadata.name}`)?.phase ?? 0;
    if (annotations[REFRESH_ANNOTATION] !== undefined && phase >= 2) {
      // the refresh is done: the new status goes with the annotation removed, as one write
      const { [REFRESH_ANNOTATION]: _refresh, ...rest } = annotations;
      store.replace(
        type,
        { ...app, metadata: { ...app.metadata, annotations: rest }, status },
        { manager: "argocd-application-controller" },
      );
      return;
    }
    if (JSON.stringify(current) === JSON.stringify(status)) return;
    store.replace(
      type,
      { ...app, status },
      { manager: "argocd-application-controller", statusOnly: app.operation === undefined },
    );
  }

  function applyObject(object: Record<string, unknown>, fieldManager: string): StoredObject {
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string")
      throw new StoreError(400, "BadRequest", "apiVersion and kind are required");
    const type = store.typeFor(object.apiVersion, object.kind);
    if (type === undefined)
      throw new StoreError(404, "NotFound", `no kind ${object.kind} in ${object.apiVersion}`);
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const current = store.get(
      type,
      typeof meta.namespace === "string" ? meta.namespace : undefined,
      String(meta.name),
    );
    if (current === undefined) {
      const created = store.create(type, stripReadOnly(object), fieldManager);
      return store.replace(type, created, { manager: fieldManager, operation: "Apply" });
    }
    const merged = mergeApplied(current, stripReadOnly(object)) as StoredObject;
    if (object.status !== undefined) merged.status = object.status;
    const written = store.replace(type, merged, { manager: fieldManager, operation: "Apply" });
    if (object.status !== undefined && type.statusSubresource === true) {
      return store.replace(
        type,
        { ...written, status: object.status },
        { manager: fieldManager, statusOnly: true },
      );
    }
    return written;
  }

  function resolveType(ref: { apiVersion: string; kind: string }): ResourceType | undefined {
    return store.typeFor(ref.apiVersion, ref.kind);
  }

  const emulator: KubeEmulator = {
    url,
    kubeconfig,
    requestLog,
    nodes: {
      ...cluster.nodes,
      register(node) {
        cluster.nodes.register(node);
        wake();
      },
      setReady(name, ready) {
        cluster.nodes.setReady(name, ready);
        wake();
      },
      update(name, changes) {
        cluster.nodes.update(name, changes);
        wake();
      },
      remove(name) {
        cluster.nodes.remove(name);
        wake();
      },
    },
    setKubernetesVersion(version) {
      kubernetesVersion = version.replace(/^v/, "");
    },
    faults: {
      apiError(fault) {
        apiFaults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
      },
      stallRollout(target) {
        stalls.set(
          `${target.kind}/${target.namespace ?? "argocd"}/${target.name}`,
          target.mode ?? "unavailable",
        );
      },
      resumeRollout(target) {
        stalls.delete(`${target.kind}/${target.namespace ?? "argocd"}/${target.name}`);
      },
      clear() {
        apiFaults.length = 0;
        stalls.clear();
      },
    },
    argo: {
      setHealth(name, health, opts = {}) {
        const k = `${opts.namespace ?? "argocd"}/${name}`;
        if (health === undefined) healthOverrides.delete(k);
        else
          healthOverrides.set(k, {
            health,
            ...(opts.message === undefined ? {} : { message: opts.message }),
          });
      },
      setGitRepo(repoURL, dir) {
        gitRepos.set(repoURL, dir);
        renders.clear();
      },
      setGitContent(source, objects) {
        gitContent.set(
          `${source.repoURL}#${source.path}`,
          structuredClone(objects) as Record<string, unknown>[],
        );
      },
    },
    get(ref) {
      const type = resolveType(ref);
      return type === undefined ? undefined : store.get(type, ref.namespace, ref.name);
    },
    list(ref) {
      const type = resolveType(ref);
      return type === undefined ? [] : store.list(type, ref.namespace);
    },
    apply(object, opts = {}) {
      wake();
      return applyObject(object, opts.fieldManager ?? "emulator");
    },
    delete(ref) {
      const type = resolveType(ref);
      if (type === undefined || store.get(type, ref.namespace, ref.name) === undefined) return false;
      store.delete(type, ref.namespace, ref.name);
      return true;
    },
    waitFor(check, timeoutMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = (): void => {
          wake();
          if (check()) resolve();
          else if (Date.now() - started > timeoutMs)
            reject(new Error(`condition not met within ${timeoutMs} ms`));
          else setTimeout(poll, stepMs);
        };
        poll();
      });
    },
    async close() {
      clearInterval(ticker);
      for (const res of openResponses) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return emulator;
}

function openApiHash(gv: string): string {
  return createHash("sha256").update(gv).digest("hex").slice(0, 32).toUpperCase();
}

/** A small OpenAPI v3 document per group-version: enough for kubectl to see that fieldValidation is supported. */
function openApiDocument(
  gv: string,
  types: ResourceType[],
  kubernetesVersion: string,
): Record<string, unknown> {
  const query = (name: string, type = "string") => ({
    name,
    in: "query",
    schema: { type, uniqueItems: true },
  });
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const base = t.namespaced ? `/${gv}/namespaces/{namespace}/${t.resource}` : `/${gv}/${t.resource}`;
    const operation = (action: string, extra: Record<string, unknown>[] = []) => ({
      operationId: `${action}${t.kind}`,
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [query("dryRun"), query("fieldManager"), query("fieldValidation"), ...extra],
      responses: { "200": { description: "OK" } },
    });
    paths[`${base}/{name}`] = {
      parameters: [
        { name: "name", in: "path", required: true, schema: { type: "string" } },
        ...(t.namespaced
          ? [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }]
          : []),
      ],
      get: {
        operationId: `read${t.kind}`,
        "x-kubernetes-action": "get",
        "x-kubernetes-group-version-kind": gvk,
        responses: { "200": { description: "OK" } },
      },
      put: operation("put"),
      patch: operation("patch", [query("force", "boolean")]),
    };
    paths[base] = { post: operation("post") };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: `v${kubernetesVersion}` },
    paths,
    components: { schemas: {} },
  };
}

function dotted(pointer: string): string {
  return pointer
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function deletePath(object: Record<string, unknown>, pointer: string): void {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let current: unknown = object;
  for (const part of parts.slice(0, -1))
    current = isRecord(current) ? current[part] : Array.isArray(current) ? current[Number(part)] : undefined;
  const last = parts.at(-1);
  if (isRecord(current) && last !== undefined) delete current[last];
}

function groupInfo(g: { name: string; versions: string[] }): Record<string, unknown> {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(body === "" ? "{}" : body);
  } catch (error) {
    throw new StoreError(
      400,
      "BadRequest",
      `the request body is not valid JSON or YAML: ${(error as Error).message}`,
    );
  }
  if (!isRecord(parsed)) throw new StoreError(400, "BadRequest", "the request body must be an object");
  return parsed;
}

function stripReadOnly(object: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(object);
  if (isRecord(copy.metadata)) {
    for (const field of ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"])
      delete copy.metadata[field];
  }
  return copy;
}

function checkResourceVersion(input: StoredObject, current: StoredObject): void {
  const wanted = input.metadata.resourceVersion;
  if (wanted !== undefined && wanted !== current.metadata.resourceVersion) {
    throw new StoreError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${current.kind} "${current.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
  }
}

function notFound(type: ResourceType, name: string): StoreError {
  return new StoreError(
    404,
    "NotFound",
    `${type.resource}${type.group === "" ? "" : `.${type.group}`} "${name}" not found`,
  );
}

function selectorMatches(object: StoredObject, query: URLSearchParams): boolean {
  const fieldSelector = query.get("fieldSelector");
  if (fieldSelector !== null && fieldSelector !== "") {
    for (const term of fieldSelector.split(",")) {
      const [field, value] = term.split(/!?==?/) as [string, string];
      const negate = term.includes("!=");
      // metadata.name, metadata.namespace, spec.nodeName, status.phase ...
      let actual: unknown = object;
      for (const part of field.split(".")) actual = isRecord(actual) ? actual[part] : undefined;
      actual ??= "";
      if (negate ? actual === value : actual !== value) return false;
    }
  }
  const labelSelector = query.get("labelSelector");
  if (labelSelector !== null && labelSelector !== "") {
    const labels = isRecord(object.metadata.labels) ? object.metadata.labels : {};
    for (const term of labelSelector.split(",")) {
      if (term.includes("!=")) {
        const [k, v] = term.split("!=") as [string, string];
        if (labels[k] === v) return false;
      } else if (term.includes("=")) {
        const [k, v] = term.split(/==?/) as [string, string];
        if (labels[k] !== v) return false;
      } else if (term.startsWith("!")) {
        if (term.slice(1) in labels) return false;
      } else if (!(term in labels)) return false;
    }
  }
  return true;
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ""));
}

function table(type: ResourceType, items: StoredObject[]): Record<string, unknown> {
  const columns = (type.columns ?? []).filter((c) => (c.priority ?? 0) === 0);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {},
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: "Name of the object", priority: 0 },
      ...columns.map((c) => ({ name: c.name, type: c.type, format: "", description: c.name, priority: 0 })),
      { name: "Age", type: "string", format: "", description: "Age of the object", priority: 0 },
    ],
    rows: items.map((o) => ({
      cells: [o.metadata.name, ...columns.map((c) => cell(o, c.jsonPath)), age(o)],
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}

function cell(object: StoredObject, jsonPath: string): unknown {
  if (jsonPath === "@nodeStatus") {
    const status = isRecord(object.status) ? object.status : {};
    const ready = (Array.isArray(status.conditions) ? status.conditions : []).find(
      (c: unknown) => isRecord(c) && c.type === "Ready",
    ) as Record<string, unknown> | undefined;
    const text = ready?.status === "True" ? "Ready" : "NotReady";
    return isRecord(object.spec) && object.spec.unschedulable === true ? `${text},SchedulingDisabled` : text;
  }
  if (jsonPath === "@ready") {
    const spec = isRecord(object.spec) ? object.spec : {};
    const status = isRecord(object.status) ? object.status : {};
    return `${Number(status.readyReplicas ?? 0)}/${Number(spec.replicas ?? 0)}`;
  }
  let value: unknown = object;
  for (const part of jsonPath.replace(/^\./, "").split(".")) {
    value = isRecord(value) ? value[part] : undefined;
  }
  return value ?? (jsonPath.includes("Replicas") ? 0 : "");
}

function age(object: StoredObject): string {
  const created = Date.parse(String(object.metadata.creationTimestamp ?? ""));
  if (Number.isNaN(created)) return "<unknown>";
  const seconds = Math.max(0, Math.round((Date.now() - created) / 1000));
  return seconds < 120 ? `${seconds}s` : `${Math.round(seconds / 60)}m`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(
  res: ServerResponse,
  status: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  sendJson(res, status, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code: status,
  });
}

/** `kubectl kustomize DIR` where kubectl is installed (what Argo CD's repo-server runs), else readGitOpsTree. */
function kustomizeBuild(dir: string): Promise<Record<string, unknown>[]> {
  // Argo CD renders a directory without a kustomization as plain YAML files (a "directory" source)
  if (!["kustomization.yaml", "kustomization.yml", "Kustomization"].some((f) => existsSync(join(dir, f))))
    return readGitOpsTree({ dir }).then((tree) => tree.objects);
  return new Promise((resolve, reject) => {
    execFile(
      "kubectl",
      ["kustomize", dir],
      { encoding: "utf8", timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(
            parseAllDocuments(stdout)
              .map((d) => d.toJS() as unknown)
              .filter(isRecord),
          );
          return;
        }
        if ((error as { code?: unknown }).code === "ENOENT") {
          readGitOpsTree({ dir }).then((tree) => resolve(tree.objects), reject);
          return;
        }
        reject(new Error(stderr.trim() || error.message));
      },
    );
  });
}
