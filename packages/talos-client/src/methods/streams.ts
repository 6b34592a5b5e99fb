import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { TalosClientError } from "../errors.js";
import { ContainerDriver } from "../gen/common/common_pb.js";
import { MachineService } from "../gen/machine/machine_pb.js";
import type { Calls } from "../internal/call.js";
import { checkMetadata, eventRegistry, iterable, lines, untar } from "../internal/messages.js";
import type { TalosClient } from "../types.js";

/** Streams and files of one node: kubeconfig, logs, dmesg and machine events. */
export function streamMethods(c: Calls): Pick<TalosClient, "kubeconfig" | "logs" | "dmesg" | "events"> {
  return {
    async kubeconfig(opts = {}) {
      const { node, label } = await c.singleNode(opts.node);
      const archive = await c.readData(MachineService.method.kubeconfig, {}, { node, label }, opts);
      const file = untar(archive, label, "a kubeconfig")[0];
      if (file === undefined) {
        throw new TalosClientError("INTERNAL", `${label} sent an empty kubeconfig archive`, {
          details: { node: label },
        });
      }
      return new TextDecoder().decode(file.content);
    },

    logs(opts) {
      return iterable(async function* () {
        const { node } = await c.singleNode(opts.node);
        yield* lines(
          c.serverStream(
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
        const { node } = await c.singleNode(opts.node);
        yield* lines(
          c.serverStream(
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
        const { node, label } = await c.singleNode(opts.node);
        for await (const event of c.serverStream(
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
  };
}
