import * as grpc from "@grpc/grpc-js";
import { MachineService } from "../../../gen/machine/machine_pb.js";
import { type Route, serverStream } from "../route.js";
import type { NodeImpl } from "../store.js";
import { StatusError, type StoredEvent } from "../types.js";
import { sleep } from "../util.js";

const M = MachineService.method;

const LOG_LINES = 20;

function logLine(node: NodeImpl, id: string, i: number): string {
  return `${new Date(1_700_000_000_000 + i * 1000).toISOString()} [talos] ${id} on ${node.hostname()}: message ${i}`;
}

async function* followLines(
  node: NodeImpl,
  make: (i: number) => string,
  start: number,
  initial: number[],
  follow: boolean,
  signal: AbortSignal,
): AsyncGenerator<{ bytes: Uint8Array }> {
  const encoder = new TextEncoder();
  for (const i of initial) yield { bytes: encoder.encode(`${make(i)}\n`) };
  if (!follow) return;
  let i = start;
  while (!signal.aborted) {
    await sleep(node.fleet.options.followIntervalMs ?? 50, signal);
    if (signal.aborted) return;
    yield { bytes: encoder.encode(`${make(i++)}\n`) };
  }
}
/** Logs, dmesg and the machine event stream. */
export const logRoutes: Route[] = [
  serverStream(M.logs, async function* (req, { node, signal }) {
    const known = node.config === undefined ? ["machined"] : [...node.services.keys()];
    if (req.namespace === "system" || req.namespace === "") {
      if (!known.includes(req.id))
        throw new StatusError(grpc.status.NOT_FOUND, `log "${req.id}" was not registered`);
    }
    const all = Array.from({ length: LOG_LINES }, (_, i) => i);
    const initial = req.tailLines >= 0 ? all.slice(Math.max(0, LOG_LINES - req.tailLines)) : all;
    yield* followLines(node, (i) => logLine(node, req.id, i), LOG_LINES, initial, req.follow, signal);
  }),
  serverStream(M.dmesg, async function* (req, { node, signal }) {
    const make = (i: number): string =>
      `kern  :info  : [${(i * 0.1).toFixed(6)}] emulated kernel message ${i} on ${node.name}`;
    const initial = req.tail ? [] : Array.from({ length: LOG_LINES }, (_, i) => i);
    yield* followLines(node, make, LOG_LINES, initial, req.follow, signal);
  }),
  serverStream(M.events, async function* (req, { node, signal }) {
    const matches = (e: StoredEvent): boolean => req.withActorId === "" || e.actorId === req.withActorId;
    let start = node.events.length;
    if (req.tailEvents < 0) start = 0;
    else if (req.tailEvents > 0) start = Math.max(0, node.events.length - req.tailEvents);
    if (req.tailId !== "") {
      const index = node.events.findIndex((e) => e.id === req.tailId);
      if (index >= 0) start = index + 1;
    }
    let cursor = start;
    // An empty "hello" event first, so the client knows the stream is up (talos
    // internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go Events, sendEmptyEvent).
    yield {
      id: `${Date.now().toString(36)}hello`,
      actorId: req.withActorId,
      data: { typeUrl: "", value: new Uint8Array() },
    };
    while (!signal.aborted) {
      while (cursor < node.events.length) {
        const e = node.events[cursor++]!;
        if (matches(e)) {
          yield {
            id: e.id,
            actorId: e.actorId,
            data: { typeUrl: `talos/runtime/${e.typeName}`, value: e.value },
          };
        }
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          node.eventWaiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        node.eventWaiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }),
];
