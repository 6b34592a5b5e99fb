import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { MachineService } from "../../../gen/machine/machine_pb.js";
import { packTarGz } from "../../../internal/tar.js";
import { type Route, serverStream, unary } from "../route.js";
import type { NodeImpl } from "../store.js";
import { type HandlerContext, StatusError } from "../types.js";
import { requireConfigured } from "./guards.js";

const M = MachineService.method;

const serviceCommand =
  (verb: "start" | "stop" | "restart") =>
  async (req: { id: string }, { node }: HandlerContext) => {
    requireConfigured(node);
    if (!node.services.has(req.id))
      throw new StatusError(grpc.status.NOT_FOUND, `service "${req.id}" not found`);
    node.setService(req.id, verb === "stop" ? "Finished" : "Running", verb !== "stop");
    return { messages: [{ resp: `Service "${req.id}" ${verb === "stop" ? "stopped" : `${verb}ed`}` }] };
  };

const files = (node: NodeImpl): Map<string, string> =>
  new Map([
    ["/etc/hostname", `${node.hostname()}\n`],
    ["/etc/os-release", `NAME="Talos"\nID=talos\nVERSION_ID=${node.version}\n`],
    ["/var/log/machined.log", "[talos] emulated\n"],
  ]);

/** MachineService: version, hostname, services, processes, mounts, files and system stats. */
export const machineRoutes: Route[] = [
  unary(M.version, async (_req, { node }) => ({
    messages: [
      {
        metadata: {},
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
  })),
  unary(M.hostname, async (_req, { node }) => ({ messages: [{ hostname: node.hostname() }] })),
  unary(M.serviceList, async (_req, { node }) => ({
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
  })),
  unary(M.serviceStart, serviceCommand("start")),
  unary(M.serviceStop, serviceCommand("stop")),
  unary(M.serviceRestart, serviceCommand("restart")),
  unary(M.processes, async (_req, { node }) => ({
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
  })),
  unary(M.mounts, async () => ({
    messages: [
      {
        stats: [
          { filesystem: "/dev/sda5", size: 100_000_000_000n, available: 80_000_000_000n, mountedOn: "/var" },
          { filesystem: "/dev/sda4", size: 100_000_000n, available: 90_000_000n, mountedOn: "/system/state" },
        ],
      },
    ],
  })),
  unary(M.loadAvg, async () => ({ messages: [{ load1: 0.25, load5: 0.5, load15: 0.75 }] })),
  serverStream(M.read, async function* (req, { node }) {
    const content = files(node).get(req.path);
    if (content === undefined)
      throw new StatusError(grpc.status.NOT_FOUND, `open ${req.path}: no such file or directory`);
    yield { bytes: new TextEncoder().encode(content) };
  }),
  serverStream(M.copy, async function* (req, { node }) {
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
  }),
  serverStream(M.list, async function* (req, { node }) {
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
  }),
  unary(M.memory, async () => ({
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
  })),
  unary(M.systemStat, async () => ({
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
  })),
  unary(M.containers, async (req, { node }) => ({
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
  })),
];
