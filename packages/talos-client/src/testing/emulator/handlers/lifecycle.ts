import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ImageService } from "../../../gen/machine/image_pb.js";
import { LifecycleService } from "../../../gen/machine/lifecycle_pb.js";
import {
  ApplyConfigurationRequest_Mode,
  MachineService,
  MachineStatusEvent_MachineStage,
  SequenceEvent_Action,
  SequenceEventSchema,
} from "../../../gen/machine/machine_pb.js";
import type { ApplyModeName } from "../../talos-lines.js";
import { parseMachineConfig } from "../machine-config.js";
import { type Route, serverStream, unary } from "../route.js";
import type { NodeImpl } from "../store.js";
import { type ParsedConfig, StatusError } from "../types.js";
import { decodeSnapshot } from "./etcd.js";
import { requireConfigured, requireControlPlane } from "./guards.js";

const M = MachineService.method;

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
/** Machine lifecycle: apply, bootstrap, reboot, shutdown, reset, upgrade (MachineService, ImageService, LifecycleService). */
export const lifecycleRoutes: Route[] = [
  unary(M.applyConfiguration, async (req, { node, roles, maintenance }) => {
    const config = parseMachineConfig(
      new TextDecoder().decode(req.data),
      !maintenance && node.config !== undefined,
    );
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
  }),
  // talos v1alpha1_server.go Bootstrap and services/etcd.go: refused while /var/lib/etcd holds data;
  // with recover_etcd, etcd starts from the snapshot EtcdRecover uploaded, or fails to start (the
  // call itself succeeds) when there is none or it does not pass the hash check
  unary(M.bootstrap, async (req, { node }) => {
    requireControlPlane(node, "Bootstrap");
    if (node.currentState !== "running") {
      throw new StatusError(grpc.status.FAILED_PRECONDITION, "bootstrap is not available yet");
    }
    if (node.fleet.bootstrapped || node.etcdDataDir) {
      throw new StatusError(grpc.status.ALREADY_EXISTS, "etcd data directory is not empty");
    }
    if (req.recoverEtcd) {
      const upload = node.recoverySnapshot;
      node.recoverySnapshot = undefined;
      const restored =
        upload === undefined
          ? "error verifying snapshot: no snapshot was uploaded"
          : decodeSnapshot(upload, req.recoverSkipHashCheck);
      if (typeof restored === "string") {
        node.setService("etcd", "Failed", false);
        return { messages: [{}] };
      }
      node.fleet.etcd = restored;
    } else node.fleet.etcd = { revision: 1, keys: new Map() };
    node.fleet.bootstrapped = true;
    node.joinEtcd();
    for (const peer of node.fleet.nodes) {
      if (peer !== node && peer.role() === "controlplane" && peer.currentState === "running") peer.joinEtcd();
    }
    return { messages: [{}] };
  }),
  unary(M.reboot, async (req, { node }) => {
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
  }),
  unary(M.shutdown, async (_req, { node }) => {
    const actorId = node.nextActor();
    node.later(20, () => {
      node.currentState = "halted";
      node.dropConnections();
    });
    return { messages: [{ actorId }] };
  }),
  unary(M.reset, async (req, { node }) => {
    requireConfigured(node);
    const actorId = node.nextActor();
    node.currentState = "resetting";
    node.setStage(MachineStatusEvent_MachineStage.RESETTING, false);
    if (req.graceful && node.role() === "controlplane") node.fleet.etcdMembers.delete(node.name);
    // labels that keep STATE (the machine config) wipe only what they name: EPHEMERAL holds etcd's data
    const labels = req.systemPartitionsToWipe.filter((p) => p.wipe).map((p) => p.label);
    if (labels.length > 0 && !labels.includes("STATE")) {
      if (labels.includes("EPHEMERAL")) node.later(20, () => node.wipeEphemeral(req.reboot));
      else if (req.reboot) node.later(20, () => node.rebootNow());
      return { messages: [{ actorId }] };
    }
    node.later(20, () => node.wipe(req.reboot));
    return { messages: [{ actorId }] };
  }),
  unary(M.upgrade, async (req, { node }) => {
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
  }),
  serverStream(ImageService.method.pull, async function* (req) {
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
  }),
  serverStream(LifecycleService.method.upgrade, async function* (req, { node }) {
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
  }),
];
