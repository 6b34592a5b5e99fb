import type { DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { rolesFor, SEPARATE_MAINTENANCE } from "../talos-lines.js";
import type { IncomingCall } from "./listener.js";
import type { Route } from "./route.js";
import { ROUTES } from "./routes.js";
import type { NodeImpl } from "./store.js";
import { type EmulatorFault, StatusError } from "./types.js";
import { sleep } from "./util.js";

/** Unary, server-streaming or client-streaming. */
export type CallKind = Route["kind"];

/** Who is calling: the client certificate's roles, or maintenance (no client certificate). */
export interface Identity {
  roles: string[];
  maintenance: boolean;
}

/** A call on its way through the chain. Steps fill in `target` (routing) and `code`/`dropAfter`. */
export interface CallContext extends IncomingCall {
  /** The node whose endpoint received the call. */
  readonly endpoint: NodeImpl;
  /** The node that handles it: the endpoint, or the peer apid proxies to. */
  target: NodeImpl;
  /** Server streams: the status a step ended the stream with without throwing (a dropped stream). */
  code?: grpc.status;
  /** Server streams: drop the connection after this many messages (an injected fault). */
  dropAfter?: number;
}

type Next = (ctx: CallContext) => AsyncIterable<unknown>;
/** One step of the chain: does its part, then hands on to `next` (or answers itself). */
export type Middleware = (ctx: CallContext, next: Next) => AsyncIterable<unknown>;

function statusOf(error: unknown): grpc.status {
  return error instanceof StatusError ? error.code : grpc.status.INTERNAL;
}

/**
 * Legacy one-to-many proxying: a unary call with `nodes` and no `node` metadata on a configured node
 * runs once per target and merges the replies, a failed target as a message with `metadata.error`
 * (talos internal/app/apid/pkg/director/director.go `nodes`; internal/app/apid/pkg/backend/apid.go
 * AppendInfo, BuildError). Each target's call is logged; the fan-out is not.
 */
async function* fanOut(ctx: CallContext, next: Next): AsyncGenerator<unknown> {
  const nodes = ctx.metadata
    .get("nodes")
    .flatMap((v) => String(v).split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (
    ctx.kind !== "unary" ||
    nodes.length === 0 ||
    ctx.metadata.get("node").length > 0 ||
    ctx.identity.maintenance ||
    ctx.endpoint.config === undefined
  ) {
    yield* next(ctx);
    return;
  }
  const route = ROUTES.get(ctx.path);
  if (route === undefined || route.kind !== "unary" || ctx.path.startsWith("/cosi.")) {
    throw new StatusError(
      grpc.status.INVALID_ARGUMENT,
      "one-to-many proxying is not supported for this method",
    );
  }
  const listField = route.method.output.fields.find((f) => f.localName === "messages");
  const element =
    listField?.fieldKind === "list" && listField.listKind === "message" ? listField.message : undefined;
  if (element === undefined) throw new StatusError(grpc.status.INVALID_ARGUMENT, "not a fan-out method");
  const messages: unknown[] = [];
  for (const target of nodes) {
    const metadata = new grpc.Metadata();
    metadata.set("node", target);
    try {
      let response: { messages?: Record<string, unknown>[] } | undefined;
      for await (const message of next({ ...ctx, metadata, target: ctx.endpoint })) {
        response = message as typeof response;
      }
      for (const message of response?.messages ?? []) {
        messages.push({ ...message, metadata: { hostname: target } });
      }
    } catch (error) {
      const e = error instanceof StatusError ? error : new StatusError(grpc.status.INTERNAL, String(error));
      messages.push(
        create(element, {
          metadata: { hostname: target, error: e.message, status: { code: e.code, message: e.message } },
        } as MessageInitShape<typeof element>),
      );
    }
  }
  yield { messages };
}

/** Appends the outcome to the fleet's call log (a server stream the client left counts as CANCELLED). */
async function* log(ctx: CallContext, next: Next): AsyncGenerator<unknown> {
  let code: grpc.status = grpc.status.OK;
  try {
    yield* next(ctx);
    code = ctx.code ?? grpc.status.OK;
  } catch (error) {
    code = statusOf(error);
    throw error;
  } finally {
    if (ctx.kind === "server" && ctx.signal.aborted && code === grpc.status.OK) code = grpc.status.CANCELLED;
    ctx.endpoint.fleet.callLog.push({
      time: Date.now(),
      endpoint: ctx.endpoint.name,
      node: ctx.target.name,
      method: ctx.path,
      code,
      proxied: ctx.target !== ctx.endpoint,
      roles: ctx.identity.roles,
    });
  }
}

/**
 * apid's director. In maintenance there is no routing at all: ≤1.12 serves maintenance from a plain
 * gRPC server without a router (talos v1.12.11 internal/app/maintenance/server.go), ≥1.13 runs apid
 * with `skipRouting` (talos v1.13.9 internal/app/apid/pkg/director/director.go), so `node` is ignored
 * and the endpoint itself answers. Then the method must have a route.
 */
async function* director(ctx: CallContext, next: Next): AsyncGenerator<unknown> {
  const { endpoint, metadata } = ctx;
  if (
    ctx.kind === "server" &&
    metadata.get("nodes").length > 0 &&
    ctx.path.startsWith("/cosi.") &&
    endpoint.config !== undefined
  ) {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "one-to-many proxying is not supported for COSI");
  }
  ctx.target = route(endpoint, metadata, ctx.identity.maintenance);
  const handler = ROUTES.get(ctx.path);
  if (handler === undefined || handler.kind !== ctx.kind) {
    throw new StatusError(grpc.status.UNIMPLEMENTED, `method ${ctx.path} not implemented`);
  }
  yield* next(ctx);
}

function route(node: NodeImpl, metadata: grpc.Metadata, maintenance: boolean): NodeImpl {
  if (maintenance || node.config === undefined) return node;
  const targets = metadata.get("node").map(String);
  // talos internal/app/apid/pkg/director/director.go
  if (targets.length > 1)
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "node metadata must be single-valued");
  const target = targets[0];
  if (target === undefined || target === node.address || target === node.name) return node;
  if (node.config?.type === "worker") {
    throw new StatusError(grpc.status.PERMISSION_DENIED, "no request forwarding");
  }
  const peer = node.fleet.find(target);
  if (peer === undefined) {
    throw new StatusError(
      grpc.status.UNAVAILABLE,
      `connection error: desc = "transport: Error while dialing: dial tcp ${target}:50000: connect: no route to host"`,
    );
  }
  if (peer.currentTls() === undefined) {
    throw new StatusError(
      grpc.status.UNAVAILABLE,
      `connection error: desc = "transport: Error while dialing: dial tcp ${target}:50000: connect: connection refused"`,
    );
  }
  // apid dials the peer with its own client certificate: a peer of another cluster (or still in
  // maintenance) fails that handshake, and apid reports it as the call's status (grpc-go wording).
  if (peer.config === undefined || peer.config.ca.crt.trim() !== node.config.ca.crt.trim()) {
    throw new StatusError(
      grpc.status.UNAVAILABLE,
      'connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"',
    );
  }
  return peer;
}

/** Injected faults of the handling node: latency, UNAVAILABLE for the next N calls, dropped streams. */
async function* faults(ctx: CallContext, next: Next): AsyncGenerator<unknown> {
  const { target, path, signal } = ctx;
  const short = path.slice(path.lastIndexOf("/") + 1);
  const matching = target.fleet.faults.filter(
    (f: EmulatorFault & { remaining?: number }) =>
      (f.node === undefined || f.node === target.name || f.node === target.address) &&
      (f.methods === undefined || f.methods.includes(path) || f.methods.includes(short)),
  );
  let dropAfter: number | undefined;
  for (const fault of matching) {
    if (fault.latencyMs !== undefined) await sleep(fault.latencyMs, signal);
    if (fault.unavailable !== undefined) {
      fault.remaining ??= fault.unavailable;
      if (fault.remaining > 0) {
        fault.remaining -= 1;
        throw new StatusError(grpc.status.UNAVAILABLE, "injected fault: service unavailable");
      }
    }
    if (fault.dropStreamAfter !== undefined) dropAfter = fault.dropStreamAfter;
  }
  if (ctx.kind !== "server" || dropAfter === undefined) {
    yield* next(ctx);
    return;
  }
  let sent = 0;
  for await (const message of next(ctx)) {
    if (sent >= dropAfter) {
      ctx.code = grpc.status.UNAVAILABLE;
      ctx.endpoint.dropConnections();
      if (target !== ctx.endpoint) {
        throw new StatusError(grpc.status.UNAVAILABLE, "connection to the backend was lost");
      }
      return;
    }
    yield message;
    sent++;
  }
}

/**
 * The node must be up (and stay up while it streams), then what a node lets through before the
 * handler: the services of its line, the maintenance allow-list of its line, then the role table
 * (talos-lines.ts cites the upstream files).
 */
async function* auth(ctx: CallContext, next: Next): AsyncGenerator<unknown> {
  const { target, signal } = ctx;
  target.assertAlive();
  authorize(target, ctx.method, ctx.path, ctx.identity);
  if (ctx.kind !== "server") {
    yield* next(ctx);
    return;
  }
  for await (const message of next(ctx)) {
    if (signal.aborted) return;
    target.assertAlive();
    yield message;
  }
}

function authorize(node: NodeImpl, method: DescMethod, path: string, id: Identity): void {
  const service = method.parent.typeName;
  const line = node.line();
  if (
    (service === "machine.ImageService" || service === "machine.LifecycleService") &&
    !line.extraServices.includes(service)
  ) {
    throw new StatusError(grpc.status.UNIMPLEMENTED, `unknown service ${service}`);
  }
  const maintenance = id.maintenance || node.config === undefined;
  if (maintenance && line.maintenance === "separate-server") {
    const m = SEPARATE_MAINTENANCE;
    if (!(m.services as readonly string[]).includes(service)) {
      throw new StatusError(grpc.status.UNIMPLEMENTED, `unknown service ${service}`);
    }
    if (service !== "machine.MachineService") return;
    if ((m.machineMethods as readonly string[]).includes(method.name)) return;
    if ((m.adminOnlyMachineMethods as readonly string[]).includes(method.name)) {
      if (id.roles.includes("os:admin")) return;
      throw new StatusError(grpc.status.UNIMPLEMENTED, "API is not implemented in maintenance mode");
    }
    if ((m.refusedMachineMethods as readonly string[]).includes(method.name)) {
      throw new StatusError(
        grpc.status.UNIMPLEMENTED,
        "client configuration (talosconfig) can't be generated in the maintenance mode",
      );
    }
    throw new StatusError(grpc.status.UNIMPLEMENTED, `method ${method.name} not implemented`);
  }
  // ≥1.13 maintenance injects os:reader; the role table decides (talos pkg/grpc/middleware/authz).
  const roles = maintenance ? ["os:reader"] : id.roles;
  const allowed = rolesFor(path);
  if (!roles.some((r) => allowed.includes(r))) {
    throw new StatusError(grpc.status.PERMISSION_DENIED, "not authorized");
  }
}

/** The route's handler on the node the call landed on. */
async function* handle(ctx: CallContext): AsyncGenerator<unknown> {
  const route = ROUTES.get(ctx.path)!;
  const handlerContext = { ...ctx.identity, signal: ctx.signal, node: ctx.target };
  switch (route.kind) {
    case "unary":
      yield await route.fn(ctx.request, handlerContext);
      return;
    case "client":
      yield await route.fn(ctx.request as AsyncIterable<unknown>, handlerContext);
      return;
    case "server":
      yield* route.fn(ctx.request, handlerContext);
  }
}

/** The one chain every call of every route goes through, in order. */
export const CHAIN: readonly Middleware[] = [fanOut, log, director, faults, auth];

/** Runs a call that arrived at `endpoint` through {@link CHAIN} and its handler. */
export function dispatch(endpoint: NodeImpl, call: IncomingCall): AsyncIterable<unknown> {
  const run = CHAIN.reduceRight<Next>((next, step) => (ctx) => step(ctx, next), handle);
  return run({ ...call, endpoint, target: endpoint });
}
