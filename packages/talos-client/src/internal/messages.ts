import type { Writable } from "node:stream";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { parse as parseYaml } from "yaml";
import { TalosClientError } from "../errors.js";
import type { Data, Metadata } from "../gen/common/common_pb.js";
import type { ServiceInfo as ServiceInfoMessage } from "../gen/machine/machine_pb.js";
import {
  AddressEventSchema,
  ApplyConfigurationRequest_Mode,
  ConfigLoadErrorEventSchema,
  ConfigValidationErrorEventSchema,
  MachineStatusEventSchema,
  PhaseEventSchema,
  RestartEventSchema,
  SequenceEventSchema,
  ServiceStateEventSchema,
  TaskEventSchema,
} from "../gen/machine/machine_pb.js";
import { MachineConfigSpecSchema } from "../gen/resource/config/config_pb.js";
import type { Resource } from "../gen/v1alpha1/resource_pb.js";
import { EventType } from "../gen/v1alpha1/state_pb.js";
import type { ApplyMode, ResourceWatchEvent, ServiceStatus, TalosResource } from "../types.js";
import { unpackTarGz } from "./tar.js";

export const APPLY_MODES: Record<ApplyMode, ApplyConfigurationRequest_Mode> = {
  auto: ApplyConfigurationRequest_Mode.AUTO,
  "no-reboot": ApplyConfigurationRequest_Mode.NO_REBOOT,
  reboot: ApplyConfigurationRequest_Mode.REBOOT,
  staged: ApplyConfigurationRequest_Mode.STAGED,
  try: ApplyConfigurationRequest_Mode.TRY,
};

export const EVENT_TYPES: Record<number, ResourceWatchEvent["type"]> = {
  [EventType.CREATED]: "created",
  [EventType.UPDATED]: "updated",
  [EventType.DESTROYED]: "destroyed",
  [EventType.BOOTSTRAPPED]: "bootstrapped",
  [EventType.ERRORED]: "errored",
  [EventType.NOOP]: "noop",
};

export const eventRegistry: Registry = createRegistry(
  SequenceEventSchema,
  PhaseEventSchema,
  TaskEventSchema,
  ServiceStateEventSchema,
  RestartEventSchema,
  ConfigLoadErrorEventSchema,
  ConfigValidationErrorEventSchema,
  AddressEventSchema,
  MachineStatusEventSchema,
);

export function checkMetadata(metadata: Metadata | undefined, node: string): void {
  if (metadata !== undefined && metadata.error !== "") {
    throw new TalosClientError("NODE_ERROR", `${node}: ${metadata.error}`, {
      details: { node, grpcCode: metadata.status?.code },
    });
  }
}

/** The per-node reply message of a unary Talos RPC (its response's `messages` element). */
export type Reply<O extends DescMessage> =
  MessageShape<O> extends { messages: (infer M extends { metadata?: Metadata | undefined })[] } ? M : never;

export function first<T extends { metadata?: Metadata | undefined }>(
  messages: T[],
  node: string,
  what: string,
): T {
  const message = messages[0];
  if (message === undefined) {
    throw new TalosClientError("INTERNAL", `${node} returned no ${what} message`, { details: { node } });
  }
  checkMetadata(message.metadata, node);
  return message;
}

/** Unpacks a node's tar.gz payload; `what` names it in the error ("a kubeconfig"). */
export function untar(archive: Uint8Array, node: string, what: string): ReturnType<typeof unpackTarGz> {
  try {
    return unpackTarGz(archive);
  } catch (cause) {
    throw new TalosClientError("INTERNAL", `${node} sent ${what} that is not a tar.gz`, {
      cause,
      details: { node },
    });
  }
}

/** An AsyncIterable that starts a fresh generator on each iteration (nothing runs until iterated). */
export function iterable<T>(generate: () => AsyncGenerator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: generate };
}

/** The first reply if there is one, checked for a node error (a mutation may reply with no message). */
export function firstIfAny<T extends { metadata?: Metadata | undefined }>(
  messages: T[],
  node: string,
): T | undefined {
  const message = messages[0];
  if (message !== undefined) checkMetadata(message.metadata, node);
  return message;
}

export function toDate(ts: Parameters<typeof timestampDate>[0] | undefined): Date | undefined {
  return ts === undefined ? undefined : timestampDate(ts);
}

export function toServiceStatus(info: ServiceInfoMessage): ServiceStatus {
  return {
    id: info.id,
    state: info.state,
    health: {
      unknown: info.health?.unknown ?? true,
      healthy: info.health?.healthy ?? false,
      lastMessage: info.health?.lastMessage ?? "",
      lastChange: toDate(info.health?.lastChange),
    },
    events: (info.events?.events ?? []).map((e) => ({ message: e.msg, state: e.state, time: toDate(e.ts) })),
  };
}

export function applyModeName(mode: ApplyConfigurationRequest_Mode): ApplyMode {
  for (const [name, value] of Object.entries(APPLY_MODES)) if (value === mode) return name as ApplyMode;
  return "auto";
}

export async function* lines(chunks: AsyncIterable<Data>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of chunks) {
    checkMetadata(chunk.metadata, chunk.metadata?.hostname ?? "node");
    buffer += decoder.decode(chunk.bytes, { stream: true });
    let index = buffer.indexOf("\n");
    while (index >= 0) {
      yield buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      index = buffer.indexOf("\n");
    }
  }
  buffer += decoder.decode();
  if (buffer !== "") yield buffer;
}

export function decodeResource(resource: Resource | undefined, node: string): TalosResource | undefined {
  if (resource === undefined) return undefined;
  const m = resource.metadata;
  const yaml = resource.spec?.yamlSpec ?? "";
  const proto = resource.spec?.protoSpec ?? new Uint8Array();
  let spec: unknown;
  if (m?.type === "MachineConfigs.config.talos.dev" && proto.length > 0) {
    spec = new TextDecoder().decode(fromBinary(MachineConfigSpecSchema, proto).yamlMarshalled);
  } else {
    try {
      spec = yaml === "" ? undefined : parseYaml(yaml);
    } catch {
      spec = yaml;
    }
  }
  return {
    node,
    metadata: {
      namespace: m?.namespace ?? "",
      type: m?.type ?? "",
      id: m?.id ?? "",
      version: m?.version ?? "",
      owner: m?.owner ?? "",
      phase: m?.phase ?? "",
      created: toDate(m?.created),
      updated: toDate(m?.updated),
      labels: { ...(m?.labels ?? {}) },
      annotations: { ...(m?.annotations ?? {}) },
      finalizers: [...(m?.finalizers ?? [])],
    },
    spec,
    rawSpec: { yaml, proto },
  };
}

export function parseTag(tag: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(tag);
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

export async function writeChunk(
  destination: Writable | WritableStreamDefaultWriter<Uint8Array>,
  chunk: Uint8Array,
): Promise<void> {
  if ("write" in destination && "ready" in destination) {
    await destination.ready;
    await destination.write(chunk);
    return;
  }
  const writable = destination as Writable;
  if (!writable.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        writable.off("drain", onDrain);
        reject(error);
      };
      const onDrain = (): void => {
        writable.off("error", onError);
        resolve();
      };
      writable.once("drain", onDrain);
      writable.once("error", onError);
    });
  }
}
