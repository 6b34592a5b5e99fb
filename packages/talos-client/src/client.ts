import type { Writable } from "node:stream";
import { inspect } from "node:util";
import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { parse as parseYaml } from "yaml";
import { isTalosClientError, TalosClientError } from "./errors.js";
import type { DataSchema, Metadata } from "./gen/common/common_pb.js";
import { ContainerDriver, ContainerdNamespace } from "./gen/common/common_pb.js";
import { ImageService } from "./gen/machine/image_pb.js";
import { LifecycleService } from "./gen/machine/lifecycle_pb.js";
import type { FileInfo } from "./gen/machine/machine_pb.js";
import {
  MachineService,
  RebootRequest_Mode,
  ResetRequest_WipeMode,
  UpgradeRequest_RebootMode,
} from "./gen/machine/machine_pb.js";
import { StorageService } from "./gen/storage/storage_pb.js";
import { TimeService } from "./gen/time/time_pb.js";
import { ResourceDefinitionSpecSchema } from "./gen/v1alpha1/meta_pb.js";
import { State } from "./gen/v1alpha1/state_pb.js";
import { systemClock, waitForHealth } from "./health.js";
import {
  APPLY_MODES,
  applyModeName,
  checkMetadata,
  decodeResource,
  EVENT_TYPES,
  eventRegistry,
  first,
  firstIfAny,
  iterable,
  lines,
  parseTag,
  type Reply,
  toDate,
  toServiceStatus,
  untar,
  writeChunk,
} from "./internal/messages.js";
import { codeFromGrpcStatus } from "./status.js";
import { loadTalosconfig, resolveCredentials, selectContext } from "./talosconfig.js";
import type { Transport, TransportCallOptions } from "./transport.js";
import { createGrpcTransport, parseEndpoint } from "./transport.js";
import type {
  CallOptions,
  NodeResult,
  NodesCallOptions,
  ResourceQuery,
  RetryEvent,
  TalosClient,
  TalosClientOptions,
  TalosResource,
  UpgradeResult,
} from "./types.js";
import type { UpgradeStep } from "./upgrade.js";
import { finishUpgrade, imageTag } from "./upgrade.js";

interface Resolved {
  transport: Transport;
  nodes: string[];
  endpointHost: string;
  /** Maintenance mode: no routing on the node side, so a target node is dialled directly. */
  insecure: boolean;
  /** A transport to one node in maintenance mode (cached per node). */
  direct(node: string): Transport;
  close(): void;
}

interface ResourceDefinition {
  type: string;
  namespace: string;
  names: string[];
}

/**
 * A Get that may succeed once the type is resolved: not found as written, or refused as an unknown
 * type (talos internal/app/resources/access.go answers PermissionDenied "resource type ... is not supported").
 */
function isLookupMiss(error: unknown): boolean {
  return isTalosClientError(error) && (error.code === "NOT_FOUND" || error.code === "PERMISSION_DENIED");
}

/**
 * Creates a Talos API client. Connection material comes from a talosconfig (path, YAML, object), from
 * PEM options, or `insecure` for maintenance mode; nothing connects until the first call.
 *
 * @example
 * ```ts
 * const client = createTalosClient({ talosconfig: "./talosconfig", nodes: ["10.0.0.2"] });
 * const [result] = await client.version();
 * if (result?.ok) console.log(result.value.tag);
 * client.close();
 * ```
 * @throws TalosClientError (from calls) `INVALID_TALOSCONFIG`, `INVALID_ARGUMENT`, and the mapped gRPC codes
 */
export function createTalosClient(options: TalosClientOptions = {}): TalosClient {
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const readAttempts = Math.max(1, options.readAttempts ?? 4);
  const retryBase = options.retryBaseDelayMs ?? 200;
  let resolving: Promise<Resolved> | undefined;
  let closed = false;
  const definitions = new Map<string, Promise<ResourceDefinition[]>>();

  async function resolve(): Promise<Resolved> {
    if (closed) throw new TalosClientError("CANCELLED", "the client is closed");
    resolving ??= (async () => {
      let contextEndpoints: string[] = [];
      let contextNodes: string[] = [];
      let creds: { ca?: string; cert: string; key: string } | undefined;
      if (options.talosconfig !== undefined) {
        const config = await loadTalosconfig(options.talosconfig);
        const { name, context } = selectContext(config, options.context);
        contextEndpoints = context.endpoints;
        contextNodes = context.nodes;
        if (!options.insecure && options.cert === undefined) creds = resolveCredentials(context, name);
      }
      if (options.ca !== undefined || options.cert !== undefined || options.key !== undefined) {
        if (options.cert === undefined || options.key === undefined) {
          throw new TalosClientError(
            "INVALID_ARGUMENT",
            "cert and key must be given together (ca is optional)",
          );
        }
        creds = {
          cert: options.cert,
          key: options.key,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
        };
      }
      const endpoints = options.endpoints ?? contextEndpoints;
      const nodes = options.nodes ?? contextNodes;
      let transport = options.transport;
      if (transport === undefined) {
        if (endpoints.length === 0) {
          throw new TalosClientError(
            "INVALID_ARGUMENT",
            "no endpoints: pass endpoints or a talosconfig with some",
          );
        }
        if (options.insecure) {
          transport = createGrpcTransport({
            endpoints,
            tls: { mode: "insecure", ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}) },
          });
        } else {
          if (creds === undefined) {
            throw new TalosClientError(
              "INVALID_ARGUMENT",
              "no client credentials: pass a talosconfig, ca/cert/key, or insecure for maintenance mode",
            );
          }
          transport = createGrpcTransport({ endpoints, tls: { mode: "mtls", ...creds } });
        }
      }
      const firstEndpoint = transport.endpoints[0] ?? endpoints[0] ?? "endpoint";
      let endpointHost = firstEndpoint;
      try {
        endpointHost = parseEndpoint(firstEndpoint).host;
      } catch {
        // keep the raw text as the label
      }
      const shared = transport;
      const injected = options.transport !== undefined;
      const directs = new Map<string, Transport>();
      const direct = (node: string): Transport => {
        let t = directs.get(node);
        if (t === undefined) {
          if (injected) {
            throw new TalosClientError(
              "INVALID_ARGUMENT",
              `maintenance mode cannot route to ${node} through an injected transport: pass a transport to that node`,
              { details: { node } },
            );
          }
          t = createGrpcTransport({
            endpoints: [node],
            tls: { mode: "insecure", ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}) },
          });
          directs.set(node, t);
        }
        return t;
      };
      return {
        transport,
        nodes,
        endpointHost,
        insecure: options.insecure === true,
        direct,
        close() {
          shared.close();
          for (const t of directs.values()) t.close();
        },
      };
    })();
    resolving.catch(() => {
      resolving = undefined;
    });
    return resolving;
  }

  /**
   * The transport and `node` metadata of a call. In maintenance mode Talos does no routing (a `node` key
   * is ignored and the endpoint answers), so a target node is dialled directly, as talosctl --insecure
   * does. With no target, the endpoint itself answers: only unambiguous with exactly one endpoint.
   */
  async function connect(
    node: string | undefined,
  ): Promise<{ transport: Transport; node: string | undefined }> {
    const r = await resolve();
    if (node === undefined) {
      if (r.transport.endpoints.length > 1) {
        throw new TalosClientError(
          "INVALID_ARGUMENT",
          "several endpoints and no target node: pass the node to target (the call would reach any endpoint)",
          { details: { endpoints: r.transport.endpoints.length } },
        );
      }
      return { transport: r.transport, node: undefined };
    }
    if (r.insecure) return { transport: r.direct(node), node: undefined };
    return { transport: r.transport, node };
  }

  function callOptions(
    node: string | undefined,
    opts: CallOptions | undefined,
    unary: boolean,
  ): TransportCallOptions {
    const result: TransportCallOptions = {};
    if (node !== undefined) result.metadata = { node };
    const timeout = opts?.timeoutMs ?? (unary ? defaultTimeout : undefined);
    if (timeout !== undefined) result.timeoutMs = timeout;
    if (opts?.signal !== undefined) result.signal = opts.signal;
    return result;
  }

  /** Waits before retry `attempt + 1`: exponential from `retryBase`, capped at 3 s, with jitter. */
  function backoff(
    attempt: number,
    signal: AbortSignal | undefined,
    retry: Omit<RetryEvent, "attempt" | "delayMs">,
  ): Promise<void> {
    const cap = Math.min(3000, retryBase * 2 ** (attempt - 1));
    const delayMs = cap / 2 + Math.random() * (cap / 2);
    options.onRetry?.({ ...retry, attempt: attempt + 1, delayMs });
    return systemClock.sleep(delayMs, signal);
  }

  async function unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
    idempotent: boolean,
  ): Promise<MessageShape<O>> {
    const { endpointHost } = await resolve();
    const target = await connect(node);
    const attempts = idempotent ? readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await target.transport.unary(method, request, callOptions(target.node, opts, true));
      } catch (error) {
        const e = isTalosClientError(error) ? error : TalosClientError.from(error);
        if (e.code !== "UNAVAILABLE" || attempt >= attempts || opts?.signal?.aborted) {
          throw withNode(e, node ?? endpointHost);
        }
        await backoff(attempt, opts?.signal, {
          method: `/${method.parent.typeName}/${method.name}`,
          node: node ?? endpointHost,
          attempts,
          error: e,
        });
      }
    }
  }

  function withNode(error: TalosClientError, node: string): TalosClientError {
    if (error.details?.node !== undefined) return error;
    return new TalosClientError(error.code, error.rawMessage, {
      cause: error.cause ?? error,
      details: { ...(error.details ?? {}), node },
    });
  }

  async function* serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
  ): AsyncGenerator<MessageShape<O>> {
    const { endpointHost } = await resolve();
    const target = await connect(node);
    // Streams are reads except the upgrade ones; a read is retried only while nothing was received yet.
    const idempotent =
      method.parent.typeName !== "machine.ImageService" &&
      method.parent.typeName !== "machine.LifecycleService";
    const attempts = idempotent ? readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      let received = false;
      try {
        for await (const message of target.transport.serverStream(
          method,
          request,
          callOptions(target.node, opts, false),
        )) {
          received = true;
          yield message;
        }
        return;
      } catch (error) {
        const e = isTalosClientError(error) ? error : TalosClientError.from(error);
        if (received || e.code !== "UNAVAILABLE" || attempt >= attempts || opts?.signal?.aborted) {
          throw withNode(e, node ?? endpointHost);
        }
        await backoff(attempt, opts?.signal, {
          method: `/${method.parent.typeName}/${method.name}`,
          node: node ?? endpointHost,
          attempts,
          error: e,
        });
      }
    }
  }

  /** Reads a stream of `common.Data` from one node into one buffer; a node error in any message throws. */
  async function readData<I extends DescMessage>(
    method: DescMethodServerStreaming<I, typeof DataSchema>,
    request: MessageInitShape<I>,
    node: string | undefined,
    label: string,
    opts: CallOptions | undefined,
  ): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for await (const data of serverStream(method, request, node, opts)) {
      checkMetadata(data.metadata, label);
      chunks.push(data.bytes);
    }
    return Buffer.concat(chunks);
  }

  async function singleNode(node: string | undefined): Promise<{ node: string | undefined; label: string }> {
    const { nodes, endpointHost } = await resolve();
    if (node !== undefined) return { node, label: node };
    if (nodes.length > 1) {
      throw new TalosClientError("INVALID_ARGUMENT", "several default nodes: pass the node to target", {
        details: { nodes },
      });
    }
    return { node: nodes[0], label: nodes[0] ?? endpointHost };
  }

  async function fanOut<T>(
    opts: NodesCallOptions,
    fn: (node: string | undefined, label: string, call: typeof unary) => Promise<T>,
  ): Promise<NodeResult<T>[]> {
    const { nodes, endpointHost } = await resolve();
    const targets: (string | undefined)[] = opts.nodes ?? (nodes.length > 0 ? nodes : [undefined]);
    const r = await resolve();
    const call =
      opts.legacyFanOut === true && !r.insecure && targets.every((t) => t !== undefined)
        ? legacyBatcher(targets as string[])
        : unary;
    const results: NodeResult<T>[] = new Array(targets.length);
    let index = 0;
    const worker = async (): Promise<void> => {
      while (index < targets.length) {
        const i = index++;
        const target = targets[i];
        const label = target ?? endpointHost;
        try {
          results[i] = { node: label, ok: true, value: await fn(target, label, call) };
        } catch (error) {
          const e = isTalosClientError(error) ? error : TalosClientError.from(error);
          results[i] = { node: label, ok: false, error: withNode(e, label) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    return results;
  }

  /** Fans one read-only unary call out to the target nodes; each node's single reply goes through `map`. */
  function fanOutFirst<I extends DescMessage, O extends DescMessage, T>(
    opts: NodesCallOptions,
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    what: string,
    map: (message: Reply<O>, label: string) => T,
  ): Promise<NodeResult<T>[]> {
    return fanOut(opts, async (node, label, call) => {
      const res = (await call(method, request, node, opts, true)) as MessageShape<O> & {
        messages: Reply<O>[];
      };
      return map(first(res.messages, label, what), label);
    });
  }

  /**
   * One-to-many proxying (deprecated upstream): one call carrying every target in `nodes` metadata; apid
   * answers with one message per node (metadata.hostname), failed nodes as metadata-only errors.
   */
  function legacyBatcher(targets: string[]): typeof unary {
    const batches = new Map<string, Promise<unknown>>();
    return (async (
      method: DescMethodUnary<DescMessage, DescMessage>,
      request: MessageInitShape<DescMessage>,
      node: string | undefined,
      opts: CallOptions | undefined,
    ) => {
      const key = `${method.parent.typeName}/${method.name}`;
      let batch = batches.get(key);
      if (batch === undefined) {
        batch = (async () => {
          const { transport } = await resolve();
          const callOpts = callOptions(undefined, opts, true);
          callOpts.metadata = { nodes: targets };
          return transport.unary(method, request, callOpts);
        })();
        batches.set(key, batch);
      }
      const response = (await batch) as { messages: { metadata?: Metadata }[] };
      const message = response.messages.find((m) => m.metadata?.hostname === node);
      if (message === undefined) {
        throw new TalosClientError("INTERNAL", `${node} sent no reply in the one-to-many response`, {
          details: { node },
        });
      }
      const error = message.metadata?.error ?? "";
      if (error !== "") {
        const code =
          message.metadata?.status === undefined
            ? "NODE_ERROR"
            : codeFromGrpcStatus(message.metadata.status.code);
        throw new TalosClientError(code, `${node}: ${error}`, {
          details: { node, grpcCode: message.metadata?.status?.code },
        });
      }
      return { ...response, messages: [message] };
    }) as unknown as typeof unary;
  }

  async function resourceDefinitions(node: string | undefined, opts: CallOptions | undefined) {
    const key = node ?? "";
    let cached = definitions.get(key);
    if (cached === undefined) {
      cached = (async () => {
        const out: ResourceDefinition[] = [];
        for await (const item of serverStream(
          State.method.list,
          { namespace: "meta", type: "ResourceDefinitions.meta.cosi.dev" },
          node,
          opts,
        )) {
          const spec = item.resource?.spec;
          if (spec === undefined) continue;
          let type = "";
          let namespace = "";
          let names: string[] = [];
          if (spec.protoSpec.length > 0) {
            const d = fromBinary(ResourceDefinitionSpecSchema, spec.protoSpec);
            type = d.resourceType;
            namespace = d.defaultNamespace;
            names = [d.resourceType, d.displayType, ...d.aliases, ...d.allAliases];
          } else if (spec.yamlSpec !== "") {
            const d = (parseYaml(spec.yamlSpec) ?? {}) as Record<string, unknown>;
            type = String(d.type ?? d.resourceType ?? item.resource?.metadata?.id ?? "");
            namespace = String(d.defaultNamespace ?? "");
            names = [
              type,
              String(d.displayType ?? ""),
              ...((d.aliases as string[]) ?? []),
              ...((d.allAliases as string[]) ?? []),
            ];
          }
          if (type !== "")
            out.push({ type, namespace, names: names.filter((n) => n !== "").map((n) => n.toLowerCase()) });
        }
        return out;
      })();
      cached.catch(() => definitions.delete(key));
      definitions.set(key, cached);
    }
    return cached;
  }

  async function resolveType(query: ResourceQuery): Promise<{ type: string; namespace: string }> {
    const wanted = query.type.toLowerCase();
    const defs = await resourceDefinitions(query.node, query);
    // As talosctl (talos pkg/machinery/client/resources.go ResolveResourceKind): the type or any alias,
    // case-insensitively; more than one match is an error rather than a guess.
    const matched = defs.filter((d) => d.type.toLowerCase() === wanted || d.names.includes(wanted));
    if (matched.length > 1) {
      const types = matched.map((d) => d.type);
      throw new TalosClientError(
        "INVALID_ARGUMENT",
        `resource type "${query.type}" is ambiguous: ${types.join(", ")}; use the full type name`,
        { details: { type: query.type, matches: types } },
      );
    }
    const def = matched[0];
    if (def === undefined) {
      if (query.type.includes(".") && query.namespace !== undefined) {
        return { type: query.type, namespace: query.namespace };
      }
      throw new TalosClientError("NOT_FOUND", `no resource type matches "${query.type}"`, {
        details: { type: query.type },
      });
    }
    return { type: def.type, namespace: query.namespace ?? def.namespace };
  }

  const client: TalosClient = {
    async version(opts = {}) {
      return fanOutFirst(opts, MachineService.method.version, {}, "version", (m) => {
        const v = m.version;
        return {
          tag: v?.tag ?? "",
          sha: v?.sha ?? "",
          built: v?.built ?? "",
          goVersion: v?.goVersion ?? "",
          os: v?.os ?? "",
          arch: v?.arch ?? "",
          platform: m.platform === undefined ? undefined : { name: m.platform.name, mode: m.platform.mode },
          features: m.features === undefined ? undefined : { rbac: m.features.rbac },
        };
      });
    },

    async hostname(opts = {}) {
      return fanOutFirst(opts, MachineService.method.hostname, {}, "hostname", (m) => m.hostname);
    },

    async applyConfiguration(opts) {
      const { node, label } = await singleNode(opts.node);
      const data = typeof opts.data === "string" ? new TextEncoder().encode(opts.data) : opts.data;
      const mode = APPLY_MODES[opts.mode ?? "auto"];
      if (mode === undefined)
        throw new TalosClientError("INVALID_ARGUMENT", `unknown apply mode "${opts.mode}"`);
      const request: MessageInitShape<typeof MachineService.method.applyConfiguration.input> = {
        data,
        mode,
        dryRun: opts.dryRun ?? false,
      };
      if (opts.tryModeTimeoutMs !== undefined) {
        const ms = opts.tryModeTimeoutMs;
        request.tryModeTimeout = { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
      }
      // the same document applied twice gives the same machine config: safe to retry on UNAVAILABLE
      const res = await unary(MachineService.method.applyConfiguration, request, node, opts, true);
      const m = first(res.messages, label, "apply");
      return {
        node: label,
        mode: applyModeName(m.mode),
        modeDetails: m.modeDetails,
        warnings: [...m.warnings],
      };
    },

    async bootstrap(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.bootstrap,
        { recoverEtcd: opts.recoverEtcd ?? false, recoverSkipHashCheck: opts.recoverSkipHashCheck ?? false },
        node,
        opts,
        false,
      );
      firstIfAny(res.messages, label);
    },

    async reboot(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const mode =
        opts.mode === "powercycle"
          ? RebootRequest_Mode.POWERCYCLE
          : opts.mode === "force"
            ? RebootRequest_Mode.FORCE
            : RebootRequest_Mode.DEFAULT;
      if (mode === RebootRequest_Mode.FORCE) {
        // FORCE=2 arrived in Talos 1.12 (api/machine/machine.proto); 1.11 would take it for a graceful reboot.
        const res = await unary(MachineService.method.version, {}, node, opts, true);
        const tag = first(res.messages, label, "version").version?.tag ?? "";
        const v = parseTag(tag);
        if (v !== undefined && v[0] === 1 && v[1] < 12) {
          throw new TalosClientError(
            "INVALID_ARGUMENT",
            `reboot mode "force" needs Talos 1.12 or later; ${label} runs ${tag}`,
            { details: { node: label, version: tag } },
          );
        }
      }
      const res = await unary(MachineService.method.reboot, { mode }, node, opts, false);
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async shutdown(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.shutdown,
        { force: opts.force ?? false },
        node,
        opts,
        false,
      );
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async reset(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const mode =
        opts.mode === "system-disk"
          ? ResetRequest_WipeMode.SYSTEM_DISK
          : opts.mode === "user-disks"
            ? ResetRequest_WipeMode.USER_DISKS
            : ResetRequest_WipeMode.ALL;
      const res = await unary(
        MachineService.method.reset,
        {
          graceful: opts.graceful ?? true,
          reboot: opts.reboot ?? false,
          mode,
          systemPartitionsToWipe: (opts.systemPartitionsToWipe ?? []).map((label) => ({ label, wipe: true })),
          userDisksToWipe: opts.userDisksToWipe ?? [],
        },
        node,
        opts,
        false,
      );
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async upgrade(opts) {
      const { node, label } = await singleNode(opts.node);
      const progress = (type: string, message: string, data: Record<string, unknown> = {}): void =>
        opts.onProgress?.({ type, message, node: label, ...data });
      const legacy = async (): Promise<UpgradeResult> => {
        progress("upgrade.legacy", `upgrading ${label} with MachineService.Upgrade`);
        const res = await unary(
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
      const versionRes = await unary(MachineService.method.version, {}, node, opts, true);
      const tag = parseTag(first(versionRes.messages, label, "version").version?.tag ?? "");
      if (tag === undefined || tag[0] < 1 || (tag[0] === 1 && tag[1] < 13)) return legacy();
      const containerd = { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_SYSTEM };
      const steps: UpgradeStep[] = [];
      try {
        progress("upgrade.pull", `pulling ${opts.image}`);
        for await (const item of serverStream(
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
      for await (const item of serverStream(
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
          client,
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
            const res = await unary(MachineService.method.reboot, { mode }, node, opts, false);
            return res.messages[0]?.actorId ?? "";
          },
        });
      }
      return { node: label, flow: "lifecycle", actorId, steps };
    },

    async serviceList(opts = {}) {
      return fanOutFirst(opts, MachineService.method.serviceList, {}, "service list", (m) =>
        m.services.map(toServiceStatus),
      );
    },

    async serviceStart(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.serviceStart, { id: opts.id }, node, opts, false);
      return first(res.messages, label, "service start").resp;
    },

    async serviceStop(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.serviceStop, { id: opts.id }, node, opts, false);
      return first(res.messages, label, "service stop").resp;
    },

    async serviceRestart(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.serviceRestart, { id: opts.id }, node, opts, false);
      return first(res.messages, label, "service restart").resp;
    },

    async kubeconfig(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const archive = await readData(MachineService.method.kubeconfig, {}, node, label, opts);
      const file = untar(archive, label, "a kubeconfig")[0];
      if (file === undefined) {
        throw new TalosClientError("INTERNAL", `${label} sent an empty kubeconfig archive`, {
          details: { node: label },
        });
      }
      return new TextDecoder().decode(file.content);
    },

    async etcdMemberList(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.etcdMemberList,
        { queryLocal: opts.queryLocal ?? false },
        node,
        opts,
        true,
      );
      return first(res.messages, label, "etcd member list").members.map((m) => ({
        id: m.id,
        hostname: m.hostname,
        peerUrls: [...m.peerUrls],
        clientUrls: [...m.clientUrls],
        isLearner: m.isLearner,
      }));
    },

    async etcdRemoveMemberByID(opts) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(
        MachineService.method.etcdRemoveMemberByID,
        { memberId: opts.memberId },
        node,
        opts,
        false,
      );
      firstIfAny(res.messages, label);
    },

    async etcdLeaveCluster(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.etcdLeaveCluster, {}, node, opts, false);
      firstIfAny(res.messages, label);
    },

    async etcdForfeitLeadership(opts = {}) {
      const { node, label } = await singleNode(opts.node);
      const res = await unary(MachineService.method.etcdForfeitLeadership, {}, node, opts, false);
      return { member: firstIfAny(res.messages, label)?.member ?? "" };
    },

    async etcdStatus(opts = {}) {
      return fanOutFirst(opts, MachineService.method.etcdStatus, {}, "etcd status", (m, label) => {
        const status = m.memberStatus;
        if (status === undefined) throw new TalosClientError("INTERNAL", `${label} returned no etcd status`);
        return status;
      });
    },

    async etcdSnapshot(opts) {
      const { node, label } = await singleNode(opts.node);
      const destination = opts.destination;
      const writer =
        "getWriter" in destination && typeof destination.getWriter === "function"
          ? (destination as WritableStream<Uint8Array>).getWriter()
          : (destination as Writable);
      let bytes = 0;
      try {
        for await (const data of serverStream(MachineService.method.etcdSnapshot, {}, node, opts)) {
          checkMetadata(data.metadata, label);
          bytes += data.bytes.length;
          await writeChunk(writer, data.bytes);
        }
      } finally {
        if ("releaseLock" in writer) writer.releaseLock();
      }
      return { node: label, bytes };
    },

    async etcdRecover(opts) {
      const { node, label } = await singleNode(opts.node);
      const target = await connect(node);
      let bytes = 0;
      const source = opts.source;
      async function* chunks(): AsyncGenerator<{ bytes: Uint8Array }> {
        for await (const chunk of source) {
          // Keep each message well under the 32 MiB limit.
          for (let offset = 0; offset < chunk.length; offset += 4 * 1024 * 1024) {
            const part = chunk.subarray(offset, offset + 4 * 1024 * 1024);
            bytes += part.length;
            yield { bytes: part };
          }
        }
      }
      try {
        const res = await target.transport.clientStream(
          MachineService.method.etcdRecover,
          chunks(),
          callOptions(target.node, opts, false),
        );
        firstIfAny(res.messages, label);
      } catch (error) {
        throw withNode(isTalosClientError(error) ? error : TalosClientError.from(error), label);
      }
      return { node: label, bytes };
    },

    logs(opts) {
      return iterable(async function* () {
        const { node } = await singleNode(opts.node);
        yield* lines(
          serverStream(
            MachineService.method.logs,
            {
              namespace: opts.namespace ?? "system",
              id: opts.id,
              driver: opts.driver === "cri" ? ContainerDriver.CRI : ContainerDriver.CONTAINERD,
              follow: opts.follow ?? false,
              tailLines: opts.tailLines ?? -1,
            },
            node,
            opts,
          ),
        );
      });
    },

    dmesg(opts = {}) {
      return iterable(async function* () {
        const { node } = await singleNode(opts.node);
        yield* lines(
          serverStream(
            MachineService.method.dmesg,
            { follow: opts.follow ?? false, tail: opts.tail ?? false },
            node,
            opts,
          ),
        );
      });
    },

    events(opts = {}) {
      return iterable(async function* () {
        const { node, label } = await singleNode(opts.node);
        for await (const event of serverStream(
          MachineService.method.events,
          {
            tailEvents: opts.tailEvents ?? 0,
            tailId: opts.tailId ?? "",
            tailSeconds: opts.tailSeconds ?? 0,
            withActorId: opts.actorId ?? "",
          },
          node,
          opts,
        )) {
          checkMetadata(event.metadata, label);
          const typeUrl = event.data?.typeUrl ?? "";
          // Talos opens the stream with an empty "hello" event (no payload type): not a machine event.
          if (typeUrl === "") continue;
          const type = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
          let payload: unknown;
          if (event.data !== undefined) {
            const schema = eventRegistry.getMessage(type);
            if (schema !== undefined) {
              payload = anyUnpack({ ...event.data, typeUrl: `type.googleapis.com/${type}` }, schema);
            }
          }
          yield { node: label, id: event.id, actorId: event.actorId, type, payload };
        }
      });
    },

    async processes(opts = {}) {
      return fanOutFirst(opts, MachineService.method.processes, {}, "processes", (m) => m.processes);
    },

    async mounts(opts = {}) {
      return fanOutFirst(opts, MachineService.method.mounts, {}, "mounts", (m) => m.stats);
    },

    async loadAvg(opts = {}) {
      return fanOutFirst(opts, MachineService.method.loadAvg, {}, "load average", (m) => ({
        load1: m.load1,
        load5: m.load5,
        load15: m.load15,
      }));
    },

    async readFile(opts) {
      const { node, label } = await singleNode(opts.node);
      return new Uint8Array(
        await readData(MachineService.method.read, { path: opts.path }, node, label, opts),
      );
    },

    async copy(opts) {
      const { node, label } = await singleNode(opts.node);
      const archive = await readData(
        MachineService.method.copy,
        { rootPath: opts.rootPath },
        node,
        label,
        opts,
      );
      return untar(archive, label, "an archive");
    },

    async listFiles(opts) {
      const { node, label } = await singleNode(opts.node);
      const out: FileInfo[] = [];
      for await (const info of serverStream(
        MachineService.method.list,
        { root: opts.root, recurse: opts.recurse ?? false, recursionDepth: opts.recursionDepth ?? 0 },
        node,
        opts,
      )) {
        checkMetadata(info.metadata, label);
        out.push(info);
      }
      return out;
    },

    async memory(opts = {}) {
      return fanOutFirst(opts, MachineService.method.memory, {}, "memory", (m, label) => {
        const info = m.meminfo;
        if (info === undefined) throw new TalosClientError("INTERNAL", `${label} returned no meminfo`);
        return info;
      });
    },

    async systemStat(opts = {}) {
      return fanOutFirst(opts, MachineService.method.systemStat, {}, "system stat", (m) => m);
    },

    async containers(opts = {}) {
      const request = {
        namespace: opts.namespace ?? (opts.driver === "cri" ? "k8s.io" : "system"),
        driver: opts.driver === "cri" ? ContainerDriver.CRI : ContainerDriver.CONTAINERD,
      };
      return fanOutFirst(opts, MachineService.method.containers, request, "containers", (m) => m.containers);
    },

    async disks(opts = {}) {
      return fanOutFirst(opts, StorageService.method.disks, {}, "disks", (m) => m.disks);
    },

    async time(opts = {}) {
      return fanOut(opts, async (node, label, call) => {
        const res =
          opts.server === undefined
            ? await call(TimeService.method.time, {}, node, opts, true)
            : await call(TimeService.method.timeCheck, { server: opts.server }, node, opts, true);
        const t = first(res.messages, label, "time");
        return { server: t.server, localTime: toDate(t.localtime), remoteTime: toDate(t.remotetime) };
      });
    },

    async generateClientConfiguration(opts) {
      const { node, label } = await singleNode(opts.node);
      if (!(opts.crtTtlMs > 0)) throw new TalosClientError("INVALID_ARGUMENT", "crtTtlMs must be positive");
      const res = await unary(
        MachineService.method.generateClientConfiguration,
        {
          roles: opts.roles,
          crtTtl: {
            seconds: BigInt(Math.floor(opts.crtTtlMs / 1000)),
            nanos: (opts.crtTtlMs % 1000) * 1_000_000,
          },
        },
        node,
        opts,
        false,
      );
      const m = first(res.messages, label, "client configuration");
      const text = (b: Uint8Array): string => new TextDecoder().decode(b);
      return { ca: text(m.ca), crt: text(m.crt), key: text(m.key), talosconfig: text(m.talosconfig) };
    },

    async get<Spec>(opts: ResourceQuery & { id: string }) {
      const { node, label } = await singleNode(opts.node);
      const getAs = (type: string, namespace: string) =>
        unary(State.method.get, { namespace, type, id: opts.id }, node, opts, true);
      // A full type with its namespace is asked for as given (one call); only a miss (another casing,
      // a name that is not a type) reads the node's resource definitions to resolve it.
      let named = { type: opts.type, namespace: opts.namespace ?? "" };
      let res =
        opts.namespace !== undefined && opts.type.includes(".")
          ? await getAs(named.type, named.namespace).catch((error: unknown) => {
              if (isLookupMiss(error)) return undefined;
              throw error;
            })
          : undefined;
      if (res === undefined) {
        named = await resolveType({ ...opts, ...(node === undefined ? {} : { node }) });
        res = await getAs(named.type, named.namespace);
      }
      const { type, namespace } = named;
      const resource = decodeResource(res.resource, label);
      if (resource === undefined) {
        throw new TalosClientError("NOT_FOUND", `${type} ${namespace}/${opts.id} not found`, {
          details: { node: label },
        });
      }
      return resource as TalosResource<Spec>;
    },

    async list<Spec>(opts: ResourceQuery) {
      const { node, label } = await singleNode(opts.node);
      const { type, namespace } = await resolveType({ ...opts, ...(node === undefined ? {} : { node }) });
      const out: TalosResource<Spec>[] = [];
      for await (const item of serverStream(State.method.list, { namespace, type }, node, opts)) {
        const resource = decodeResource(item.resource, label);
        if (resource !== undefined) out.push(resource as TalosResource<Spec>);
      }
      return out;
    },

    watch(opts) {
      return iterable(async function* () {
        const { node, label } = await singleNode(opts.node);
        const { type, namespace } = await resolveType({
          ...opts,
          ...(node === undefined ? {} : { node }),
        });
        // A single-resource watch refuses bootstrap contents (UNIMPLEMENTED) and sends the current
        // state (or a DESTROYED tombstone) first on its own: cosi-project/runtime server.go Watch.
        const request: MessageInitShape<typeof State.method.watch.input> = {
          namespace,
          type,
          apiVersion: 1,
          options: {
            bootstrapContents: opts.id === undefined && (opts.bootstrapContents ?? true),
            tailEvents: opts.tailEvents ?? 0,
          },
        };
        if (opts.id !== undefined) request.id = opts.id;
        for await (const response of serverStream(State.method.watch, request, node, opts)) {
          for (const event of response.event) {
            yield {
              type: EVENT_TYPES[event.eventType] ?? "noop",
              resource: decodeResource(event.resource, label),
              old: decodeResource(event.old, label),
              error: event.error,
            };
          }
        }
      });
    },

    waitForHealthy(opts) {
      return waitForHealth(client, opts);
    },

    call(method, request, opts = {}) {
      return (async () => {
        const { node } = await singleNode(opts.node);
        return unary(method, request, node, opts, opts.idempotent ?? false);
      })();
    },

    stream(method, request, opts = {}) {
      return iterable(async function* () {
        const { node } = await singleNode(opts.node);
        yield* serverStream(method, request, node, opts);
      });
    },

    close() {
      closed = true;
      void resolving?.then(
        (r) => r.close(),
        () => undefined,
      );
    },
  };

  Object.defineProperty(client, inspect.custom, { value: () => "TalosClient {}", enumerable: false });
  Object.defineProperty(client, "toJSON", { value: () => ({}), enumerable: false });
  return client;
}
