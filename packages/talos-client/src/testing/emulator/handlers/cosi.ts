import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { Resource } from "../../../gen/v1alpha1/resource_pb.js";
import { ResourceSchema } from "../../../gen/v1alpha1/resource_pb.js";
import { EventType, State } from "../../../gen/v1alpha1/state_pb.js";
import { DEFINITIONS } from "../resource-definitions.js";
import { type Route, serverStream, unary } from "../route.js";
import { StatusError } from "../types.js";

const visible = (resource: Resource, roles: string[]): boolean => {
  const def = DEFINITIONS.find((d) => d.type === resource.metadata?.type);
  return !(def?.sensitive && !roles.includes("os:admin"));
};

/** COSI State: get, list and watch of the node's resources (sensitive ones for os:admin only). */
export const cosiRoutes: Route[] = [
  unary(State.method.get, async (req, { node, roles }) => {
    const resource = node.resources.get(`${req.namespace}/${req.type}/${req.id}`);
    if (resource === undefined) {
      throw new StatusError(
        grpc.status.NOT_FOUND,
        `resource ${req.type} ${req.namespace}/${req.id} doesn't exist`,
      );
    }
    if (!visible(resource, roles)) throw new StatusError(grpc.status.PERMISSION_DENIED, "not authorized");
    return { resource };
  }),
  serverStream(State.method.list, async function* (req, { node, roles }) {
    for (const resource of [...node.resources.values()]) {
      if (
        resource.metadata?.namespace === req.namespace &&
        resource.metadata.type === req.type &&
        visible(resource, roles)
      ) {
        yield { resource };
      }
    }
  }),
  serverStream(State.method.watch, async function* (req, { node, roles, signal }) {
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
  }),
];
