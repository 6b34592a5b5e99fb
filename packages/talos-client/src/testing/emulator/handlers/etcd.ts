import * as grpc from "@grpc/grpc-js";
import { MachineService } from "../../../gen/machine/machine_pb.js";
import { clientStream, type Route, serverStream, unary } from "../route.js";
import type { NodeImpl } from "../store.js";
import { StatusError } from "../types.js";
import { requireControlPlane } from "./guards.js";

const M = MachineService.method;

function requireEtcd(node: NodeImpl, method: string): void {
  requireControlPlane(node, method);
  if (!node.fleet.bootstrapped || !node.fleet.etcdMembers.has(node.name)) {
    throw new StatusError(grpc.status.FAILED_PRECONDITION, "etcd is not running on this node");
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
    const total = node.fleet.options.etcdSnapshotBytes ?? 1024 * 1024;
    const chunk = Buffer.alloc(
      Math.min(node.fleet.options.etcdSnapshotChunkBytes ?? 1024 * 1024, total),
      0x5a,
    );
    for (let sent = 0; sent < total && !signal.aborted; sent += chunk.length) {
      yield { bytes: chunk.subarray(0, Math.min(chunk.length, total - sent)) };
    }
  }),
  clientStream(M.etcdRecover, async (requests, { node }) => {
    requireControlPlane(node, "EtcdRecover");
    let bytes = 0;
    for await (const data of requests) bytes += data.bytes.length;
    if (bytes === 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "empty snapshot");
    return { messages: [{}] };
  }),
];
