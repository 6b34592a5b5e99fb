import type { Writable } from "node:stream";
import { TalosClientError } from "../errors.js";
import { MachineService } from "../gen/machine/machine_pb.js";
import type { Calls } from "../internal/call.js";
import { checkMetadata, first, firstIfAny, writeChunk } from "../internal/messages.js";
import type { TalosClient } from "../types.js";

/** etcd members, status, snapshot and recovery. */
export function etcdMethods(
  c: Calls,
): Pick<
  TalosClient,
  | "etcdMemberList"
  | "etcdRemoveMemberByID"
  | "etcdLeaveCluster"
  | "etcdForfeitLeadership"
  | "etcdStatus"
  | "etcdSnapshot"
  | "etcdRecover"
> {
  return {
    async etcdMemberList(opts = {}) {
      const { label, messages } = await c.onNode(
        opts,
        MachineService.method.etcdMemberList,
        { queryLocal: opts.queryLocal ?? false },
        true,
      );
      return first(messages, label, "etcd member list").members.map((m) => ({
        id: m.id,
        hostname: m.hostname,
        peerUrls: [...m.peerUrls],
        clientUrls: [...m.clientUrls],
        isLearner: m.isLearner,
      }));
    },

    async etcdRemoveMemberByID(opts) {
      const { label, messages } = await c.onNode(
        opts,
        MachineService.method.etcdRemoveMemberByID,
        { memberId: opts.memberId },
        false,
      );
      firstIfAny(messages, label);
    },

    async etcdLeaveCluster(opts = {}) {
      const { label, messages } = await c.onNode(opts, MachineService.method.etcdLeaveCluster, {}, false);
      firstIfAny(messages, label);
    },

    async etcdForfeitLeadership(opts = {}) {
      const { label, messages } = await c.onNode(
        opts,
        MachineService.method.etcdForfeitLeadership,
        {},
        false,
      );
      return { member: firstIfAny(messages, label)?.member ?? "" };
    },

    async etcdStatus(opts = {}) {
      return c.fanOutFirst(opts, MachineService.method.etcdStatus, {}, "etcd status", (m, label) => {
        const status = m.memberStatus;
        if (status === undefined) throw new TalosClientError("INTERNAL", `${label} returned no etcd status`);
        return status;
      });
    },

    async etcdSnapshot(opts) {
      const { node, label } = await c.singleNode(opts.node);
      const destination = opts.destination;
      const writer =
        "getWriter" in destination && typeof destination.getWriter === "function"
          ? (destination as WritableStream<Uint8Array>).getWriter()
          : (destination as Writable);
      let bytes = 0;
      try {
        for await (const data of c.serverStream(MachineService.method.etcdSnapshot, {}, node, opts)) {
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
      const target = await c.singleNode(opts.node);
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
      const res = await c.clientStream(MachineService.method.etcdRecover, chunks(), target, opts);
      firstIfAny(res.messages, target.label);
      return { node: target.label, bytes };
    },
  };
}
