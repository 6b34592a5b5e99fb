import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClusterService } from "../../gen/cluster/cluster_pb.js";
import { InspectService } from "../../gen/inspect/inspect_pb.js";
import { ImageService } from "../../gen/machine/image_pb.js";
import { LifecycleService } from "../../gen/machine/lifecycle_pb.js";
import { MachineService } from "../../gen/machine/machine_pb.js";
import { StorageService } from "../../gen/storage/storage_pb.js";
import { TimeService } from "../../gen/time/time_pb.js";
import { State } from "../../gen/v1alpha1/state_pb.js";
import { deserializerFor, methodPath, serializerFor } from "../../internal/rpc.js";
import { certificateOrganizations } from "../pki.js";
import type { CallKind, Identity } from "./chain.js";
import { StatusError } from "./types.js";

/** Every service a node registers (a line without one answers UNIMPLEMENTED from the chain). */
const SERVICES = [
  MachineService,
  ImageService,
  LifecycleService,
  StorageService,
  TimeService,
  ClusterService,
  InspectService,
  State,
] as DescService[];

/** A call as it arrives off the wire, before the middleware chain. */
export interface IncomingCall {
  method: DescMethod;
  path: string;
  kind: CallKind;
  request: unknown;
  metadata: grpc.Metadata;
  identity: Identity;
  signal: AbortSignal;
}

/** Runs a call through the chain; unary and client-streaming calls yield one message. */
export type Dispatch = (call: IncomingCall) => AsyncIterable<unknown>;

/**
 * A node's network side: one TCP port on 127.0.0.1 that hands each connection to the TLS server of
 * the moment (server-only TLS in maintenance, mutual TLS once configured, none while down), and a
 * grpc-js server behind both that turns every call into an {@link IncomingCall}.
 */
export class NodeListener {
  readonly sockets: Set<Socket> = new Set();
  maintenanceTls: TlsServer | undefined;
  mtlsTls: TlsServer | undefined;
  private readonly net: NetServer;
  private readonly grpcServer: grpc.Server;
  private readonly injector: ReturnType<grpc.Server["createConnectionInjector"]>;

  constructor(currentTls: () => TlsServer | undefined, dispatch: Dispatch) {
    this.grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": 32 * 1024 * 1024,
      "grpc.max_send_message_length": 32 * 1024 * 1024,
    });
    for (const service of SERVICES) addService(this.grpcServer, service, dispatch);
    this.injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.net = createNetServer((socket) => {
      socket.on("error", () => undefined);
      const tls = currentTls();
      if (tls === undefined) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      tls.emit("connection", socket);
    });
  }

  /** Listens on an ephemeral port; resolves `127.0.0.1:PORT`. */
  listen(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.net.once("error", reject);
      this.net.listen(0, "127.0.0.1", () => {
        const address = this.net.address();
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(`127.0.0.1:${address.port}`);
      });
    });
  }

  setMaintenanceIdentity(identity: { cert: string; key: string; chain?: string }): void {
    this.maintenanceTls = this.tlsServer(identity, undefined);
  }

  /** Mutual TLS with the OS CA (`undefined` drops it: a configured node without identity refuses connections). */
  setMutualIdentity(identity: { cert: string; key: string } | undefined, clientCa?: string): void {
    this.mtlsTls?.close();
    this.mtlsTls = identity === undefined ? undefined : this.tlsServer(identity, clientCa);
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    this.grpcServer.forceShutdown();
    this.maintenanceTls?.close();
    this.mtlsTls?.close();
    await new Promise<void>((resolve) => this.net.close(() => resolve()));
  }

  private tlsServer(
    identity: { cert: string; key: string; chain?: string },
    clientCa: string | undefined,
  ): TlsServer {
    const key = identity.key.replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY");
    const server = createTlsServer({
      cert: identity.chain === undefined ? identity.cert : `${identity.cert}${identity.chain}`,
      key,
      ALPNProtocols: ["h2"],
      minVersion: "TLSv1.2",
      ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }),
    });
    server.on("secureConnection", (socket: TLSSocket) => {
      socket.on("error", () => undefined);
      this.injector.injectConnection(socket);
    });
    server.on("tlsClientError", () => undefined);
    return server;
  }
}

function addService(server: grpc.Server, service: DescService, dispatch: Dispatch): void {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const path = methodPath(method);
    definition[method.localName] = {
      path,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializerFor(method.input) as (value: unknown) => Buffer,
      requestDeserialize: deserializerFor(method.input),
      responseSerialize: serializerFor(method.output) as (value: unknown) => Buffer,
      responseDeserialize: deserializerFor(method.output),
      originalName: method.localName,
    };
    implementation[method.localName] = grpcHandler(method, path, dispatch);
  }
  server.addService(definition as grpc.ServiceDefinition, implementation);
}

/** The client certificate's organizations are its roles; no certificate means maintenance. */
function identity(call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } }): Identity {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  if (raw === undefined) return { roles: ["os:reader"], maintenance: true };
  return { roles: certificateOrganizations(raw), maintenance: false };
}

function fail(error: unknown): grpc.ServiceError {
  const e = error instanceof StatusError ? error : new StatusError(grpc.status.INTERNAL, String(error));
  return Object.assign(new Error(e.message), {
    code: e.code,
    details: e.message,
    metadata: new grpc.Metadata(),
  });
}

/** Drains a unary or client-streaming dispatch (so the call is logged before the reply) and keeps its answer. */
async function single(messages: AsyncIterable<unknown>): Promise<unknown> {
  let last: unknown;
  for await (const message of messages) last = message;
  return last;
}

function grpcHandler(method: DescMethod, path: string, dispatch: Dispatch): grpc.UntypedHandleCall {
  const incoming = (
    kind: CallKind,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>,
    request: unknown,
    signal: AbortSignal,
  ): IncomingCall => ({
    method,
    path,
    kind,
    request,
    metadata: call.metadata,
    identity: identity(call),
    signal,
  });
  switch (method.methodKind) {
    case "unary":
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const controller = new AbortController();
        call.on("cancelled", () => controller.abort());
        single(dispatch(incoming("unary", call, call.request, controller.signal))).then(
          (response) => callback(null, response),
          (error: unknown) => callback(fail(error)),
        );
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const controller = new AbortController();
        call.on("cancelled", () => controller.abort());
        (async () => {
          for await (const message of dispatch(incoming("server", call, call.request, controller.signal))) {
            if (controller.signal.aborted) return;
            if (!call.write(message)) {
              await new Promise<void>((resolve) => {
                const done = (): void => {
                  call.off("drain", done);
                  controller.signal.removeEventListener("abort", done);
                  resolve();
                };
                call.once("drain", done);
                controller.signal.addEventListener("abort", done, { once: true });
              });
            }
          }
          if (!controller.signal.aborted) call.end();
        })().catch((error: unknown) => {
          if (!controller.signal.aborted) call.emit("error", fail(error));
        });
      };
    case "client_streaming":
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const controller = new AbortController();
        call.on("cancelled", () => controller.abort());
        single(dispatch(incoming("client", call, call, controller.signal))).then(
          (response) => callback(null, response),
          (error: unknown) => callback(fail(error)),
        );
      };
    default:
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        call.destroy(fail(new StatusError(grpc.status.UNIMPLEMENTED, `method ${path} not implemented`)));
      };
  }
}
