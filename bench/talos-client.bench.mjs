// talos-client benchmarks against the in-process emulator (real sockets, real mutual TLS).
// Figures: fan-out of `version` to 50 nodes concurrent vs sequential, client overhead vs a bare grpc-js
// call of the same RPC, and throughput of a streamed 64 MiB etcd snapshot.

import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { createTalosClient, MachineService } from "../packages/talos-client/dist/index.js";
import {
  buildMachineConfig,
  buildTalosconfig,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
} from "../packages/talos-client/dist/testing/index.js";

// The bare baseline uses the package's own grpc-js and protobuf runtime.
const require = createRequire(new URL("../packages/talos-client/package.json", import.meta.url));
const grpc = require("@grpc/grpc-js");
const { fromBinary } = require("@bufbuild/protobuf");

const NODES = 50;
const fleet = Array.from({ length: NODES }, (_, i) => ({
  name: i === 0 ? "cp1" : `w${i}`,
  address: `10.20.${Math.floor(i / 200)}.${(i % 200) + 2}`,
}));
const emulator = await createTalosEmulator({
  nodes: fleet,
  etcdSnapshotBytes: 64 * 1024 * 1024,
  etcdSnapshotChunkBytes: 1024 * 1024,
});
const ca = await generateTalosCa();
await Promise.all(
  fleet.map(async (node, i) => {
    const c = createTalosClient({ endpoints: [emulator.node(node.name).endpoint], insecure: true });
    await c.applyConfiguration({
      data: buildMachineConfig({ type: i === 0 ? "controlplane" : "worker", ca, hostname: node.name }),
    });
    c.close();
  }),
);
const admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
const endpoint = emulator.node("cp1").endpoint;
const talosconfig = buildTalosconfig({ endpoints: [endpoint], ca: ca.crt, crt: admin.crt, key: admin.key });
const client = createTalosClient({ talosconfig, concurrency: NODES });
await client.bootstrap({ node: fleet[0].address });
const addresses = fleet.map((n) => n.address);

async function timeIt(rounds, fn) {
  await fn();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return (performance.now() - start) / rounds;
}

function line(label, value) {
  process.stdout.write(`${label.padEnd(58)} ${value}\n`);
}

// 1. fan-out
for (const latencyMs of [0, 5]) {
  emulator.clearFaults();
  if (latencyMs > 0) emulator.faults({ methods: ["Version"], latencyMs });
  const concurrent = await timeIt(5, async () => {
    const results = await client.version({ nodes: addresses });
    if (results.some((r) => !r.ok)) throw new Error("a node failed");
  });
  const sequential = await timeIt(2, async () => {
    for (const node of addresses) {
      const [r] = await client.version({ nodes: [node] });
      if (!r.ok) throw new Error("a node failed");
    }
  });
  line(`version x${NODES} nodes, +${latencyMs} ms/node: concurrent`, `${concurrent.toFixed(1)} ms`);
  line(`version x${NODES} nodes, +${latencyMs} ms/node: sequential`, `${sequential.toFixed(1)} ms`);
  line(
    `version x${NODES} nodes, +${latencyMs} ms/node: sequential / concurrent`,
    `${(sequential / concurrent).toFixed(2)}x`,
  );
}
emulator.clearFaults();

// 2. client overhead vs bare grpc-js (same endpoint, same credentials, same RPC, direct to the node)
const key = admin.key.replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY");
// Same channel options as the client's transport, so that only the client's own work differs. grpc-js
// would send the endpoint's IP as the TLS server name (DEP0123, which the client avoids by sending none);
// naming "localhost" instead (a SAN of every emulator cert) keeps one name check per handshake, like the client.
const bare = new grpc.Client(
  endpoint,
  grpc.credentials.createSsl(Buffer.from(ca.crt), Buffer.from(key), Buffer.from(admin.crt)),
  {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.max_receive_message_length": 32 * 1024 * 1024,
    "grpc.max_send_message_length": 32 * 1024 * 1024,
    "grpc.keepalive_time_ms": 330_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.enable_retries": 0,
  },
);
const direct = createTalosClient({ talosconfig });
const bareCall = () =>
  new Promise((resolve, reject) =>
    bare.makeUnaryRequest(
      "/machine.MachineService/Version",
      () => Buffer.alloc(0),
      (b) => fromBinary(MachineService.method.version.output, b),
      {},
      new grpc.Metadata(),
      {},
      (err, res) => (err ? reject(err) : resolve(res.messages[0].version.tag)),
    ),
  );
const clientCall = async () => {
  const [r] = await direct.version();
  if (!r.ok) throw r.error;
  return r.value.tag;
};
const ROUNDS = 1000;
let bareMs = 0;
let clientMs = 0;
for (let pass = 0; pass < 4; pass++) {
  if (pass % 2 === 0) {
    bareMs += await timeIt(ROUNDS, bareCall);
    clientMs += await timeIt(ROUNDS, clientCall);
  } else {
    clientMs += await timeIt(ROUNDS, clientCall);
    bareMs += await timeIt(ROUNDS, bareCall);
  }
}
line("version, bare grpc-js call", `${((bareMs / 4) * 1000).toFixed(0)} us/call`);
line("version, createTalosClient().version()", `${((clientMs / 4) * 1000).toFixed(0)} us/call`);
line("client / bare grpc-js (target <= 1.2x)", `${(clientMs / bareMs).toFixed(2)}x`);
bare.close();
direct.close();

// 3. 64 MiB etcd snapshot
let bytes = 0;
const sink = new Writable({
  write(chunk, _enc, done) {
    bytes += chunk.length;
    done();
  },
});
const start = performance.now();
const snapshot = await client.etcdSnapshot({ node: fleet[0].address, destination: sink });
const seconds = (performance.now() - start) / 1000;
if (snapshot.bytes !== 64 * 1024 * 1024 || bytes !== snapshot.bytes) throw new Error("short snapshot");
line(
  "etcd snapshot 64 MiB (1 MiB messages), throughput",
  `${(64 / seconds).toFixed(0)} MiB/s (${(seconds * 1000).toFixed(0)} ms)`,
);

client.close();
await emulator.close();
