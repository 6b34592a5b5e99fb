import { inspect } from "node:util";
import { dispatch } from "./emulator/chain.js";
import { NodeListener } from "./emulator/listener.js";
import { createFleet, NodeImpl } from "./emulator/store.js";
import type { EmulatorNodeSpec, TalosEmulator, TalosEmulatorOptions } from "./emulator/types.js";
import { buildTalosconfig, issueCertificate } from "./pki.js";

// The emulator's parts, in emulator/: types.ts (public and handler types), store.ts (fleet and node
// state), listener.ts (a node's TLS port and gRPC server), route.ts + routes.ts (the route table),
// chain.ts (the one middleware chain every call goes through), handlers/*.ts (per service).

/**
 * Starts an in-process Talos fleet: every node is its own gRPC server on 127.0.0.1 with real TLS. Nodes
 * boot in maintenance mode (server-only TLS), switch to mutual TLS with the OS CA of an applied machine
 * config, run services, answer Bootstrap once, share one etcd cluster, stream kubeconfig/logs/dmesg/events,
 * serve COSI resources, and proxy `node`-targeted calls to their peers like apid.
 *
 * @example
 * ```ts
 * const emulator = await createTalosEmulator({ nodes: [{ name: "cp1", address: "10.0.0.2" }] });
 * // connect a client to emulator.nodes[0].endpoint with { insecure: true } and apply a config
 * await emulator.close();
 * ```
 */
export async function createTalosEmulator(options: TalosEmulatorOptions): Promise<TalosEmulator> {
  if (options.nodes.length === 0) throw new Error("the emulator needs at least one node");
  const fleet = createFleet(options);

  const machine = (spec: EmulatorNodeSpec) =>
    new NodeImpl(
      spec,
      fleet,
      (node) =>
        new NodeListener(
          () => node.currentTls(),
          (call) => dispatch(node, call),
        ),
    );
  for (const spec of options.nodes) fleet.nodes.push(machine(spec));
  await Promise.all(fleet.nodes.map((n) => n.init()));

  const emulator: TalosEmulator = {
    nodes: fleet.nodes,
    callLog: fleet.callLog,
    node(nameOrAddress) {
      const node = fleet.find(nameOrAddress);
      if (node === undefined) throw new Error(`no emulated node "${nameOrAddress}"`);
      return node;
    },
    faults(fault) {
      fleet.faults.push(...(Array.isArray(fault) ? fault : [fault]));
    },
    clearFaults() {
      fleet.faults.length = 0;
    },
    isBootstrapped() {
      return fleet.bootstrapped;
    },
    etcd: {
      put(key, value) {
        if (!fleet.bootstrapped) throw new Error("etcd is not running");
        fleet.etcd.keys.set(key, value);
        fleet.etcd.revision += 1;
      },
      get: (key) => fleet.etcd.keys.get(key),
      keys: () => [...fleet.etcd.keys.keys()].sort(),
    },
    async addNode(spec) {
      if (fleet.find(spec.name) !== undefined || fleet.find(spec.address) !== undefined)
        throw new Error(`the emulator has a node "${spec.name}" or at ${spec.address} already`);
      const node = machine(spec);
      await node.init();
      fleet.nodes.push(node);
      return node;
    },
    async talosconfig(opts = {}) {
      const configured = fleet.nodes.find((n) => n.config !== undefined && n.config.ca.key !== "");
      if (configured?.config === undefined) throw new Error("no node has a config yet");
      const ca = configured.config.ca;
      const client = await issueCertificate({
        ca,
        usage: "client",
        organizations: opts.roles ?? ["os:admin"],
      });
      return buildTalosconfig({
        context: configured.config.clusterName,
        endpoints: opts.endpoints ?? [configured.endpoint],
        nodes: [],
        ca: ca.crt,
        crt: client.crt,
        key: client.key,
      });
    },
    async close() {
      await Promise.all(
        fleet.nodes.map(async (node) => {
          for (const timer of node.timers) clearTimeout(timer);
          node.currentState = "down";
          for (const wake of node.eventWaiters) wake();
          await node.listener.close();
        }),
      );
    },
  };
  Object.defineProperty(emulator, inspect.custom, {
    value: () => `TalosEmulator ${JSON.stringify(emulator)}`,
    enumerable: false,
  });
  Object.defineProperty(emulator, "toJSON", {
    value: () => ({
      nodes: fleet.nodes.map((n) => ({
        name: n.name,
        address: n.address,
        endpoint: n.endpoint,
        state: n.currentState,
      })),
    }),
    enumerable: false,
  });
  return emulator;
}
