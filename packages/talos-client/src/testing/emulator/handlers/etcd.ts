import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { MachineService } from "../../../gen/machine/machine_pb.js";
import { clientStream, type Route, serverStream, unary } from "../route.js";
import type { EtcdData, NodeImpl } from "../store.js";
import { StatusError } from "../types.js";
import { requireControlPlane } from "./guards.js";

const M = MachineService.method;

function requireEtcd(node: NodeImpl, method: string): void {
  requireControlPlane(node, method);
  if (!node.fleet.bootstrapped || !node.fleet.etcdMembers.has(node.name)) {
    throw new StatusError(grpc.status.FAILED_PRECONDITION, "etcd is not running on this node");
  }
}
// A snapshot here stands in for etcd's bbolt file: a header line with the keyspace as JSON, padding
// up to the configured size, and the sha256 of all that appended, as etcd appends one to a snapshot
// and `etcdutl snapshot restore` checks it unless told to skip the hash check
// (talos internal/app/machined/pkg/system/services/etcd.go recoverFromSnapshot).
const SNAPSHOT_MAGIC = "talos-emulator-etcd-snapshot/v1\n";
const HASH_BYTES = 32;

/** The keyspace as snapshot bytes, `total` long when it fits. */
export function encodeSnapshot(etcd: EtcdData, total: number): Buffer {
  const header = Buffer.from(
    `${SNAPSHOT_MAGIC}${JSON.stringify({ revision: etcd.revision, keys: Object.fromEntries(etcd.keys) })}\n`,
  );
  const body = Buffer.alloc(Math.max(header.length, total - HASH_BYTES));
  header.copy(body);
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

/** The keyspace of snapshot bytes, or the reason etcd would refuse to restore them. */
export function decodeSnapshot(bytes: Uint8Array, skipHashCheck: boolean): EtcdData | string {
  const data = Buffer.from(bytes);
  if (data.length <= HASH_BYTES) return "snapshot file is too small";
  const body = data.subarray(0, data.length - HASH_BYTES);
  if (!skipHashCheck && !createHash("sha256").update(body).digest().equals(data.subarray(body.length)))
    return "snapshot file integrity check failed: sha256 mismatch";
  const text = body.toString("utf8", 0, Math.min(body.length, 64 * 1024 * 1024));
  if (!text.startsWith(SNAPSHOT_MAGIC)) return "snapshot file is not an etcd snapshot";
  const end = text.indexOf("\n", SNAPSHOT_MAGIC.length);
  try {
    const parsed = JSON.parse(text.slice(SNAPSHOT_MAGIC.length, end)) as {
      revision: number;
      keys: Record<string, string>;
    };
    return { revision: parsed.revision, keys: new Map(Object.entries(parsed.keys)) };
  } catch {
    return "snapshot file is not an etcd snapshot";
  }
}

/** etcd: members, status, leave/forfeit/remove, snapshot and recover (control planes only). */
export const etcdRoutes: Route[] = [
  unary(M.etcdMemberList, async (req, { node }) => {
    requireEtcd(node, "EtcdMemberList");
    const members = req.queryLocal
      ? [node.fleet.etcdMembers.get(node.name)!]
      : [...node.fleet.etcdMembers.values()];
    return {
      messages: [
        {
          members: members.map((m) => ({
            id: m.id,
            hostname: m.hostname,
            peerUrls: [`https://${m.address}:2380`],
            clientUrls: [`https://${m.address}:2379`],
            isLearner: false,
          })),
        },
      ],
    };
  }),
  unary(M.etcdRemoveMemberByID, async (req, { node }) => {
    requireEtcd(node, "EtcdRemoveMemberByID");
    const entry = [...node.fleet.etcdMembers.entries()].find(([, m]) => m.id === req.memberId);
    if (entry === undefined)
      throw new StatusError(grpc.status.NOT_FOUND, `etcd member ${req.memberId.toString(16)} not found`);
    node.fleet.etcdMembers.delete(entry[0]);
    node.fleet.find(entry[0])?.setService("etcd", "Failed", false);
    node.fleet.onClusterChange();
    return { messages: [{}] };
  }),
  unary(M.etcdLeaveCluster, async (_req, { node }) => {
    requireEtcd(node, "EtcdLeaveCluster");
    node.fleet.etcdMembers.delete(node.name);
    node.setService("etcd", "Finished", false);
    node.fleet.onClusterChange();
    return { messages: [{}] };
  }),
  unary(M.etcdForfeitLeadership, async (_req, { node }) => {
    requireEtcd(node, "EtcdForfeitLeadership");
    return { messages: [{ member: node.hostname() }] };
  }),
  unary(M.etcdStatus, async (_req, { node }) => {
    requireEtcd(node, "EtcdStatus");
    const self = node.fleet.etcdMembers.get(node.name)!;
    const leader = [...node.fleet.etcdMembers.values()][0]!;
    return {
      messages: [
        {
          memberStatus: {
            memberId: self.id,
            protocolVersion: "3.5.17",
            storageVersion: "3.5.0",
            dbSize: 4_194_304n,
            dbSizeInUse: 2_097_152n,
            leader: leader.id,
            raftIndex: 1000n,
            raftTerm: 2n,
            raftAppliedIndex: 1000n,
          },
        },
      ],
    };
  }),
  serverStream(M.etcdSnapshot, async function* (_req, { node, signal }) {
    requireEtcd(node, "EtcdSnapshot");
    const snapshot = encodeSnapshot(node.fleet.etcd, node.fleet.options.etcdSnapshotBytes ?? 1024 * 1024);
    const size = Math.min(node.fleet.options.etcdSnapshotChunkBytes ?? 1024 * 1024, snapshot.length);
    for (let sent = 0; sent < snapshot.length && !signal.aborted; sent += size) {
      yield { bytes: snapshot.subarray(sent, Math.min(snapshot.length, sent + size)) };
    }
  }),
  // talos v1alpha1_server.go EtcdRecover: stores the upload for a later Bootstrap(recover_etcd);
  // refused before the node's EPHEMERAL (where the snapshot goes) is mounted
  clientStream(M.etcdRecover, async (requests, { node }) => {
    requireControlPlane(node, "EtcdRecover");
    if (node.currentState !== "running")
      throw new StatusError(grpc.status.FAILED_PRECONDITION, "etcd service is not ready for recovery yet");
    const chunks: Uint8Array[] = [];
    for await (const data of requests) chunks.push(data.bytes);
    const bytes = Buffer.concat(chunks);
    if (bytes.length === 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "empty snapshot");
    node.recoverySnapshot = bytes;
    return { messages: [{}] };
  }),
];
