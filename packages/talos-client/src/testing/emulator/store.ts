import { isIP } from "node:net";
import type { Server as TlsServer } from "node:tls";
import { inspect } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { stringify } from "yaml";
import {
  MachineStatusEvent_MachineStage,
  MachineStatusEventSchema,
  ServiceStateEvent_Action,
  ServiceStateEventSchema,
} from "../../gen/machine/machine_pb.js";
import { MachineConfigSpecSchema } from "../../gen/resource/config/config_pb.js";
import {
  ResourceDefinitionSpec_Sensitivity,
  ResourceDefinitionSpecSchema,
} from "../../gen/v1alpha1/meta_pb.js";
import type { Resource } from "../../gen/v1alpha1/resource_pb.js";
import { ResourceSchema } from "../../gen/v1alpha1/resource_pb.js";
import { EventType } from "../../gen/v1alpha1/state_pb.js";
import { spkiFingerprint } from "../../internal/pem.js";
import { generateTalosCa, issueCertificate } from "../pki.js";
import { type TalosLineBehaviour, talosLine } from "../talos-lines.js";
import type { NodeListener } from "./listener.js";
import { DEFINITIONS } from "./resource-definitions.js";
import {
  type EmulatedNode,
  type EmulatedNodeState,
  type EmulatorCallLogEntry,
  type EmulatorFault,
  type EmulatorNodeSpec,
  type ParsedConfig,
  type ServiceState,
  StatusError,
  type StoredEvent,
  type TalosEmulatorOptions,
} from "./types.js";
import { randomId } from "./util.js";

/** The fleet's shared state: nodes, call log, faults, and the one etcd cluster. */
export interface Fleet {
  options: TalosEmulatorOptions;
  nodes: NodeImpl[];
  callLog: EmulatorCallLogEntry[];
  faults: (EmulatorFault & { remaining?: number })[];
  bootstrapped: boolean;
  etcdMembers: Map<string, { id: bigint; hostname: string; address: string }>;
  /** The etcd keyspace the cluster holds (what a snapshot carries and a recovery restores). */
  etcd: EtcdData;
  /** Forgets the cluster's etcd once no control plane holds its data any more (every one wiped). */
  checkEtcdData(): void;
  find(target: string): NodeImpl | undefined;
  onClusterChange(): void;
  caKeyFor(crt: string): string | undefined;
  signerAvailable(crt: string): Promise<void>;
}

/** The keyspace of the emulated etcd cluster. */
export interface EtcdData {
  revision: number;
  keys: Map<string, string>;
}

/** The fleet's state store, empty of nodes. */
export function createFleet(options: TalosEmulatorOptions): Fleet {
  return {
    options,
    nodes: [],
    callLog: [],
    faults: [...(options.faults ?? [])],
    bootstrapped: false,
    etcdMembers: new Map(),
    etcd: { revision: 0, keys: new Map() },
    checkEtcdData() {
      const holders = [...this.etcdMembers.keys()].filter((name) => this.find(name)?.etcdDataDir);
      if (!this.bootstrapped || holders.length > 0) return;
      this.bootstrapped = false;
      this.etcdMembers.clear();
      this.etcd = { revision: 0, keys: new Map() };
    },
    find(target) {
      return this.nodes.find((n) => n.address === target || n.name === target);
    },
    caKeyFor(crt) {
      const signer = this.nodes.find((n) => n.config?.ca.crt.trim() === crt.trim() && n.config.ca.key !== "");
      return signer?.config?.ca.key;
    },
    async signerAvailable(crt) {
      const waiting = this.nodes.filter(
        (n) =>
          n.config !== undefined && n.listener.mtlsTls === undefined && n.config.ca.crt.trim() === crt.trim(),
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
}

/**
 * One node's state: lifecycle, applied config, services, events, COSI resources and its share of the
 * etcd cluster, with the transitions handlers and timers drive. Its network side is a {@link NodeListener}.
 */
export class NodeImpl implements EmulatedNode {
  readonly name: string;
  readonly address: string;
  endpoint = "";
  maintenanceSpki = "";
  version: string;
  pendingVersion: string | undefined;
  /** {@link hangOnNextBoot} was called: the next boot stops before the node comes back. */
  hangBoot = false;
  /** The rest of a boot held back by a hang, run by start(). */
  heldBoot: (() => Promise<void>) | undefined;
  stagedConfig: ParsedConfig | undefined;
  currentState: EmulatedNodeState = "maintenance";
  config: ParsedConfig | undefined;
  services: Map<string, ServiceState> = new Map();
  events: StoredEvent[] = [];
  eventWaiters: Set<() => void> = new Set();
  resources: Map<string, Resource> = new Map();
  resourceWatchers: Set<(type: EventType, resource: Resource, old: Resource | undefined) => void> = new Set();
  applying = false;
  readonly listener: NodeListener;
  actorCounter = 0;
  rebootMode: "default" | "powercycle" | "force" | undefined;
  resourceVersion = 1;
  timers: Set<NodeJS.Timeout> = new Set();
  /** /var/lib/etcd holds data (the node joined etcd); the EPHEMERAL partition holds it. */
  etcdDataDir = false;
  /** A snapshot uploaded with EtcdRecover, waiting for Bootstrap with recover_etcd. */
  recoverySnapshot: Uint8Array | undefined;

  constructor(
    spec: EmulatorNodeSpec,
    readonly fleet: Fleet,
    listen: (node: NodeImpl) => NodeListener,
  ) {
    this.name = spec.name;
    this.address = spec.address;
    const version = spec.talosVersion ?? "v1.13.9";
    this.version = version.startsWith("v") ? version : `v${version}`;
    this.listener = listen(this);
    Object.defineProperty(this, inspect.custom, {
      value: () => `EmulatedNode ${JSON.stringify(this.toJSON())}`,
      enumerable: false,
    });
  }

  currentTls(): TlsServer | undefined {
    if (this.currentState === "down" || this.currentState === "halted" || this.currentState === "rebooting") {
      return undefined;
    }
    if (this.currentState === "upgrading") return undefined;
    // A configured node without its identity yet (a worker waiting for trustd) refuses connections.
    return this.config === undefined ? this.listener.maintenanceTls : this.listener.mtlsTls;
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
    this.listener.setMaintenanceIdentity({ cert: cert.crt, key: cert.key, chain: maintenanceCa.crt });
    this.endpoint = await this.listener.listen();
    this.seedResources();
  }

  /** The Talos line this node runs now (changes with an upgrade). */
  line(): TalosLineBehaviour {
    return talosLine(this.version);
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
    this.listener.dropConnections();
  }

  start(): void {
    if (this.currentState !== "down") return;
    const boot = this.heldBoot;
    if (boot !== undefined) {
      this.heldBoot = undefined;
      this.later(0, boot);
      return;
    }
    this.currentState = this.config === undefined ? "maintenance" : "running";
  }

  hangOnNextBoot(): void {
    this.hangBoot = true;
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
    this.listener.dropConnections();
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
    // etcd runs on its own data, or joins a cluster that has quorum to add it; otherwise it waits
    const joins = cp && this.fleet.bootstrapped && this.canJoinEtcd();
    for (const id of ids) {
      if (id === "etcd") this.setService("etcd", joins ? "Running" : "Preparing", joins);
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
    if (joins) this.joinEtcd();
    this.fleet.onClusterChange();
  }

  /**
   * A member with its data restarts; a node without data joins only while a majority of the
   * members runs on theirs (etcd needs quorum to add a member; a wiped member is still counted).
   */
  canJoinEtcd(): boolean {
    const members = [...this.fleet.etcdMembers.keys()];
    if (members.includes(this.name) && this.etcdDataDir) return true;
    const alive = members.filter((name) => {
      const peer = this.fleet.find(name);
      return peer !== this && peer?.etcdDataDir === true && peer.currentState === "running";
    });
    return alive.length > members.length / 2;
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
    this.etcdDataDir = true;
    if (this.fleet.etcdMembers.has(this.name)) {
      if (this.services.get("etcd")?.state !== "Running") this.setService("etcd", "Running", true);
      return;
    }
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
    this.listener.setMutualIdentity(undefined);
    await this.issueIdentity();
    if (config.ca.key !== "") await this.fleet.signerAvailable(config.ca.crt);
    if (first) {
      this.currentState = "booting";
      this.setStage(MachineStatusEvent_MachineStage.BOOTING, false);
      const maintenanceSockets = [...this.listener.sockets];
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
    this.listener.setMutualIdentity({ cert: server.crt, key: server.key }, config.ca.crt);
    return true;
  }

  tryStart(): void {
    if (this.currentState === "booting" && this.listener.mtlsTls !== undefined) this.startServices();
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
    this.etcdDataDir = false;
    this.recoverySnapshot = undefined;
    this.fleet.checkEtcdData();
    this.deleteResource("config", "MachineConfigs.config.talos.dev", "v1alpha1");
    this.currentState = reboot ? "maintenance" : "halted";
    this.setStage(
      reboot ? MachineStatusEvent_MachineStage.MAINTENANCE : MachineStatusEvent_MachineStage.SHUTTING_DOWN,
      reboot,
    );
    this.dropConnections();
    this.fleet.onClusterChange();
  }

  /**
   * A reset that wipes EPHEMERAL but keeps STATE (talos internal/integration/api/etcd-recover.go does
   * this to every control plane before a recovery): the machine config stays, etcd's data directory
   * and the control-plane pods go, and the node boots again (etcd waits to be bootstrapped or joined).
   */
  wipeEphemeral(reboot: boolean): void {
    for (const resource of [...this.resources.values()]) {
      const m = resource.metadata;
      if (m?.type === "StaticPodStatuses.kubernetes.talos.dev")
        this.deleteResource(m.namespace, m.type, m.id);
    }
    // still a member (now without data) until it leaves or is removed
    this.etcdDataDir = false;
    this.recoverySnapshot = undefined;
    this.fleet.checkEtcdData();
    this.fleet.onClusterChange();
    if (reboot) this.rebootNow();
    else {
      this.currentState = "halted";
      this.setStage(MachineStatusEvent_MachineStage.SHUTTING_DOWN, false);
      this.dropConnections();
    }
  }

  rebootNow(then?: () => void): void {
    this.currentState = "rebooting";
    this.setStage(MachineStatusEvent_MachineStage.REBOOTING, false);
    // Well after the reply has gone out (20 ms raced it on a busy machine); back up after that.
    this.later(50, () => this.dropConnections());
    this.later(Math.max(60, this.fleet.options.rebootDelayMs ?? 60), async () => {
      if (this.hangBoot) {
        // the machine does not come back: the rest of the boot waits for start()
        this.hangBoot = false;
        this.currentState = "down";
        this.dropConnections();
        this.heldBoot = () => this.finishBoot(then);
        return;
      }
      await this.finishBoot(then);
    });
  }

  /** The end of a reboot: the staged config, the new version, then maintenance or the services. */
  async finishBoot(then?: () => void): Promise<void> {
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
  }
}
