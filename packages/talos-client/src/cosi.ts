import type { MessageInitShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { parse as parseYaml } from "yaml";
import { isTalosClientError, TalosClientError } from "./errors.js";
import { ResourceDefinitionSpecSchema } from "./gen/v1alpha1/meta_pb.js";
import { State } from "./gen/v1alpha1/state_pb.js";
import type { Calls } from "./internal/call.js";
import { decodeResource, EVENT_TYPES, iterable } from "./internal/messages.js";
import type { CallOptions, ResourceQuery, TalosClient, TalosResource } from "./types.js";

interface ResourceDefinition {
  type: string;
  namespace: string;
  names: string[];
}

/**
 * COSI resources: get, list and watch by type or alias, resolved through the node's
 * ResourceDefinitions (read once per node and cached).
 */

/**
 * A Get that may succeed once the type is resolved: not found as written, or refused as an unknown
 * type (talos internal/app/resources/access.go answers PermissionDenied "resource type ... is not supported").
 */
function isLookupMiss(error: unknown): boolean {
  return isTalosClientError(error) && (error.code === "NOT_FOUND" || error.code === "PERMISSION_DENIED");
}

export function cosiMethods(c: Calls): Pick<TalosClient, "get" | "list" | "watch"> {
  const definitions = new Map<string, Promise<ResourceDefinition[]>>();

  async function resourceDefinitions(node: string | undefined, opts: CallOptions | undefined) {
    const key = node ?? "";
    let cached = definitions.get(key);
    if (cached === undefined) {
      cached = (async () => {
        const out: ResourceDefinition[] = [];
        for await (const item of c.serverStream(
          State.method.list,
          { namespace: "meta", type: "ResourceDefinitions.meta.cosi.dev" },
          node,
          opts,
        )) {
          const spec = item.resource?.spec;
          if (spec === undefined) continue;
          let type = "";
          let namespace = "";
          let names: string[] = [];
          if (spec.protoSpec.length > 0) {
            const d = fromBinary(ResourceDefinitionSpecSchema, spec.protoSpec);
            type = d.resourceType;
            namespace = d.defaultNamespace;
            names = [d.resourceType, d.displayType, ...d.aliases, ...d.allAliases];
          } else if (spec.yamlSpec !== "") {
            const d = (parseYaml(spec.yamlSpec) ?? {}) as Record<string, unknown>;
            type = String(d.type ?? d.resourceType ?? item.resource?.metadata?.id ?? "");
            namespace = String(d.defaultNamespace ?? "");
            names = [
              type,
              String(d.displayType ?? ""),
              ...((d.aliases as string[]) ?? []),
              ...((d.allAliases as string[]) ?? []),
            ];
          }
          if (type !== "")
            out.push({ type, namespace, names: names.filter((n) => n !== "").map((n) => n.toLowerCase()) });
        }
        return out;
      })();
      cached.catch(() => definitions.delete(key));
      definitions.set(key, cached);
    }
    return cached;
  }

  async function resolveType(query: ResourceQuery): Promise<{ type: string; namespace: string }> {
    const wanted = query.type.toLowerCase();
    const defs = await resourceDefinitions(query.node, query);
    // As talosctl (talos pkg/machinery/client/resources.go ResolveResourceKind): the type or any alias,
    // case-insensitively; more than one match is an error rather than a guess.
    const matched = defs.filter((d) => d.type.toLowerCase() === wanted || d.names.includes(wanted));
    if (matched.length > 1) {
      const types = matched.map((d) => d.type);
      throw new TalosClientError(
        "INVALID_ARGUMENT",
        `resource type "${query.type}" is ambiguous: ${types.join(", ")}; use the full type name`,
        { details: { type: query.type, matches: types } },
      );
    }
    const def = matched[0];
    if (def === undefined) {
      if (query.type.includes(".") && query.namespace !== undefined) {
        return { type: query.type, namespace: query.namespace };
      }
      throw new TalosClientError("NOT_FOUND", `no resource type matches "${query.type}"`, {
        details: { type: query.type },
      });
    }
    return { type: def.type, namespace: query.namespace ?? def.namespace };
  }

  return {
    async get<Spec>(opts: ResourceQuery & { id: string }) {
      const { node, label } = await c.singleNode(opts.node);
      const getAs = (type: string, namespace: string) =>
        c.unary(State.method.get, { namespace, type, id: opts.id }, node, opts, true);
      // A full type with its namespace is asked for as given (one call); only a miss (another casing,
      // a name that is not a type) reads the node's resource definitions to resolve it.
      let named = { type: opts.type, namespace: opts.namespace ?? "" };
      let res =
        opts.namespace !== undefined && opts.type.includes(".")
          ? await getAs(named.type, named.namespace).catch((error: unknown) => {
              if (isLookupMiss(error)) return undefined;
              throw error;
            })
          : undefined;
      if (res === undefined) {
        named = await resolveType({ ...opts, ...(node === undefined ? {} : { node }) });
        res = await getAs(named.type, named.namespace);
      }
      const { type, namespace } = named;
      const resource = decodeResource(res.resource, label);
      if (resource === undefined) {
        throw new TalosClientError("NOT_FOUND", `${type} ${namespace}/${opts.id} not found`, {
          details: { node: label },
        });
      }
      return resource as TalosResource<Spec>;
    },

    async list<Spec>(opts: ResourceQuery) {
      const { node, label } = await c.singleNode(opts.node);
      const { type, namespace } = await resolveType({ ...opts, ...(node === undefined ? {} : { node }) });
      const out: TalosResource<Spec>[] = [];
      for await (const item of c.serverStream(State.method.list, { namespace, type }, node, opts)) {
        const resource = decodeResource(item.resource, label);
        if (resource !== undefined) out.push(resource as TalosResource<Spec>);
      }
      return out;
    },

    watch(opts) {
      return iterable(async function* () {
        const { node, label } = await c.singleNode(opts.node);
        const { type, namespace } = await resolveType({
          ...opts,
          ...(node === undefined ? {} : { node }),
        });
        // A single-resource watch refuses bootstrap contents (UNIMPLEMENTED) and sends the current
        // state (or a DESTROYED tombstone) first on its own: cosi-project/runtime server.go Watch.
        const request: MessageInitShape<typeof State.method.watch.input> = {
          namespace,
          type,
          apiVersion: 1,
          options: {
            bootstrapContents: opts.id === undefined && (opts.bootstrapContents ?? true),
            tailEvents: opts.tailEvents ?? 0,
          },
        };
        if (opts.id !== undefined) request.id = opts.id;
        for await (const response of c.serverStream(State.method.watch, request, node, opts)) {
          for (const event of response.event) {
            yield {
              type: EVENT_TYPES[event.eventType] ?? "noop",
              resource: decodeResource(event.resource, label),
              old: decodeResource(event.old, label),
              error: event.error,
            };
          }
        }
      });
    },
  };
}
