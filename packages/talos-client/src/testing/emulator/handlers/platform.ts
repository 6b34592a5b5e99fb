import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ClusterService } from "../../../gen/cluster/cluster_pb.js";
import { InspectService } from "../../../gen/inspect/inspect_pb.js";
import { Disk_DiskType, StorageService } from "../../../gen/storage/storage_pb.js";
import { TimeService } from "../../../gen/time/time_pb.js";
import { type Route, serverStream, unary } from "../route.js";

const timeReply = async (server: string) => {
  const now = new Date();
  return { messages: [{ server, localtime: timestampFromDate(now), remotetime: timestampFromDate(now) }] };
};

/** StorageService, TimeService, ClusterService and InspectService. */
export const platformRoutes: Route[] = [
  unary(StorageService.method.disks, async () => ({
    messages: [
      {
        disks: [
          {
            deviceName: "/dev/sda",
            model: "EMU-SSD",
            size: 256_060_514_304n,
            type: Disk_DiskType.SSD,
            systemDisk: true,
            busPath: "/pci0000:00/0000:00:1f.2",
          },
          {
            deviceName: "/dev/nvme0n1",
            model: "EMU-NVME",
            size: 1_000_204_886_016n,
            type: Disk_DiskType.NVME,
          },
        ],
      },
    ],
  })),
  unary(StorageService.method.blockDeviceWipe, async () => ({ messages: [{}] })),
  unary(TimeService.method.time, () => timeReply("time.cloudflare.com")),
  unary(TimeService.method.timeCheck, (req) => timeReply(req.server)),
  serverStream(ClusterService.method.healthCheck, async function* (_req, { node }) {
    yield { message: "discovered nodes" };
    yield { message: node.fleet.bootstrapped ? "etcd is healthy" : "waiting for etcd to be bootstrapped" };
  }),
  unary(InspectService.method.controllerRuntimeDependencies, async () => ({ messages: [{ edges: [] }] })),
];
