import { TalosClientError } from "../errors.js";
import { ContainerDriver } from "../gen/common/common_pb.js";
import type { FileInfo } from "../gen/machine/machine_pb.js";
import { MachineService } from "../gen/machine/machine_pb.js";
import { StorageService } from "../gen/storage/storage_pb.js";
import { TimeService } from "../gen/time/time_pb.js";
import type { Calls } from "../internal/call.js";
import { checkMetadata, first, toDate, toServiceStatus, untar } from "../internal/messages.js";
import type { NodeCallOptions, TalosClient } from "../types.js";

const M = MachineService.method;
type ServiceCommand = typeof M.serviceStart | typeof M.serviceStop | typeof M.serviceRestart;

/** MachineService reads and service control, StorageService, TimeService. */
export function machineMethods(
  c: Calls,
): Pick<
  TalosClient,
  | "version"
  | "hostname"
  | "serviceList"
  | "serviceStart"
  | "serviceStop"
  | "serviceRestart"
  | "processes"
  | "mounts"
  | "loadAvg"
  | "memory"
  | "systemStat"
  | "containers"
  | "disks"
  | "time"
  | "readFile"
  | "copy"
  | "listFiles"
  | "generateClientConfiguration"
> {
  const serviceCommand = async (
    opts: NodeCallOptions & { id: string },
    method: ServiceCommand,
    what: string,
  ): Promise<string> => {
    // The three requests and replies have the same shape ({ id } and { resp }).
    const { label, messages } = await c.onNode(
      opts,
      method as ServiceCommand & typeof M.serviceStart,
      { id: opts.id },
      false,
    );
    return first(messages, label, what).resp;
  };

  return {
    async version(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.version, {}, "version", (m) => {
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
      return c.fanOutFirst(opts, MachineService.method.hostname, {}, "hostname", (m) => m.hostname);
    },

    async serviceList(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.serviceList, {}, "service list", (m) =>
        m.services.map(toServiceStatus),
      );
    },

    serviceStart: (opts) => serviceCommand(opts, MachineService.method.serviceStart, "service start"),

    serviceStop: (opts) => serviceCommand(opts, MachineService.method.serviceStop, "service stop"),

    serviceRestart: (opts) => serviceCommand(opts, MachineService.method.serviceRestart, "service restart"),

    async processes(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.processes, {}, "processes", (m) => m.processes);
    },

    async mounts(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.mounts, {}, "mounts", (m) => m.stats);
    },

    async loadAvg(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.loadAvg, {}, "load average", (m) => ({
        load1: m.load1,
        load5: m.load5,
        load15: m.load15,
      }));
    },

    async memory(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.memory, {}, "memory", (m, label) => {
        const info = m.meminfo;
        if (info === undefined) throw new TalosClientError("INTERNAL", `${label} returned no meminfo`);
        return info;
      });
    },

    async systemStat(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.systemStat, {}, "system stat", (m) => m);
    },

    async containers(opts = {}) {
      const request = {
        namespace: opts.namespace ?? (opts.driver === "cri" ? "k8s.io" : "system"),
        driver: opts.driver === "cri" ? ContainerDriver.CRI : ContainerDriver.CONTAINERD,
      };
      return c.fanOutFirst(
        opts,
        MachineService.method.containers,
        request,
        "containers",
        (m) => m.containers,
      );
    },

    async disks(opts = {}) {
      return c.fanOutFirst(opts, StorageService.method.disks, {}, "disks", (m) => m.disks);
    },

    async time(opts = {}) {
      return c.fanOut(opts, async (node, label, call) => {
        const res =
          opts.server === undefined
            ? await call(TimeService.method.time, {}, node, opts, true)
            : await call(TimeService.method.timeCheck, { server: opts.server }, node, opts, true);
        const t = first(res.messages, label, "time");
        return { server: t.server, localTime: toDate(t.localtime), remoteTime: toDate(t.remotetime) };
      });
    },

    async readFile(opts) {
      const { node, label } = await c.singleNode(opts.node);
      return new Uint8Array(
        await c.readData(MachineService.method.read, { path: opts.path }, { node, label }, opts),
      );
    },

    async copy(opts) {
      const { node, label } = await c.singleNode(opts.node);
      const archive = await c.readData(
        MachineService.method.copy,
        { rootPath: opts.rootPath },
        { node, label },
        opts,
      );
      return untar(archive, label, "an archive");
    },

    async listFiles(opts) {
      const { node, label } = await c.singleNode(opts.node);
      const out: FileInfo[] = [];
      for await (const info of c.serverStream(
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

    async generateClientConfiguration(opts) {
      const { node, label } = await c.singleNode(opts.node);
      if (!(opts.crtTtlMs > 0)) throw new TalosClientError("INVALID_ARGUMENT", "crtTtlMs must be positive");
      const res = await c.unary(
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
  };
}
