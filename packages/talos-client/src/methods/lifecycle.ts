import type { MessageInitShape } from "@bufbuild/protobuf";
import { TalosClientError } from "../errors.js";
import { MachineService, RebootRequest_Mode, ResetRequest_WipeMode } from "../gen/machine/machine_pb.js";
import type { Calls } from "../internal/call.js";
import { APPLY_MODES, applyModeName, first, firstIfAny, parseTag } from "../internal/messages.js";
import type { TalosClient } from "../types.js";

/** Apply, bootstrap, reboot, shutdown and reset (upgrade: upgrade.ts). */
export function lifecycleMethods(
  c: Calls,
): Pick<TalosClient, "applyConfiguration" | "bootstrap" | "reboot" | "shutdown" | "reset"> {
  return {
    async applyConfiguration(opts) {
      const { node, label } = await c.singleNode(opts.node);
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
      const res = await c.unary(MachineService.method.applyConfiguration, request, node, opts, true);
      const m = first(res.messages, label, "apply");
      return {
        node: label,
        mode: applyModeName(m.mode),
        modeDetails: m.modeDetails,
        warnings: [...m.warnings],
      };
    },

    async bootstrap(opts = {}) {
      const { label, messages } = await c.onNode(
        opts,
        MachineService.method.bootstrap,
        { recoverEtcd: opts.recoverEtcd ?? false, recoverSkipHashCheck: opts.recoverSkipHashCheck ?? false },
        false,
      );
      firstIfAny(messages, label);
    },

    async reboot(opts = {}) {
      const { node, label } = await c.singleNode(opts.node);
      const mode =
        opts.mode === "powercycle"
          ? RebootRequest_Mode.POWERCYCLE
          : opts.mode === "force"
            ? RebootRequest_Mode.FORCE
            : RebootRequest_Mode.DEFAULT;
      if (mode === RebootRequest_Mode.FORCE) {
        // FORCE=2 arrived in Talos 1.12 (api/machine/machine.proto); 1.11 would take it for a graceful reboot.
        const res = await c.unary(MachineService.method.version, {}, node, opts, true);
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
      const res = await c.unary(MachineService.method.reboot, { mode }, node, opts, false);
      return {
        node: label,
        actorId: firstIfAny(res.messages, label)?.actorId ?? "",
      };
    },

    async shutdown(opts = {}) {
      const { label, messages } = await c.onNode(
        opts,
        MachineService.method.shutdown,
        { force: opts.force ?? false },
        false,
      );
      return {
        node: label,
        actorId: firstIfAny(messages, label)?.actorId ?? "",
      };
    },

    async reset(opts = {}) {
      const { node, label } = await c.singleNode(opts.node);
      const mode =
        opts.mode === "system-disk"
          ? ResetRequest_WipeMode.SYSTEM_DISK
          : opts.mode === "user-disks"
            ? ResetRequest_WipeMode.USER_DISKS
            : ResetRequest_WipeMode.ALL;
      const res = await c.unary(
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
  };
}
