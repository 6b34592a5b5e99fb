import { createTalosClient, type TalosClient, type TalosClientOptions } from "../src/index.js";
import {
  buildMachineConfig,
  buildTalosconfig,
  type CertificateAndKey,
  createTalosEmulator,
  generateTalosCa,
  issueCertificate,
  type TalosEmulator,
  type TalosEmulatorOptions,
} from "../src/testing/index.js";

export interface FleetNode {
  name: string;
  address: string;
  type: "controlplane" | "worker";
  talosVersion?: string;
}

export interface Cluster {
  emulator: TalosEmulator;
  ca: CertificateAndKey;
  admin: CertificateAndKey;
  talosconfig: string;
  /** An admin client whose endpoint is the first control plane. */
  client: TalosClient;
  clientFor(options?: Partial<TalosClientOptions>): TalosClient;
  close(): Promise<void>;
}

export const DEFAULT_FLEET: FleetNode[] = [
  { name: "cp1", address: "10.9.0.2", type: "controlplane" },
  { name: "cp2", address: "10.9.0.3", type: "controlplane" },
  { name: "w1", address: "10.9.0.4", type: "worker" },
];

/** Starts a fleet, applies configs in maintenance mode and optionally bootstraps etcd. */
export async function startCluster(
  options: { fleet?: FleetNode[]; bootstrap?: boolean; emulator?: Partial<TalosEmulatorOptions> } = {},
): Promise<Cluster> {
  const fleet = options.fleet ?? DEFAULT_FLEET;
  const emulator = await createTalosEmulator({
    nodes: fleet.map(({ name, address, talosVersion }) => ({
      name,
      address,
      ...(talosVersion === undefined ? {} : { talosVersion }),
    })),
    ...options.emulator,
  });
  const ca = await generateTalosCa();
  for (const spec of fleet) {
    const insecure = createTalosClient({ endpoints: [emulator.node(spec.name).endpoint], insecure: true });
    await insecure.applyConfiguration({
      data: buildMachineConfig({ type: spec.type, ca, clusterName: "lab", hostname: spec.name }),
    });
    insecure.close();
  }
  const admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
  const first = fleet.find((n) => n.type === "controlplane") ?? fleet[0]!;
  const talosconfig = buildTalosconfig({
    context: "lab",
    endpoints: [emulator.node(first.name).endpoint],
    ca: ca.crt,
    crt: admin.crt,
    key: admin.key,
  });
  const clients: TalosClient[] = [];
  const clientFor = (extra: Partial<TalosClientOptions> = {}): TalosClient => {
    const c = createTalosClient({ talosconfig, retryBaseDelayMs: 10, ...extra });
    clients.push(c);
    return c;
  };
  const client = clientFor();
  if (options.bootstrap !== false) await client.bootstrap({ node: first.address });
  return {
    emulator,
    ca,
    admin,
    talosconfig,
    client,
    clientFor,
    async close() {
      for (const c of clients) c.close();
      await emulator.close();
    },
  };
}
