import { randomBytes, X509Certificate } from "node:crypto";
import { createServer as createNetServer, isIP, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import { inspect } from "node:util";
import type {
  DescMessage,
  DescMethod,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { parseAllDocuments, stringify } from "yaml";
import { ClusterService } from "../gen/cluster/cluster_pb.js";
import { InspectService } from "../gen/inspect/inspect_pb.js";
import { ImageService } from "../gen/machine/image_pb.js";
import { LifecycleService } from "../gen/machine/lifecycle_pb.js";
import {
  ApplyConfigurationRequest_Mode,
  MachineService,
  MachineStatusEvent_MachineStage,
  MachineStatusEventSchema,
  SequenceEvent_Action,
  SequenceEventSchema,
  ServiceStateEvent_Action,
  ServiceStateEventSchema,
} from "../gen/machine/machine_pb.js";
import { MachineConfigSpecSchema } from "../gen/resource/config/config_pb.js";
import { Disk_DiskType, StorageService } from "../gen/storage/storage_pb.js";
import { TimeService } from "../gen/time/time_pb.js";
import { ResourceDefinitionSpec_Sensitivity, ResourceDefinitionSpecSchema } from "../gen/v1alpha1/meta_pb.js";
import type { Resource } from "../gen/v1alpha1/resource_pb.js";
import { ResourceSchema } from "../gen/v1alpha1/resource_pb.js";
import { EventType, State } from "../gen/v1alpha1/state_pb.js";
import { decodePemValue, spkiFingerprint } from "../internal/pem.js";
import { deserializerFor, methodPath, serializerFor } from "../internal/rpc.js";
import { packTarGz } from "../internal/tar.js";
import type { CertificateAndKey } from "./pki.js";
import { buildTalosconfig, certificateOrganizations, generateTalosCa, issueCertificate } from "./pki.js";
import {
  type ApplyModeName,
  CONTROL_PLANE_ONLY,
  rolesFor,
  SEPARATE_MAINTENANCE,
  type TalosLineBehaviour,
  talosLine,
} from "./talos-lines.js";

/** Lifecycle state of an emulated node. */
export type EmulatedNodeState =
  | "maintenance"
  | "booting"
  | "running"
  | "rebooting"
  | "upgrading"
  | "resetting"
  | "halted"
  | "down";

/** One node of the fleet. */
export interface EmulatorNodeSpec {
  name: string;
  /** The node's address as targets name it (`node` metadata), e.g. `10.0.0.2`. */
  address: string;
  /** Talos version tag; default `v1.13.9`. */
  talosVersion?: string;
}

/** A fault to inject; applies to calls handled by the matching node(s). */
export interface EmulatorFault {
  /** Node name or address; default every node. */
  node?: string;
  /** Only these methods (`Version` or `/machine.MachineService/Version`); default all. */
  methods?: string[];
  /** Added latency per call. */
  latencyMs?: number;
  /** The next N matching calls fail with UNAVAILABLE. */
  unavailable?: number;
  /** Server streams: drop the connection after this many messages. */
  dropStreamAfter?: number;
}

/** Context handed to the kubeconfig hook. */
export interface KubeconfigContext {
  node: string;
  address: string;
  clusterName: string;
  endpoint: string;
}

/** Options of {@link createTalosEmulator}. */
export interface TalosEmulatorOptions {
  nodes: EmulatorNodeSpec[];
  /** Supplies the kubeconfig the nodes stream (plug a Kubernetes emulator in here). */
  kubeconfig?: (context: KubeconfigContext) => string | Promise<string>;
  faults?: EmulatorFault[];
  /** Delay between an applied config and services running; default 0. */
  bootDelayMs?: number;
  /** Duration of a reboot/upgrade; default and minimum 60 ms. */
  rebootDelayMs?: number;
  /** Interval of followed log/dmesg lines; default 50 ms. */
  followIntervalMs?: number;
  /** Size of the etcd snapshot a node streams; default 1 MiB. */
  etcdSnapshotBytes?: number;
  /** Size of each etcd snapshot message; default 1 MiB (Talos accepts up to 32 MiB messages). */
  etcdSnapshotChunkBytes?: number;
}

/** One handled call, for assertions. */
export interface EmulatorCallLogEntry {
  time: number;
  /** The node whose endpoint received the call. */
  endpoint: string;
  /** The node that handled it (differs from `endpoint` when proxied). */
  node: string;
  method: string;
  /** gRPC status code (0 = OK). */
  code: number;
  proxied: boolean;
  /** The client certificate's roles (or `os:reader` in maintenance). */
  roles: string[];
}

/** A node of a running emulator. */
export interface EmulatedNode {
  readonly name: string;
  readonly address: string;
  /** `127.0.0.1:PORT` of this node's API. */
  readonly endpoint: string;
  /** base64 sha256 SPKI of the maintenance-mode server certificate (for pinning). */
  readonly maintenanceSpki: string;
  state(): EmulatedNodeState;
  role(): "controlplane" | "worker" | undefined;
  talosVersion(): string;
  hostname(): string;
  /** The applied machine config YAML (secret material: tests only). */
  appliedConfig(): string | undefined;
  /** Stops answering (connections refused, proxied calls UNAVAILABLE), like a node losing power. */
  stop(): void;
  /** Answers again. */
  start(): void;
  /** Overrides one service's state and health. */
  setService(id: string, state: string, healthy: boolean): void;
  /** The mode of the last Reboot call as this node's Talos line understood it (1.11 takes FORCE for DEFAULT). */
  lastRebootMode(): "default" | "powercycle" | "force" | undefined;
  /** Raises (message) or clears (undefined) a `Diagnostics.runtime.talos.dev` warning, as `talosctl health` reads them. */
  setDiagnostic(id: string, message: string | undefined): void;
}

/** An in-process Talos fleet. */
export interface TalosEmulator {
  readonly nodes: EmulatedNode[];
  node(nameOrAddress: string): EmulatedNode;
  readonly callLog: EmulatorCallLogEntry[];
  faults(fault: EmulatorFault | EmulatorFault[]): void;
  clearFaults(): void;
  isBootstrapped(): boolean;
  /** Admin talosconfig for the fleet (requires a config to have been applied). */
  talosconfig(options?: { endpoints?: string[]; roles?: string[] }): Promise<string>;
  close(): Promise<void>;
}

class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

interface HandlerContext {
  roles: string[];
  maintenance: boolean;
  signal: AbortSignal;
  node: NodeImpl;
}

type UnaryFn = (request: unknown, ctx: HandlerContext) => Promise<unknown>;
type StreamFn = (request: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
type ClientStreamFn = (requests: AsyncIterable<unknown>, ctx: HandlerContext) => Promise<unknown>;
type Handler =
  | { kind: "unary"; fn: UnaryFn; method: DescMethod }
  | { kind: "server"; fn: StreamFn; method: DescMethod }
  | { kind: "client"; fn: ClientStreamFn; method: DescMethod };

interface ParsedConfig {
  raw: string;
  type: "controlplane" | "worker" | "init";
  ca: CertificateAndKey;
  clusterName: string;
  endpoint: string;
  hostname: string | undefined;
  /** ExtensionServiceConfig documents: they become `ext-<name>` services. */
  extensions: { name: string; environment: string[]; configFiles: string[] }[];
}

interface ServiceState {
  state: string;
  healthy: boolean;
  unknown: boolean;
  events: { msg: string; state: string; ts: Date }[];
}

interface StoredEvent {
  id: string;
  actorId: string;
  typeName: string;
  value: Uint8Array;
}

interface ResourceDef {
  type: string;
  namespace: string;
  display: string;
  aliases: string[];
  sensitive?: boolean;
}

const DEFINITIONS: ResourceDef[] = [
  {
    type: "MachineStatuses.runtime.talos.dev",
    namespace: "runtime",
    display: "MachineStatus",
    aliases: ["machinestatus", "machinestatuses", "ms"],
  },
  {
    type: "Members.cluster.talos.dev",
    namespace: "cluster",
    display: "Member",
    aliases: ["member", "members"],
  },
  {
    type: "LinkStatuses.net.talos.dev",
    namespace: "network",
    display: "LinkStatus",
    aliases: ["link", "links", "linkstatus", "linkstatuses"],
  },
  {
    type: "NodeAddresses.net.talos.dev",
    namespace: "network",
    display: "NodeAddress",
    aliases: ["nodeaddress", "nodeaddresses"],
  },
  {
    type: "HostnameStatuses.net.talos.dev",
    namespace: "network",
    display: "HostnameStatus",
    aliases: ["hostname", "hostnames", "hostnamestatus"],
  },
  { type: "Disks.block.talos.dev", namespace: "runtime", display: "Disk", aliases: ["disk", "disks"] },
  {
    // Shares the abbreviation "ms" with MachineStatus: an ambiguous alias.
    type: "MountStatuses.runtime.talos.dev",
    namespace: "runtime",
    display: "MountStatus",
    aliases: ["mountstatus", "mountstatuses", "ms"],
  },
  {
    type: "Versions.runtime.talos.dev",
    namespace: "runtime",
    display: "Version",
    aliases: ["version", "versions"],
  },
  {
    type: "Services.v1alpha1.talos.dev",
    namespace: "runtime",
    display: "Service",
    aliases: ["service", "services", "svc"],
  },
  {
    type: "ExtensionServiceConfigs.runtime.talos.dev",
    namespace: "runtime",
    display: "ExtensionServiceConfig",
    aliases: ["extensionserviceconfig", "extensionserviceconfigs"],
  },
  {
    type: "EtcdMembers.etcd.talos.dev",
    namespace: "etcd",
    display: "EtcdMember",
    aliases: ["etcdmember", "etcdmembers"],
  },
  {
    type: "MachineConfigs.config.talos.dev",
    namespace: "config",
    display: "MachineConfig",
    aliases: ["machineconfig", "machineconfigs", "mc"],
    sensitive: true,
  },
  {
    type: "StaticPodStatuses.kubernetes.talos.dev",
    namespace: "k8s",
    display: "StaticPodStatus",
    aliases: ["staticpodstatus", "staticpodstatuses"],
  },
  {
    type: "Diagnostics.runtime.talos.dev",
    namespace: "runtime",
    display: "Diagnostic",
    aliases: ["diagnostic", "diagnostics"],
  },
  {
    type: "ResourceDefinitions.meta.cosi.dev",
    namespace: "meta",
    display: "ResourceDefinition",
    aliases: ["resourcedefinition", "resourcedefinitions", "rd", "rds"],
  },
];

function b64Pem(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, `${field} is missing from the machine config`);
  }
  try {
    return decodePemValue(value);
  } catch {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, `${field} is not base64 PEM`);
  }
}

function parseMachineConfig(raw: string): ParsedConfig {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(raw).map((d) => {
      if (d.errors.length > 0) throw d.errors[0];
      return d.toJS() as unknown;
    });
  } catch (error) {
    throw new StatusError(
      grpc.status.INVALID_ARGUMENT,
      `failed to parse config: invalid YAML at line ${(error as { linePos?: { line: number }[] }).linePos?.[0]?.line ?? "?"}`,
    );
  }
  const objects = docs.filter((d): d is Record<string, unknown> => d !== null && typeof d === "object");
  const v1 = objects.find((d) => d.version === "v1alpha1");
  if (v1 === undefined) {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "the machine config has no v1alpha1 document");
  }
  const machine = (v1.machine ?? {}) as Record<string, unknown>;
  const cluster = (v1.cluster ?? {}) as Record<string, unknown>;
  const type = machine.type;
  if (type !== "controlplane" && type !== "worker" && type !== "init") {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, `unknown machine type ${JSON.stringify(type)}`);
  }
  const caNode = (machine.ca ?? {}) as Record<string, unknown>;
  // Workers carry only the CA certificate; their apid certificate comes from trustd on a control plane.
  const hasKey = typeof caNode.key === "string" && caNode.key !== "";
  if (!hasKey && type !== "worker") {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "machine.ca.key is missing from the machine config");
  }
  const ca = {
    crt: b64Pem(caNode.crt, "machine.ca.crt"),
    key: hasKey ? b64Pem(caNode.key, "machine.ca.key") : "",
  };
  try {
    new X509Certificate(ca.crt);
  } catch {
    throw new StatusError(grpc.status.INVALID_ARGUMENT, "machine.ca.crt is not a certificate");
  }
  const hostnameDoc = objects.find((d) => d.kind === "HostnameConfig");
  const network = (machine.network ?? {}) as Record<string, unknown>;
  const hostname =
    typeof hostnameDoc?.hostname === "string"
      ? hostnameDoc.hostname
      : typeof network.hostname === "string"
        ? network.hostname
        : undefined;
  const controlPlane = (cluster.controlPlane ?? {}) as Record<string, unknown>;
  // 1.14+ configs carry the cluster identity in a KubeClusterConfig document instead.
  const kubeCluster = objects.find((d) => d.kind === "KubeClusterConfig") ?? {};
  const extensions = objects
    .filter((d) => d.kind === "ExtensionServiceConfig" && typeof d.name === "string")
    .map((d) => ({
      name: d.name as string,
      environment: Array.isArray(d.environment) ? d.environment.map((e) => String(e)) : [],
      configFiles: Array.isArray(d.configFiles)
        ? d.configFiles.map((f) => String((f as Record<string, unknown>)?.mountPath ?? ""))
        : [],
    }));
  return {
    raw,
    type,
    ca,
    clusterName:
      typeof cluster.clusterName === "string"
        ? cluster.clusterName
        : typeof kubeCluster.clusterName === "string"
          ? kubeCluster.clusterName
          : "talos",
    endpoint:
      typeof controlPlane.endpoint === "string"
        ? controlPlane.endpoint
        : typeof kubeCluster.endpoint === "string"
          ? kubeCluster.endpoint
          : "https://127.0.0.1:6443",
    hostname,
    extensions,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function randomId(): bigint {
  return randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
}

function defaultKubeconfig(ctx: KubeconfigContext): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: ctx.clusterName,
        cluster: { server: ctx.endpoint, "certificate-authority-data": "ZW11bGF0ZWQ=" },
      },
    ],
    users: [
      {
        name: `admin@${ctx.clusterName}`,
        user: { "client-certificate-data": "ZW11bGF0ZWQ=", "client-key-data": "ZW11bGF0ZWQ=" },
      },
    ],
    contexts: [
      {
        name: `admin@${ctx.clusterName}`,
        context: { cluster: ctx.clusterName, user: `admin@${ctx.clusterName}`, namespace: "default" },
      },
    ],
    "current-context": `admin@${ctx.clusterName}`,
  });
}

interface Fleet {
  options: TalosEmulatorOptions;
  nodes: NodeImpl[];
  callLog: EmulatorCallLogEntry[];
  faults: (EmulatorFault & { remaining?: number })[];
  bootstrapped: boolean;
  etcdMembers: Map<string, { id: bigint; hostname: string; address: string }>;
  find(target: string): NodeImpl | undefined;
  onClusterChange(): void;
  caKeyFor(crt: string): string | undefined;
  signerAvailable(crt: string): Promise<void>;
}

class NodeImpl implements EmulatedNode {
  readonly name: string;
  readonly address: string;
  endpoint = "";
  maintenanceSpki = "";
  version: string;
  pendingVersion: string | undefined;
  stagedConfig: ParsedConfig | undefined;
  currentState: EmulatedNodeState = "maintenance";
  config: ParsedConfig | undefined;
  services = new Map<string, ServiceState>();
  events: StoredEvent[] = [];
  eventWaiters = new Set<() => void>();
  resources = new Map<string, Resource>();
  resourceWatchers = new Set<(type: EventType, resource: Resource, old: Resource | undefined) => void>();
  applying = false;
  sockets = new Set<Socket>();
  net: NetServer;
  maintenanceTls: TlsServer | undefined;
  mtlsTls: TlsServer | undefined;
  grpcServer: grpc.Server;
  injector: ReturnType<grpc.Server["createConnectionInjector"]>;
  actorCounter = 0;
  rebootMode: "default" | "powercycle" | "force" | undefined;
  resourceVersion = 1;
  timers = new Set<NodeJS.Timeout>();

  constructor(
    spec: EmulatorNodeSpec,
    readonly fleet: Fleet,
    handlers: Map<string, Handler>,
  ) {
    this.name = spec.name;
    this.address = spec.address;
    const version = spec.talosVersion ?? "v1.13.9";
    this.version = version.startsWith("v") ? version : `v${version}`;
    this.grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": 32 * 1024 * 1024,
      "grpc.max_send_message_length": 32 * 1024 * 1024,
    });
    for (const service of [
      MachineService,
      ImageService,
      LifecycleService,
      StorageService,
      TimeService,
      ClusterService,
      InspectService,
      State,
    ] as DescService[]) {
      this.addService(service, handlers);
    }
    this.injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.net = createNetServer((socket) => {
      socket.on("error", () => undefined);
      const tls = this.currentTls();
      if (tls === undefined) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      tls.emit("connection", socket);
    });
  }

  currentTls(): TlsServer | undefined {
    if (this.currentState === "down" || this.currentState === "halted" || this.currentState === "rebooting") {
      return undefined;
    }
    if (this.currentState === "upgrading") return undefined;
    // A configured node without its identity yet (a worker waiting for trustd) refuses connections.
    return this.config === undefined ? this.maintenanceTls : this.mtlsTls;
  }

  async init(): Promise<void> {
    const maintenanceCa = await generateTalosCa({ organization: "maintenance" });
    const cert = await issueCertificate({
      ca: maintenanceCa,
      usage: "server",
      commonName: "maintenance-service.talos.dev",
      ipAddresses: ["127.0.0.1", ...(isIP(this.address) ? [this.address] : [])],
      dnsNames: ["localhost", ...(isIP(this.address) ? [] : [this.address])],
    });
    this.maintenanceSpki = spkiFingerprint(cert.crt);
    this.maintenanceTls = this.tlsServer(
      { cert: cert.crt, key: cert.key, chain: maintenanceCa.crt },
      undefined,
    );
    await new Promise<void>((resolve, reject) => {
      this.net.once("error", reject);
      this.net.listen(0, "127.0.0.1", () => {
        const address = this.net.address();
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else {
          this.endpoint = `127.0.0.1:${address.port}`;
          resolve();
        }
      });
    });
    this.seedResources();
  }

  tlsServer(
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

  addService(service: DescService, handlers: Map<string, Handler>): void {
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
      implementation[method.localName] = this.grpcHandler(method, path, handlers);
    }
    this.grpcServer.addService(definition as grpc.ServiceDefinition, implementation);
  }

  grpcHandler(method: DescMethod, path: string, handlers: Map<string, Handler>): grpc.UntypedHandleCall {
    const identity = (call: {
      getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } };
    }): { roles: string[]; maintenance: boolean } => {
      const auth = call.getAuthContext();
      const raw = auth.sslPeerCertificate?.raw;
      if (raw === undefined) return { roles: ["os:reader"], maintenance: true };
      return { roles: certificateOrganizations(raw), maintenance: false };
    };
    const fail = (error: unknown): grpc.ServiceError => {
      const e = error instanceof StatusError ? error : new StatusError(grpc.status.INTERNAL, String(error));
      return Object.assign(new Error(e.message), {
        code: e.code,
        details: e.message,
        metadata: new grpc.Metadata(),
      });
    };
    switch (method.methodKind) {
      case "unary":
        return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          const controller = new AbortController();
          call.on("cancelled", () => controller.abort());
          this.dispatchUnary(
            path,
            handlers,
            call.request,
            call.metadata,
            identity(call),
            controller.signal,
          ).then(
            (response) => callback(null, response),
            (error: unknown) => callback(fail(error)),
          );
        };
      case "server_streaming":
        return (call: grpc.ServerWritableStream<unknown, unknown>) => {
          const controller = new AbortController();
          call.on("cancelled", () => controller.abort());
          (async () => {
            for await (const message of this.dispatchStream(
              path,
              handlers,
              call.request,
              call.metadata,
              identity(call),
              controller.signal,
            )) {
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
          const handler = handlers.get(path);
          const id = identity(call);
          let target: NodeImpl = this;
          (async () => {
            if (handler === undefined || handler.kind !== "client") {
              throw new StatusError(grpc.status.UNIMPLEMENTED, `method ${path} not implemented`);
            }
            target = this.route(call.metadata, id.maintenance);
            await target.applyFaults(path, controller.signal);
            target.assertAlive();
            target.authorize(method, path, id);
            return handler.fn(call as AsyncIterable<unknown>, {
              ...id,
              signal: controller.signal,
              node: target,
            });
          })().then(
            (response) => {
              this.log({
                node: target.name,
                method: path,
                code: 0,
                proxied: target !== this,
                roles: id.roles,
              });
              callback(null, response);
            },
            (error: unknown) => {
              const code = error instanceof StatusError ? error.code : grpc.status.INTERNAL;
              this.log({ node: target.name, method: path, code, proxied: target !== this, roles: id.roles });
              callback(fail(error));
            },
          );
        };
      default:
        return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
          call.destroy(fail(new StatusError(grpc.status.UNIMPLEMENTED, `method ${path} not implemented`)));
        };
    }
  }

  /** The Talos line this node runs now (changes with an upgrade). */
  line(): TalosLineBehaviour {
    return talosLine(this.version);
  }

  /**
   * apid's director. In maintenance there is no routing at all: ≤1.12 serves maintenance from a plain
   * gRPC server without a router (talos v1.12.11 internal/app/maintenance/server.go), ≥1.13 runs apid
   * with `skipRouting` (talos v1.13.9 internal/app/apid/pkg/director/director.go), so `node` is ignored
   * and the endpoint itself answers.
   */
  route(metadata: grpc.Metadata, maintenance: boolean): NodeImpl {
    if (maintenance || this.config === undefined) return this;
    const targets = metadata.get("node").map(String);
    // talos internal/app/apid/pkg/director/director.go
    if (targets.length > 1)
      throw new StatusError(grpc.status.INVALID_ARGUMENT, "node metadata must be single-valued");
    const target = targets[0];
    if (target === undefined || target === this.address || target === this.name) return this;
    if (this.config?.type === "worker") {
      throw new StatusError(grpc.status.PERMISSION_DENIED, "no request forwarding");
    }
    const peer = this.fleet.find(target);
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
    if (peer.config === undefined || peer.config.ca.crt.trim() !== this.config.ca.crt.trim()) {
      throw new StatusError(
        grpc.status.UNAVAILABLE,
        'connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"',
      );
    }
    return peer;
  }

  /**
   * What a node lets through before the handler: the services of its line, the maintenance
   * allow-list of its line, then the role table (talos-lines.ts cites the upstream files).
   */
  authorize(method: DescMethod, path: string, id: { roles: string[]; maintenance: boolean }): void {
    const service = method.parent.typeName;
    const line = this.line();
    if (
      (service === "machine.ImageService" || service === "machine.LifecycleService") &&
      !line.extraServices.includes(service)
    ) {
      throw new StatusError(grpc.status.UNIMPLEMENTED, `unknown service ${service}`);
    }
    const maintenance = id.maintenance || this.config === undefined;
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

  faultsFor(path: string): (EmulatorFault & { remaining?: number })[] {
    const short = path.slice(path.lastIndexOf("/") + 1);
    return this.fleet.faults.filter(
      (f) =>
        (f.node === undefined || f.node === this.name || f.node === this.address) &&
        (f.methods === undefined || f.methods.includes(path) || f.methods.includes(short)),
    );
  }

  async applyFaults(path: string, signal: AbortSignal): Promise<number | undefined> {
    let dropAfter: number | undefined;
    for (const fault of this.faultsFor(path)) {
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
    return dropAfter;
  }

  log(entry: Omit<EmulatorCallLogEntry, "time" | "endpoint">): void {
    this.fleet.callLog.push({ time: Date.now(), endpoint: this.name, ...entry });
  }

  async dispatchUnary(
    path: string,
    handlers: Map<string, Handler>,
    request: unknown,
    metadata: grpc.Metadata,
    id: { roles: string[]; maintenance: boolean },
    signal: AbortSignal,
  ): Promise<unknown> {
    const handler = handlers.get(path);
    const nodes = metadata
      .get("nodes")
      .flatMap((v) => String(v).split(","))
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (
      nodes.length > 0 &&
      metadata.get("node").length === 0 &&
      !id.maintenance &&
      this.config !== undefined
    ) {
      return this.fanOutLegacy(path, handlers, request, nodes, id, signal);
    }
    let target: NodeImpl = this;
    try {
      target = this.route(metadata, id.maintenance);
      if (handler === undefined || handler.kind !== "unary") {
        throw new StatusError(grpc.status.UNIMPLEMENTED, `method ${path} not implemented`);
      }
      await target.applyFaults(path, signal);
      target.assertAlive();
      target.authorize(handler.method, path, id);
      const response = await handler.fn(request, { ...id, signal, node: target });
      this.log({ node: target.name, method: path, code: 0, proxied: target !== this, roles: id.roles });
      return response;
    } catch (error) {
      const code = error instanceof StatusError ? error.code : grpc.status.INTERNAL;
      this.log({ node: target.name, method: path, code, proxied: target !== this, roles: id.roles });
      throw error;
    }
  }

  async fanOutLegacy(
    path: string,
    handlers: Map<string, Handler>,
    request: unknown,
    nodes: string[],
    id: { roles: string[]; maintenance: boolean },
    signal: AbortSignal,
  ): Promise<unknown> {
    const handler = handlers.get(path);
    if (handler === undefined || handler.kind !== "unary" || path.startsWith("/cosi.")) {
      throw new StatusError(
        grpc.status.INVALID_ARGUMENT,
        "one-to-many proxying is not supported for this method",
      );
    }
    const listField = handler.method.output.fields.find((f) => f.localName === "messages");
    const element =
      listField?.fieldKind === "list" && listField.listKind === "message" ? listField.message : undefined;
    if (element === undefined) throw new StatusError(grpc.status.INVALID_ARGUMENT, "not a fan-out method");
    const messages: unknown[] = [];
    for (const target of nodes) {
      const md = new grpc.Metadata();
      md.set("node", target);
      try {
        const response = (await this.dispatchUnary(path, handlers, request, md, id, signal)) as {
          messages?: Record<string, unknown>[];
        };
        for (const message of response.messages ?? []) {
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
    return { messages };
  }

  async *dispatchStream(
    path: string,
    handlers: Map<string, Handler>,
    request: unknown,
    metadata: grpc.Metadata,
    id: { roles: string[]; maintenance: boolean },
    signal: AbortSignal,
  ): AsyncGenerator<unknown> {
    const handler = handlers.get(path);
    let target: NodeImpl = this;
    let code = 0;
    try {
      if (metadata.get("nodes").length > 0 && path.startsWith("/cosi.") && this.config !== undefined) {
        throw new StatusError(grpc.status.INVALID_ARGUMENT, "one-to-many proxying is not supported for COSI");
      }
      target = this.route(metadata, id.maintenance);
      if (handler === undefined || handler.kind !== "server") {
        throw new StatusError(grpc.status.UNIMPLEMENTED, `method ${path} not implemented`);
      }
      const dropAfter = await target.applyFaults(path, signal);
      target.assertAlive();
      target.authorize(handler.method, path, id);
      let sent = 0;
      for await (const message of handler.fn(request, { ...id, signal, node: target })) {
        if (dropAfter !== undefined && sent >= dropAfter) {
          code = grpc.status.UNAVAILABLE;
          for (const socket of this.sockets) socket.destroy();
          if (target !== this)
            throw new StatusError(grpc.status.UNAVAILABLE, "connection to the backend was lost");
          return;
        }
        if (signal.aborted) return;
        target.assertAlive();
        yield message;
        sent++;
      }
    } catch (error) {
      code = error instanceof StatusError ? error.code : grpc.status.INTERNAL;
      throw error;
    } finally {
      if (signal.aborted && code === 0) code = grpc.status.CANCELLED;
      this.log({ node: target.name, method: path, code, proxied: target !== this, roles: id.roles });
    }
  }

  assertAlive(): void {
    if (this.currentTls() === undefined) {
      throw new StatusError(
        grpc.status.UNAVAILABLE,
        `connection error: ${this.address}:50000: connection refused`,
      );
    }
  }

  // ---- state

  state(): EmulatedNodeState {
    return this.currentState;
  }

  /** A secret-free summary (the node holds CA keys and configs). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      address: this.address,
      endpoint: this.endpoint,
      state: this.currentState,
      role: this.role(),
      talosVersion: this.version,
    };
  }

  [inspect.custom](): string {
    return `EmulatedNode ${JSON.stringify(this.toJSON())}`;
  }

  role(): "controlplane" | "worker" | undefined {
    if (this.config === undefined) return undefined;
    return this.config.type === "worker" ? "worker" : "controlplane";
  }

  talosVersion(): string {
    return this.version;
  }

  hostname(): string {
    return this.config?.hostname ?? `talos-${this.address.replace(/[^a-z0-9]/gi, "-")}`;
  }

  appliedConfig(): string | undefined {
    return this.config?.raw;
  }

  stop(): void {
    this.currentState = "down";
    for (const socket of this.sockets) socket.destroy();
  }

  start(): void {
    if (this.currentState === "down") {
      this.currentState = this.config === undefined ? "maintenance" : "running";
    }
  }

  later(ms: number, fn: () => void | Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }, ms);
    this.timers.add(timer);
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  lastRebootMode(): "default" | "powercycle" | "force" | undefined {
    return this.rebootMode;
  }

  setDiagnostic(id: string, message: string | undefined): void {
    if (message === undefined) this.deleteResource("runtime", "Diagnostics.runtime.talos.dev", id);
    else this.putResource("runtime", "Diagnostics.runtime.talos.dev", id, { message, details: [] });
  }

  setService(id: string, state: string, healthy: boolean): void {
    const current = this.services.get(id);
    const events = current?.events ?? [];
    events.push({ msg: `${id} ${state.toLowerCase()}`, state, ts: new Date() });
    this.services.set(id, { state, healthy, unknown: false, events: events.slice(-10) });
    this.emitEvent(
      "machine.ServiceStateEvent",
      toBinary(
        ServiceStateEventSchema,
        create(ServiceStateEventSchema, {
          service: id,
          action: state === "Running" ? ServiceStateEvent_Action.RUNNING : ServiceStateEvent_Action.PREPARING,
          message: `service ${id} is ${state}`,
          health: { healthy, unknown: false },
        }),
      ),
    );
    this.putResource("runtime", "Services.v1alpha1.talos.dev", id, {
      running: state === "Running",
      healthy,
      unknown: false,
    });
  }

  emitEvent(typeName: string, value: Uint8Array, actorId = ""): void {
    this.events.push({
      id: `${Date.now().toString(36)}${(this.events.length + 1).toString(36)}`,
      actorId,
      typeName,
      value,
    });
    if (this.events.length > 500) this.events.splice(0, this.events.length - 500);
    for (const wake of this.eventWaiters) wake();
  }

  nextActor(): string {
    this.actorCounter += 1;
    return `${this.name}-actor-${this.actorCounter}`;
  }

  setStage(stage: MachineStatusEvent_MachineStage, ready: boolean): void {
    const stageName = MachineStatusEvent_MachineStage[stage].toLowerCase();
    this.putResource("runtime", "MachineStatuses.runtime.talos.dev", "machine", {
      stage: stageName,
      status: {
        ready,
        unmetConditions: ready ? [] : [{ name: "services", reason: "services are not running" }],
      },
    });
    this.emitEvent(
      "machine.MachineStatusEvent",
      toBinary(MachineStatusEventSchema, create(MachineStatusEventSchema, { stage, status: { ready } })),
    );
  }

  putResource(namespace: string, type: string, id: string, spec: unknown, protoSpec?: Uint8Array): void {
    const key = `${namespace}/${type}/${id}`;
    const old = this.resources.get(key);
    const now = timestampFromDate(new Date());
    const resource = create(ResourceSchema, {
      metadata: {
        namespace,
        type,
        id,
        version: String(this.resourceVersion++),
        owner: "",
        phase: "running",
        created: old?.metadata?.created ?? now,
        updated: now,
      },
      spec: { yamlSpec: stringify(spec), protoSpec: protoSpec ?? new Uint8Array() },
    });
    this.resources.set(key, resource);
    for (const watcher of this.resourceWatchers) {
      watcher(old === undefined ? EventType.CREATED : EventType.UPDATED, resource, old);
    }
  }

  deleteResource(namespace: string, type: string, id: string): void {
    const key = `${namespace}/${type}/${id}`;
    const old = this.resources.get(key);
    if (old === undefined) return;
    this.resources.delete(key);
    for (const watcher of this.resourceWatchers) watcher(EventType.DESTROYED, old, undefined);
  }

  seedResources(): void {
    for (const def of DEFINITIONS) {
      const spec = create(ResourceDefinitionSpecSchema, {
        resourceType: def.type,
        displayType: def.display,
        defaultNamespace: def.namespace,
        aliases: def.aliases,
        allAliases: def.aliases,
        sensitivity: def.sensitive
          ? ResourceDefinitionSpec_Sensitivity.SENSITIVE
          : ResourceDefinitionSpec_Sensitivity.NON_SENSITIVE,
      });
      this.putResource(
        "meta",
        "ResourceDefinitions.meta.cosi.dev",
        def.type.toLowerCase(),
        { type: def.type, displayType: def.display, defaultNamespace: def.namespace, aliases: def.aliases },
        toBinary(ResourceDefinitionSpecSchema, spec),
      );
    }
    this.putResource("runtime", "Disks.block.talos.dev", "sda", {
      dev_path: "/dev/sda",
      size: 256060514304,
      model: "EMU-SSD",
      transport: "sata",
      rotational: false,
    });
    this.putResource("network", "LinkStatuses.net.talos.dev", "eth0", {
      index: 2,
      type: "ether",
      linkState: true,
      operationalState: "up",
      hardwareAddr: "52:54:00:00:00:01",
    });
    this.putResource("network", "NodeAddresses.net.talos.dev", "default", {
      addresses: [`${this.address}/24`],
    });
    this.putResource("runtime", "Versions.runtime.talos.dev", "version", { version: this.version });
    this.putResource("network", "HostnameStatuses.net.talos.dev", "hostname", {
      hostname: this.hostname(),
      domainname: "",
    });
    this.setStage(MachineStatusEvent_MachineStage.MAINTENANCE, true);
  }

  startServices(): void {
    const cp = this.role() === "controlplane";
    const ids = cp
      ? ["apid", "containerd", "cri", "etcd", "kubelet", "machined", "trustd", "udevd"]
      : ["apid", "containerd", "cri", "kubelet", "machined", "udevd"];
    this.services.clear();
    for (const id of ids) {
      if (id === "etcd")
        this.setService("etcd", this.fleet.bootstrapped ? "Running" : "Preparing", this.fleet.bootstrapped);
      else this.setService(id, "Running", true);
    }
    for (const extension of this.config?.extensions ?? []) {
      this.setService(`ext-${extension.name}`, "Running", true);
      // Variable names only: the values are usually tokens.
      this.putResource("runtime", "ExtensionServiceConfigs.runtime.talos.dev", extension.name, {
        configFiles: extension.configFiles.map((mountPath) => ({ mountPath })),
        environment: extension.environment.map((e) => `${e.split("=")[0]}=<redacted>`),
      });
    }
    this.currentState = "running";
    this.putResource("network", "HostnameStatuses.net.talos.dev", "hostname", {
      hostname: this.hostname(),
      domainname: "",
    });
    this.setStage(MachineStatusEvent_MachineStage.RUNNING, true);
    if (cp && this.fleet.bootstrapped) this.joinEtcd();
    this.fleet.onClusterChange();
  }

  joinEtcd(): void {
    // The control-plane static pods run once etcd does (ids as talos: `<namespace>/<pod>-<node>`).
    for (const pod of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
      this.putResource(
        "k8s",
        "StaticPodStatuses.kubernetes.talos.dev",
        `kube-system/${pod}-${this.hostname()}`,
        {
          phase: "Running",
          conditions: [{ type: "Ready", status: "True" }],
        },
      );
    }
    if (this.fleet.etcdMembers.has(this.name)) return;
    this.fleet.etcdMembers.set(this.name, {
      id: randomId(),
      hostname: this.hostname(),
      address: this.address,
    });
    this.setService("etcd", "Running", true);
    this.fleet.onClusterChange();
  }

  async applyConfig(config: ParsedConfig): Promise<void> {
    const first = this.config === undefined;
    this.config = config;
    this.putResource(
      "config",
      "MachineConfigs.config.talos.dev",
      "v1alpha1",
      config.raw,
      toBinary(
        MachineConfigSpecSchema,
        create(MachineConfigSpecSchema, { yamlMarshalled: new TextEncoder().encode(config.raw) }),
      ),
    );
    this.mtlsTls?.close();
    this.mtlsTls = undefined;
    await this.issueIdentity();
    if (config.ca.key !== "") await this.fleet.signerAvailable(config.ca.crt);
    if (first) {
      this.currentState = "booting";
      this.setStage(MachineStatusEvent_MachineStage.BOOTING, false);
      const maintenanceSockets = [...this.sockets];
      // Like apid restarting with its new identity, a moment after the reply has gone out.
      this.later(500, () => {
        for (const socket of maintenanceSockets) socket.destroy();
      });
      this.later(this.fleet.options.bootDelayMs ?? 0, () => this.tryStart());
    }
  }

  /** Issues the apid server certificate from the OS CA (a worker borrows a control plane's key, as via trustd). */
  async issueIdentity(): Promise<boolean> {
    const config = this.config;
    if (config === undefined) return false;
    const key = config.ca.key !== "" ? config.ca.key : this.fleet.caKeyFor(config.ca.crt);
    if (key === undefined) return false;
    const server = await issueCertificate({
      ca: { crt: config.ca.crt, key },
      usage: "server",
      commonName: config.hostname ?? this.name,
      ipAddresses: ["127.0.0.1", ...(isIP(this.address) ? [this.address] : [])],
      dnsNames: [
        "localhost",
        ...(isIP(this.address) ? [] : [this.address]),
        ...(config.hostname ? [config.hostname] : []),
      ],
    });
    if (this.config !== config) return false;
    this.mtlsTls?.close();
    this.mtlsTls = this.tlsServer({ cert: server.crt, key: server.key }, config.ca.crt);
    return true;
  }

  tryStart(): void {
    if (this.currentState === "booting" && this.mtlsTls !== undefined) this.startServices();
  }

  wipe(reboot: boolean): void {
    for (const resource of [...this.resources.values()]) {
      const m = resource.metadata;
      if (m?.type === "StaticPodStatuses.kubernetes.talos.dev")
        this.deleteResource(m.namespace, m.type, m.id);
    }
    this.config = undefined;
    this.services.clear();
    this.fleet.etcdMembers.delete(this.name);
    this.deleteResource("config", "MachineConfigs.config.talos.dev", "v1alpha1");
    this.currentState = reboot ? "maintenance" : "halted";
    this.setStage(
      reboot ? MachineStatusEvent_MachineStage.MAINTENANCE : MachineStatusEvent_MachineStage.SHUTTING_DOWN,
      reboot,
    );
    this.dropConnections();
    this.fleet.onClusterChange();
  }

  rebootNow(then?: () => void): void {
    this.currentState = "rebooting";
    this.setStage(MachineStatusEvent_MachineStage.REBOOTING, false);
    // Well after the reply has gone out (20 ms raced it on a busy machine); back up after that.
    this.later(50, () => this.dropConnections());
    this.later(Math.max(60, this.fleet.options.rebootDelayMs ?? 60), async () => {
      then?.();
      const staged = this.stagedConfig;
      this.stagedConfig = undefined;
      if (staged !== undefined && this.config !== undefined) await this.applyConfig(staged);
      if (this.pendingVersion !== undefined) {
        this.version = this.pendingVersion;
        this.pendingVersion = undefined;
        this.putResource("runtime", "Versions.runtime.talos.dev", "version", { version: this.version });
      }
      if (this.config === undefined) {
        this.currentState = "maintenance";
        this.setStage(MachineStatusEvent_MachineStage.MAINTENANCE, true);
      } else this.startServices();
    });
  }
}

function unary<I extends DescMessage, O extends DescMessage>(
  map: Map<string, Handler>,
  method: DescMethodUnary<I, O>,
  fn: (request: MessageShape<I>, ctx: HandlerContext) => Promise<MessageInitShape<O>>,
): void {
  map.set(methodPath(method), { kind: "unary", method, fn: fn as UnaryFn });
}

function serverStream<I extends DescMessage, O extends DescMessage>(
  map: Map<string, Handler>,
  method: DescMethodServerStreaming<I, O>,
  fn: (request: MessageShape<I>, ctx: HandlerContext) => AsyncIterable<MessageInitShape<O>>,
): void {
  map.set(methodPath(method), { kind: "server", method, fn: fn as StreamFn });
}

function clientStream<I extends DescMessage, O extends DescMessage>(
  map: Map<string, Handler>,
  method: DescMethodClientStreaming<I, O>,
  fn: (requests: AsyncIterable<MessageShape<I>>, ctx: HandlerContext) => Promise<MessageInitShape<O>>,
): void {
  map.set(methodPath(method), { kind: "client", method, fn: fn as ClientStreamFn });
}

function requireConfigured(node: NodeImpl): ParsedConfig {
  if (node.config === undefined)
    throw new StatusError(grpc.status.FAILED_PRECONDITION, "the node is not configured");
  return node.config;
}

/** talos internal/app/internal/machinehelper/machinehelper.go CheckControlplane (UNIMPLEMENTED on a worker). */
function requireControlPlane(node: NodeImpl, method: string): ParsedConfig {
  const what = CONTROL_PLANE_ONLY[method] ?? method;
  if (node.config === undefined) {
    throw new StatusError(grpc.status.UNIMPLEMENTED, `machine type is not set, cannot use ${what} API`);
  }
  if (node.config.type === "worker") {
    throw new StatusError(grpc.status.UNIMPLEMENTED, `${what} is only available on control plane nodes`);
  }
  return node.config;
}

function requireEtcd(node: NodeImpl, method: string): void {
  requireControlPlane(node, method);
  if (!node.fleet.bootstrapped || !node.fleet.etcdMembers.has(node.name)) {
    throw new StatusError(grpc.status.FAILED_PRECONDITION, "etcd is not running on this node");
  }
}

const LOG_LINES = 20;

function logLine(node: NodeImpl, id: string, i: number): string {
  return `${new Date(1_700_000_000_000 + i * 1000).toISOString()} [talos] ${id} on ${node.hostname()}: message ${i}`;
}

async function* followLines(
  node: NodeImpl,
  make: (i: number) => string,
  start: number,
  initial: number[],
  follow: boolean,
  signal: AbortSignal,
): AsyncGenerator<{ bytes: Uint8Array }> {
  const encoder = new TextEncoder();
  for (const i of initial) yield { bytes: encoder.encode(`${make(i)}\n`) };
  if (!follow) return;
  let i = start;
  while (!signal.aborted) {
    await sleep(node.fleet.options.followIntervalMs ?? 50, signal);
    if (signal.aborted) return;
    yield { bytes: encoder.encode(`${make(i++)}\n`) };
  }
}

const APPLY_MODE_NAMES: Record<number, ApplyModeName> = {
  [ApplyConfigurationRequest_Mode.REBOOT]: "REBOOT",
  [ApplyConfigurationRequest_Mode.AUTO]: "AUTO",
  [ApplyConfigurationRequest_Mode.NO_REBOOT]: "NO_REBOOT",
  [ApplyConfigurationRequest_Mode.STAGED]: "STAGED",
  [ApplyConfigurationRequest_Mode.TRY]: "TRY",
};

/**
 * The mode an apply actually runs in, per line: ≤1.12 maintenance accepts REBOOT/AUTO/TRY only
 * (talos v1.12.11 internal/app/maintenance/server.go); ≥1.13 maintenance turns REBOOT into NO_REBOOT;
 * configured nodes resolve AUTO to NO_REBOOT when the change applies live, else REBOOT (≤1.13), or
 * always NO_REBOOT and refuse REBOOT (≥1.14; talos v1.14.0-rc.1 v1alpha1_server.go ApplyConfiguration).
 */
function applyMode(
  node: NodeImpl,
  requested: ApplyConfigurationRequest_Mode,
  config: ParsedConfig,
): ApplyConfigurationRequest_Mode {
  const line = node.line();
  const name = APPLY_MODE_NAMES[requested];
  if (name === undefined) {
    throw new StatusError(
      grpc.status.INVALID_ARGUMENT,
      `incorrect mode '${requested}' specified for the apply config call`,
    );
  }
  const M = ApplyConfigurationRequest_Mode;
  if (node.config === undefined) {
    if (!line.maintenanceApplyModes.includes(name)) {
      throw new StatusError(
        grpc.status.UNIMPLEMENTED,
        `apply configuration --mode='${name.toLowerCase().replace("_", "-")}' is not supported in maintenance mode`,
      );
    }
    // The separate ≤1.12 server leaves the reply's mode unset; ≥1.13 reports NO_REBOOT.
    if (line.maintenance === "separate-server") return M.REBOOT;
    return requested === M.REBOOT || requested === M.AUTO ? M.NO_REBOOT : requested;
  }
  if (requested === M.REBOOT && !line.rebootApplyMode) {
    throw new StatusError(
      grpc.status.UNIMPLEMENTED,
      "the REBOOT mode is not supported, please use AUTO or NO_REBOOT modes instead",
    );
  }
  if (requested !== M.AUTO) return requested;
  if (line.auto === "no-reboot") return M.NO_REBOOT;
  return appliesLive(node.config, config) ? M.NO_REBOOT : M.REBOOT;
}

/** Whether a new config can replace the running one without a reboot (a stand-in for CanApplyImmediate). */
function appliesLive(current: ParsedConfig, next: ParsedConfig): boolean {
  return (
    current.type === next.type &&
    current.clusterName === next.clusterName &&
    current.endpoint === next.endpoint &&
    current.ca.crt.trim() === next.ca.crt.trim()
  );
}

function buildHandlers(): Map<string, Handler> {
  const h = new Map<string, Handler>();
  const M = MachineService.method;
  const meta = {};

  unary(h, M.version, async (_req, { node }) => ({
    messages: [
      {
        metadata: meta,
        version: {
          tag: node.version,
          sha: "emulated",
          built: "",
          goVersion: "go1.24",
          os: "linux",
          arch: "amd64",
        },
        // talos internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go Version: the
        // platform's name and runtime mode (metal), in maintenance as well.
        platform: { name: "metal", mode: "metal" },
        features: { rbac: true },
      },
    ],
  }));

  unary(h, M.hostname, async (_req, { node }) => ({ messages: [{ hostname: node.hostname() }] }));

  unary(h, M.applyConfiguration, async (req, { node, roles, maintenance }) => {
    const config = parseMachineConfig(new TextDecoder().decode(req.data));
    if (!maintenance && !roles.includes("os:admin")) {
      throw new StatusError(grpc.status.PERMISSION_DENIED, "not authorized");
    }
    if (node.applying) throw new StatusError(grpc.status.FAILED_PRECONDITION, "another apply is in progress");
    const mode = applyMode(node, req.mode, config);
    const warnings = config.hostname === undefined ? ["no hostname set: a stable one will be generated"] : [];
    if (req.dryRun) {
      return {
        messages: [
          {
            mode,
            warnings,
            modeDetails: "Dry run summary:\nApplied configuration without a reboot (dry run)",
          },
        ],
      };
    }
    if (mode === ApplyConfigurationRequest_Mode.STAGED && node.config !== undefined) {
      node.stagedConfig = config;
      return {
        messages: [
          { mode, warnings, modeDetails: "Staged configuration to be applied after the next reboot" },
        ],
      };
    }
    node.applying = true;
    try {
      const previous = node.config;
      await node.applyConfig(config);
      if (mode === ApplyConfigurationRequest_Mode.TRY && previous !== undefined) {
        const timeoutMs =
          req.tryModeTimeout === undefined
            ? 60_000
            : Number(req.tryModeTimeout.seconds) * 1000 + req.tryModeTimeout.nanos / 1e6;
        node.later(timeoutMs, () => {
          if (node.config === config) void node.applyConfig(previous);
        });
        return {
          messages: [
            {
              mode,
              warnings,
              modeDetails: `Applied configuration in a try mode, rollback in ${timeoutMs / 1000}s`,
            },
          ],
        };
      }
      if (mode === ApplyConfigurationRequest_Mode.REBOOT && previous !== undefined) {
        node.later(20, () => node.rebootNow());
        return { messages: [{ mode, warnings, modeDetails: "Applied configuration with a reboot" }] };
      }
      return { messages: [{ mode, warnings, modeDetails: "Applied configuration without a reboot" }] };
    } finally {
      node.applying = false;
    }
  });

  unary(h, M.bootstrap, async (_req, { node }) => {
    requireControlPlane(node, "Bootstrap");
    if (node.currentState !== "running") {
      throw new StatusError(grpc.status.FAILED_PRECONDITION, "bootstrap is not available yet");
    }
    if (node.fleet.bootstrapped) {
      throw new StatusError(grpc.status.ALREADY_EXISTS, "etcd data directory is not empty");
    }
    node.fleet.bootstrapped = true;
    node.joinEtcd();
    for (const peer of node.fleet.nodes) {
      if (peer !== node && peer.role() === "controlplane" && peer.currentState === "running") peer.joinEtcd();
    }
    return { messages: [{}] };
  });

  unary(h, M.reboot, async (req, { node }) => {
    requireConfigured(node);
    // An enum value the line does not know is a plain reboot there (FORCE=2 arrived in 1.12).
    const name = (["default", "powercycle", "force"] as const)[req.mode] ?? "default";
    node.rebootMode = node.line().rebootModes.includes(name.toUpperCase() as "FORCE") ? name : "default";
    const actorId = node.nextActor();
    node.emitEvent(
      "machine.SequenceEvent",
      toBinary(
        SequenceEventSchema,
        create(SequenceEventSchema, { sequence: "reboot", action: SequenceEvent_Action.START }),
      ),
      actorId,
    );
    node.rebootNow();
    return { messages: [{ actorId }] };
  });

  unary(h, M.shutdown, async (_req, { node }) => {
    const actorId = node.nextActor();
    node.later(20, () => {
      node.currentState = "halted";
      node.dropConnections();
    });
    return { messages: [{ actorId }] };
  });

  unary(h, M.reset, async (req, { node }) => {
    requireConfigured(node);
    const actorId = node.nextActor();
    node.currentState = "resetting";
    node.setStage(MachineStatusEvent_MachineStage.RESETTING, false);
    if (req.graceful && node.role() === "controlplane") node.fleet.etcdMembers.delete(node.name);
    node.later(20, () => node.wipe(req.reboot));
    return { messages: [{ actorId }] };
  });

  unary(h, M.upgrade, async (req, { node }) => {
    requireConfigured(node);
    const tag = req.image.slice(req.image.lastIndexOf(":") + 1);
    const actorId = node.nextActor();
    if (req.stage) {
      node.pendingVersion = tag;
      return { messages: [{ ack: "Upgrade request received (staged)", actorId }] };
    }
    node.pendingVersion = tag;
    node.currentState = "upgrading";
    node.setStage(MachineStatusEvent_MachineStage.UPGRADING, false);
    node.later(10, () => node.rebootNow());
    return { messages: [{ ack: "Upgrade request received", actorId }] };
  });

  serverStream(h, ImageService.method.pull, async function* (req) {
    for (const layer of ["sha256:aaa", "sha256:bbb"]) {
      yield {
        response: {
          case: "pullProgress" as const,
          value: { layerId: layer, progress: { offset: 50n, total: 100n } },
        },
      };
      yield {
        response: {
          case: "pullProgress" as const,
          value: { layerId: layer, progress: { offset: 100n, total: 100n } },
        },
      };
    }
    yield { response: { case: "name" as const, value: req.imageRef } };
  });

  serverStream(h, LifecycleService.method.upgrade, async function* (req, { node }) {
    requireConfigured(node);
    const image = req.source?.imageName ?? "";
    yield { progress: { response: { case: "message" as const, value: `installing ${image}` } } };
    if (image.includes("invalid")) {
      yield { progress: { response: { case: "exitCode" as const, value: 1 } } };
      return;
    }
    node.pendingVersion = image.slice(image.lastIndexOf(":") + 1);
    yield { progress: { response: { case: "message" as const, value: "install complete" } } };
    yield { progress: { response: { case: "exitCode" as const, value: 0 } } };
  });

  unary(h, M.serviceList, async (_req, { node }) => ({
    messages: [
      {
        services: [...node.services.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([id, s]) => ({
            id,
            state: s.state,
            health: { healthy: s.healthy, unknown: s.unknown, lastMessage: s.healthy ? "" : "waiting" },
            events: {
              events: s.events.map((e) => ({ msg: e.msg, state: e.state, ts: timestampFromDate(e.ts) })),
            },
          })),
      },
    ],
  }));

  const serviceCommand =
    (verb: "start" | "stop" | "restart") =>
    async (req: { id: string }, { node }: HandlerContext) => {
      requireConfigured(node);
      if (!node.services.has(req.id))
        throw new StatusError(grpc.status.NOT_FOUND, `service "${req.id}" not found`);
      node.setService(req.id, verb === "stop" ? "Finished" : "Running", verb !== "stop");
      return { messages: [{ resp: `Service "${req.id}" ${verb === "stop" ? "stopped" : `${verb}ed`}` }] };
    };
  unary(h, M.serviceStart, serviceCommand("start"));
  unary(h, M.serviceStop, serviceCommand("stop"));
  unary(h, M.serviceRestart, serviceCommand("restart"));

  serverStream(h, M.kubeconfig, async function* (_req, { node }) {
    const config = requireControlPlane(node, "Kubeconfig");
    const context = {
      node: node.name,
      address: node.address,
      clusterName: config.clusterName,
      endpoint: config.endpoint,
    };
    const text = await (node.fleet.options.kubeconfig ?? defaultKubeconfig)(context);
    const archive = packTarGz([{ name: "kubeconfig", content: new TextEncoder().encode(text) }]);
    const chunk = 16 * 1024;
    for (let offset = 0; offset < archive.length; offset += chunk) {
      yield { bytes: archive.subarray(offset, offset + chunk) };
    }
  });

  unary(h, M.etcdMemberList, async (req, { node }) => {
    requireEtcd(node, "EtcdMemberList");
    const members = req.queryLocal
      ? [node.fleet.etcdMembers.get(node.name)!]
      : [...node.fleet.etcdMembers.values()];
    return {
      messages: [
        {
          members: members.map((m) => ({
            id: m.id,
            hostname: m.hostname,
            peerUrls: [`https://${m.address}:2380`],
            clientUrls: [`https://${m.address}:2379`],
            isLearner: false,
          })),
        },
      ],
    };
  });

  unary(h, M.etcdRemoveMemberByID, async (req, { node }) => {
    requireEtcd(node, "EtcdRemoveMemberByID");
    const entry = [...node.fleet.etcdMembers.entries()].find(([, m]) => m.id === req.memberId);
    if (entry === undefined)
      throw new StatusError(grpc.status.NOT_FOUND, `etcd member ${req.memberId.toString(16)} not found`);
    node.fleet.etcdMembers.delete(entry[0]);
    node.fleet.find(entry[0])?.setService("etcd", "Failed", false);
    node.fleet.onClusterChange();
    return { messages: [{}] };
  });

  unary(h, M.etcdLeaveCluster, async (_req, { node }) => {
    requireEtcd(node, "EtcdLeaveCluster");
    node.fleet.etcdMembers.delete(node.name);
    node.setService("etcd", "Finished", false);
    node.fleet.onClusterChange();
    return { messages: [{}] };
  });

  unary(h, M.etcdForfeitLeadership, async (_req, { node }) => {
    requireEtcd(node, "EtcdForfeitLeadership");
    return { messages: [{ member: node.hostname() }] };
  });

  unary(h, M.etcdStatus, async (_req, { node }) => {
    requireEtcd(node, "EtcdStatus");
    const self = node.fleet.etcdMembers.get(node.name)!;
    const leader = [...node.fleet.etcdMembers.values()][0]!;
    return {
      messages: [
        {
          memberStatus: {
            memberId: self.id,
            protocolVersion: "3.5.17",
            storageVersion: "3.5.0",
            dbSize: 4_194_304n,
            dbSizeInUse: 2_097_152n,
            leader: leader.id,
            raftIndex: 1000n,
            raftTerm: 2n,
            raftAppliedIndex: 1000n,
          },
        },
      ],
    };
  });

  serverStream(h, M.etcdSnapshot, async function* (_req, { node, signal }) {
    requireEtcd(node, "EtcdSnapshot");
    const total = node.fleet.options.etcdSnapshotBytes ?? 1024 * 1024;
    const chunk = Buffer.alloc(
      Math.min(node.fleet.options.etcdSnapshotChunkBytes ?? 1024 * 1024, total),
      0x5a,
    );
    for (let sent = 0; sent < total && !signal.aborted; sent += chunk.length) {
      yield { bytes: chunk.subarray(0, Math.min(chunk.length, total - sent)) };
    }
  });

  clientStream(h, M.etcdRecover, async (requests, { node }) => {
    requireControlPlane(node, "EtcdRecover");
    let bytes = 0;
    for await (const data of requests) bytes += data.bytes.length;
    if (bytes === 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "empty snapshot");
    return { messages: [{}] };
  });

  serverStream(h, M.logs, async function* (req, { node, signal }) {
    const known = node.config === undefined ? ["machined"] : [...node.services.keys()];
    if (req.namespace === "system" || req.namespace === "") {
      if (!known.includes(req.id))
        throw new StatusError(grpc.status.NOT_FOUND, `log "${req.id}" was not registered`);
    }
    const all = Array.from({ length: LOG_LINES }, (_, i) => i);
    const initial = req.tailLines >= 0 ? all.slice(Math.max(0, LOG_LINES - req.tailLines)) : all;
    yield* followLines(node, (i) => logLine(node, req.id, i), LOG_LINES, initial, req.follow, signal);
  });

  serverStream(h, M.dmesg, async function* (req, { node, signal }) {
    const make = (i: number): string =>
      `kern  :info  : [${(i * 0.1).toFixed(6)}] emulated kernel message ${i} on ${node.name}`;
    const initial = req.tail ? [] : Array.from({ length: LOG_LINES }, (_, i) => i);
    yield* followLines(node, make, LOG_LINES, initial, req.follow, signal);
  });

  serverStream(h, M.events, async function* (req, { node, signal }) {
    const matches = (e: StoredEvent): boolean => req.withActorId === "" || e.actorId === req.withActorId;
    let start = node.events.length;
    if (req.tailEvents < 0) start = 0;
    else if (req.tailEvents > 0) start = Math.max(0, node.events.length - req.tailEvents);
    if (req.tailId !== "") {
      const index = node.events.findIndex((e) => e.id === req.tailId);
      if (index >= 0) start = index + 1;
    }
    let cursor = start;
    // An empty "hello" event first, so the client knows the stream is up (talos
    // internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go Events, sendEmptyEvent).
    yield {
      id: `${Date.now().toString(36)}hello`,
      actorId: req.withActorId,
      data: { typeUrl: "", value: new Uint8Array() },
    };
    while (!signal.aborted) {
      while (cursor < node.events.length) {
        const e = node.events[cursor++]!;
        if (matches(e)) {
          yield {
            id: e.id,
            actorId: e.actorId,
            data: { typeUrl: `talos/runtime/${e.typeName}`, value: e.value },
          };
        }
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          node.eventWaiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        node.eventWaiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  });

  unary(h, M.processes, async (_req, { node }) => ({
    messages: [
      {
        processes: [...node.services.keys()].map((id, i) => ({
          pid: 100 + i,
          ppid: 1,
          state: "S",
          threads: 4,
          cpuTime: 1.5,
          virtualMemory: 100_000_000n,
          residentMemory: 20_000_000n,
          command: id,
          executable: `/usr/local/bin/${id}`,
          args: `/usr/local/bin/${id}`,
          // ProcessInfo.label = 11: the SELinux label (talos api/machine/machine.proto, all lines).
          label: `system_u:system_r:${id.replace(/-/g, "_")}_t:s0`,
        })),
      },
    ],
  }));

  unary(h, M.mounts, async () => ({
    messages: [
      {
        stats: [
          { filesystem: "/dev/sda5", size: 100_000_000_000n, available: 80_000_000_000n, mountedOn: "/var" },
          { filesystem: "/dev/sda4", size: 100_000_000n, available: 90_000_000n, mountedOn: "/system/state" },
        ],
      },
    ],
  }));

  unary(h, M.loadAvg, async () => ({ messages: [{ load1: 0.25, load5: 0.5, load15: 0.75 }] }));

  const files = (node: NodeImpl): Map<string, string> =>
    new Map([
      ["/etc/hostname", `${node.hostname()}\n`],
      ["/etc/os-release", `NAME="Talos"\nID=talos\nVERSION_ID=${node.version}\n`],
      ["/var/log/machined.log", "[talos] emulated\n"],
    ]);

  serverStream(h, M.read, async function* (req, { node }) {
    const content = files(node).get(req.path);
    if (content === undefined)
      throw new StatusError(grpc.status.NOT_FOUND, `open ${req.path}: no such file or directory`);
    yield { bytes: new TextEncoder().encode(content) };
  });

  serverStream(h, M.copy, async function* (req, { node }) {
    const root = req.rootPath.replace(/\/+$/, "") || "/";
    const entries = [...files(node).entries()]
      .filter(([path]) => path === root || path.startsWith(`${root === "/" ? "" : root}/`))
      .map(([path, content]) => ({
        name: path.replace(/^\//, ""),
        content: new TextEncoder().encode(content),
      }));
    if (entries.length === 0)
      throw new StatusError(grpc.status.NOT_FOUND, `lstat ${req.rootPath}: no such file or directory`);
    yield { bytes: packTarGz(entries) };
  });

  serverStream(h, M.list, async function* (req, { node }) {
    const root = req.root.replace(/\/+$/, "") || "/";
    const entries = [...files(node).entries()].filter(([path]) =>
      req.recurse
        ? path.startsWith(`${root === "/" ? "" : root}/`)
        : path.slice(0, path.lastIndexOf("/")) === root,
    );
    if (entries.length === 0)
      throw new StatusError(grpc.status.NOT_FOUND, `lstat ${req.root}: no such file or directory`);
    for (const [path, content] of entries) {
      yield {
        name: path,
        relativeName: path.slice(root.length + (root === "/" ? 0 : 1)),
        size: BigInt(content.length),
        mode: 0o644,
        modified: BigInt(Math.floor(Date.now() / 1000)),
        isDir: false,
      };
    }
  });

  unary(h, M.memory, async () => ({
    messages: [
      {
        meminfo: {
          memtotal: 16_384_000n,
          memfree: 8_192_000n,
          memavailable: 12_000_000n,
          cached: 2_000_000n,
        },
      },
    ],
  }));

  unary(h, M.systemStat, async () => ({
    messages: [
      {
        bootTime: BigInt(Math.floor(Date.now() / 1000) - 3600),
        cpuTotal: { user: 100, system: 50, idle: 1000 },
        cpu: [
          { user: 50, system: 25, idle: 500 },
          { user: 50, system: 25, idle: 500 },
        ],
        contextSwitches: 123_456n,
        processCreated: 4_321n,
        processRunning: 3n,
      },
    ],
  }));

  unary(h, M.containers, async (req, { node }) => ({
    messages: [
      {
        containers:
          req.namespace === "k8s.io"
            ? [
                {
                  namespace: "k8s.io",
                  id: "kube-system/kube-apiserver",
                  image: "registry.k8s.io/kube-apiserver",
                  pid: 1234,
                  status: "RUNNING",
                  podId: "kube-system/kube-apiserver",
                  name: "kube-apiserver",
                },
              ]
            : [...node.services.keys()]
                .filter((id) => ["etcd", "kubelet", "apid", "trustd"].includes(id))
                .map((id, i) => ({
                  namespace: "system",
                  id,
                  image: `ghcr.io/siderolabs/${id}`,
                  pid: 100 + i,
                  status: "RUNNING",
                  name: id,
                })),
      },
    ],
  }));

  unary(h, StorageService.method.disks, async () => ({
    messages: [
      {
        disks: [
          {
            deviceName: "/dev/sda",
            model: "EMU-SSD",
            size: 256_060_514_304n,
            type: Disk_DiskType.SSD,
            systemDisk: true,
            busPath: "/pci0000:00/0000:00:1f.2",
          },
          {
            deviceName: "/dev/nvme0n1",
            model: "EMU-NVME",
            size: 1_000_204_886_016n,
            type: Disk_DiskType.NVME,
          },
        ],
      },
    ],
  }));

  unary(h, StorageService.method.blockDeviceWipe, async () => ({ messages: [{}] }));

  const timeReply = async (server: string) => {
    const now = new Date();
    return { messages: [{ server, localtime: timestampFromDate(now), remotetime: timestampFromDate(now) }] };
  };
  unary(h, TimeService.method.time, () => timeReply("time.cloudflare.com"));
  unary(h, TimeService.method.timeCheck, (req) => timeReply(req.server));

  unary(h, M.generateClientConfiguration, async (req, { node }) => {
    const config = requireControlPlane(node, "GenerateClientConfiguration");
    const ttl = req.crtTtl === undefined ? 0 : Number(req.crtTtl.seconds) * 1000;
    if (ttl <= 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "crt_ttl must be positive");
    if (req.roles.length === 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "roles are required");
    const issued = await issueCertificate({
      ca: config.ca,
      usage: "client",
      organizations: req.roles,
      notAfter: new Date(Date.now() + ttl),
    });
    const context = req.roles.length === 1 ? `${req.roles[0]}@${config.clusterName}` : config.clusterName;
    const talosconfig = buildTalosconfig({
      context,
      endpoints: [],
      ca: config.ca.crt,
      crt: issued.crt,
      key: issued.key,
    });
    const enc = new TextEncoder();
    return {
      messages: [
        {
          ca: enc.encode(config.ca.crt),
          crt: enc.encode(issued.crt),
          key: enc.encode(issued.key),
          talosconfig: enc.encode(talosconfig),
        },
      ],
    };
  });

  serverStream(h, ClusterService.method.healthCheck, async function* (_req, { node }) {
    yield { message: "discovered nodes" };
    yield { message: node.fleet.bootstrapped ? "etcd is healthy" : "waiting for etcd to be bootstrapped" };
  });

  unary(h, InspectService.method.controllerRuntimeDependencies, async () => ({ messages: [{ edges: [] }] }));

  const visible = (resource: Resource, roles: string[]): boolean => {
    const def = DEFINITIONS.find((d) => d.type === resource.metadata?.type);
    return !(def?.sensitive && !roles.includes("os:admin"));
  };

  unary(h, State.method.get, async (req, { node, roles }) => {
    const resource = node.resources.get(`${req.namespace}/${req.type}/${req.id}`);
    if (resource === undefined) {
      throw new StatusError(
        grpc.status.NOT_FOUND,
        `resource ${req.type} ${req.namespace}/${req.id} doesn't exist`,
      );
    }
    if (!visible(resource, roles)) throw new StatusError(grpc.status.PERMISSION_DENIED, "not authorized");
    return { resource };
  });

  serverStream(h, State.method.list, async function* (req, { node, roles }) {
    for (const resource of [...node.resources.values()]) {
      if (
        resource.metadata?.namespace === req.namespace &&
        resource.metadata.type === req.type &&
        visible(resource, roles)
      ) {
        yield { resource };
      }
    }
  });

  serverStream(h, State.method.watch, async function* (req, { node, roles, signal }) {
    const queue: { eventType: EventType; resource: Resource; old?: Resource }[] = [];
    let wake: (() => void) | undefined;
    const matches = (r: Resource): boolean =>
      r.metadata?.namespace === req.namespace &&
      r.metadata.type === req.type &&
      (req.id === undefined || r.metadata.id === req.id) &&
      visible(r, roles);
    const watcher = (eventType: EventType, resource: Resource, old: Resource | undefined): void => {
      if (!matches(resource)) return;
      queue.push(old === undefined ? { eventType, resource } : { eventType, resource, old });
      wake?.();
    };
    // cosi-project/runtime pkg/state/protobuf/server/server.go Watch: a single-resource watch refuses
    // bootstrap contents and label queries; then an empty reply says the watch is ready.
    if (req.id !== undefined && req.options?.bootstrapContents) {
      throw new StatusError(
        grpc.status.UNIMPLEMENTED,
        "bootstrap contents is not implemented for resource watch",
      );
    }
    if (req.id !== undefined && (req.options?.labelQuery.length ?? 0) > 0) {
      throw new StatusError(grpc.status.UNIMPLEMENTED, "label query is not implemented for resource watch");
    }
    node.resourceWatchers.add(watcher);
    try {
      yield { event: [] };
      if (req.id !== undefined && (req.options?.tailEvents ?? 0) <= 0) {
        // cosi-project/runtime pkg/state/impl/inmem/collection.go Watch: the current state first, a
        // tombstone DESTROYED event when the resource does not exist.
        const current = node.resources.get(`${req.namespace}/${req.type}/${req.id}`);
        if (current !== undefined && visible(current, roles)) {
          yield { event: [{ resource: current, eventType: EventType.CREATED }] };
        } else {
          const tombstone = create(ResourceSchema, {
            metadata: { namespace: req.namespace, type: req.type, id: req.id, version: "undefined" },
          });
          yield { event: [{ resource: tombstone, eventType: EventType.DESTROYED }] };
        }
      }
      if (req.id === undefined && req.options?.bootstrapContents) {
        const initial = [...node.resources.values()].filter(matches);
        for (const resource of initial) yield { event: [{ resource, eventType: EventType.CREATED }] };
        if (req.apiVersion >= 1) yield { event: [{ eventType: EventType.BOOTSTRAPPED }] };
      }
      while (!signal.aborted) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
          wake = undefined;
          continue;
        }
        const events = queue.splice(0, queue.length);
        yield { event: events };
      }
    } finally {
      node.resourceWatchers.delete(watcher);
    }
  });

  return h;
}

/**
 * Starts an in-process Talos fleet: every node is its own gRPC server on 127.0.0.1 with real TLS. Nodes
 * boot in maintenance mode (server-only TLS), switch to mutual TLS with the OS CA of an applied machine
 * config, run services, answer Bootstrap once, share one etcd cluster, stream kubeconfig/logs/dmesg/events,
 * serve COSI resources, and proxy `node`-targeted calls to their peers like apid.
 *
 * @example
 * ```ts
 * const emulator = await createTalosEmulator({ nodes: [{ name: "cp1", address: "10.0.0.2" }] });
 * // connect a client to emulator.nodes[0].endpoint with { insecure: true } and apply a config
 * await emulator.close();
 * ```
 */
export async function createTalosEmulator(options: TalosEmulatorOptions): Promise<TalosEmulator> {
  if (options.nodes.length === 0) throw new Error("the emulator needs at least one node");
  const handlers = buildHandlers();
  const fleet: Fleet = {
    options,
    nodes: [],
    callLog: [],
    faults: [...(options.faults ?? [])],
    bootstrapped: false,
    etcdMembers: new Map(),
    find(target) {
      return this.nodes.find((n) => n.address === target || n.name === target);
    },
    caKeyFor(crt) {
      const signer = this.nodes.find((n) => n.config?.ca.crt.trim() === crt.trim() && n.config.ca.key !== "");
      return signer?.config?.ca.key;
    },
    async signerAvailable(crt) {
      const waiting = this.nodes.filter(
        (n) => n.config !== undefined && n.mtlsTls === undefined && n.config.ca.crt.trim() === crt.trim(),
      );
      await Promise.all(
        waiting.map(async (n) => {
          if (await n.issueIdentity()) n.tryStart();
        }),
      );
    },
    onClusterChange() {
      for (const node of this.nodes) {
        if (node.config === undefined) continue;
        const members = this.nodes.filter((n) => n.config !== undefined && n.currentState === "running");
        for (const member of members) {
          node.putResource("cluster", "Members.cluster.talos.dev", member.hostname(), {
            nodeId: member.name,
            addresses: [member.address],
            hostname: member.hostname(),
            machineType: member.role(),
            operatingSystem: `Talos (${member.version})`,
          });
        }
        for (const [name, m] of this.etcdMembers) {
          node.putResource("etcd", "EtcdMembers.etcd.talos.dev", name, {
            memberId: m.id.toString(16),
            hostname: m.hostname,
          });
        }
      }
    },
  };
  for (const spec of options.nodes) fleet.nodes.push(new NodeImpl(spec, fleet, handlers));
  await Promise.all(fleet.nodes.map((n) => n.init()));

  const emulator: TalosEmulator = {
    nodes: fleet.nodes,
    callLog: fleet.callLog,
    node(nameOrAddress) {
      const node = fleet.find(nameOrAddress);
      if (node === undefined) throw new Error(`no emulated node "${nameOrAddress}"`);
      return node;
    },
    faults(fault) {
      fleet.faults.push(...(Array.isArray(fault) ? fault : [fault]));
    },
    clearFaults() {
      fleet.faults.length = 0;
    },
    isBootstrapped() {
      return fleet.bootstrapped;
    },
    async talosconfig(opts = {}) {
      const configured = fleet.nodes.find((n) => n.config !== undefined && n.config.ca.key !== "");
      if (configured?.config === undefined) throw new Error("no node has a config yet");
      const ca = configured.config.ca;
      const client = await issueCertificate({
        ca,
        usage: "client",
        organizations: opts.roles ?? ["os:admin"],
      });
      return buildTalosconfig({
        context: configured.config.clusterName,
        endpoints: opts.endpoints ?? [configured.endpoint],
        nodes: [],
        ca: ca.crt,
        crt: client.crt,
        key: client.key,
      });
    },
    async close() {
      await Promise.all(
        fleet.nodes.map(async (node) => {
          for (const timer of node.timers) clearTimeout(timer);
          node.currentState = "down";
          for (const wake of node.eventWaiters) wake();
          node.dropConnections();
          node.grpcServer.forceShutdown();
          node.maintenanceTls?.close();
          node.mtlsTls?.close();
          await new Promise<void>((resolve) => node.net.close(() => resolve()));
        }),
      );
    },
  };
  Object.defineProperty(emulator, inspect.custom, {
    value: () => `TalosEmulator ${JSON.stringify(emulator)}`,
    enumerable: false,
  });
  Object.defineProperty(emulator, "toJSON", {
    value: () => ({
      nodes: fleet.nodes.map((n) => ({
        name: n.name,
        address: n.address,
        endpoint: n.endpoint,
        state: n.currentState,
      })),
    }),
    enumerable: false,
  });
  return emulator;
}
