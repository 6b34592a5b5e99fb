import { afterAll, beforeAll, describe, it } from "vitest";
import type { ResourceWatchEvent } from "../src/index.js";
import { type Cluster, startCluster } from "./helpers.js";

const CP1 = "10.9.0.2";
const W1 = "10.9.0.4";

describe("TalosClient COSI resources", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster.close();
  });

  it("gets a resource by alias with its decoded spec", async ({ expect }) => {
    const status = await cluster.client.get<{ stage: string; status: { ready: boolean } }>({
      node: W1,
      type: "machinestatus",
      id: "machine",
    });
    expect(status.metadata).toMatchObject({
      namespace: "runtime",
      type: "MachineStatuses.runtime.talos.dev",
    });
    expect(status.spec).toMatchObject({ stage: "running", status: { ready: true } });
    expect(status.node).toBe(W1);
  });

  it("lists cluster members through the members alias", async ({ expect }) => {
    const members = await cluster.client.list<{ hostname: string; machineType: string }>({
      node: CP1,
      type: "members",
    });
    expect(members.map((m) => m.spec.hostname).sort()).toEqual(["cp1", "cp2", "w1"]);
    expect(members.find((m) => m.spec.hostname === "w1")?.spec.machineType).toBe("worker");
  });

  it("lists links case-insensitively by display type and by full type", async ({ expect }) => {
    expect((await cluster.client.list({ node: CP1, type: "Links" }))[0]?.metadata.id).toBe("eth0");
    expect(
      (await cluster.client.list({ node: CP1, type: "LinkStatuses.net.talos.dev" }))[0]?.metadata.namespace,
    ).toBe("network");
  });

  it("returns the submitted machine config for an admin", async ({ expect }) => {
    const config = await cluster.client.get<string>({ node: W1, type: "mc", id: "v1alpha1" });
    expect(config.spec).toContain("type: worker");
  });

  it("gets a resource named by its full type and namespace with one call, without reading the definitions", async ({
    expect,
  }) => {
    // a fresh client: the definitions of W1 are not cached yet
    const client = cluster.clientFor();
    try {
      const before = cluster.emulator.callLog.length;
      const config = await client.get<string>({
        node: W1,
        type: "MachineConfigs.config.talos.dev",
        namespace: "config",
        id: "v1alpha1",
      });
      expect(config.spec).toContain("type: worker");
      expect(cluster.emulator.callLog.slice(before).map((e) => e.method)).toEqual([
        "/cosi.resource.State/Get",
      ]);
    } finally {
      client.close();
    }
  });

  it("still finds a full type written in another case, through the definitions", async ({ expect }) => {
    const status = await cluster.client.get({
      node: W1,
      type: "machinestatuses.runtime.talos.dev",
      namespace: "runtime",
      id: "machine",
    });
    expect(status.metadata.type).toBe("MachineStatuses.runtime.talos.dev");
    await expect(
      cluster.client.get({
        node: W1,
        type: "MachineStatuses.runtime.talos.dev",
        namespace: "runtime",
        id: "x",
      }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("throws NOT_FOUND for an unknown type or id", async ({ expect }) => {
    await expect(cluster.client.list({ node: CP1, type: "nonsense" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(cluster.client.get({ node: CP1, type: "machinestatus", id: "other" })).rejects.toMatchObject(
      {
        code: "NOT_FOUND",
      },
    );
  });

  it("refuses an alias that names more than one type instead of taking the first", async ({ expect }) => {
    // talos pkg/machinery/client/resources.go ResolveResourceKind: "resource type %q is ambiguous".
    await expect(cluster.client.get({ node: CP1, type: "ms", id: "machine" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { matches: ["MachineStatuses.runtime.talos.dev", "MountStatuses.runtime.talos.dev"] },
    });
    const status = await cluster.client.get({ node: CP1, type: "MachineStatus", id: "machine" });
    expect(status.metadata.type).toBe("MachineStatuses.runtime.talos.dev");
  });

  it("watches a resource that does not exist yet: a DESTROYED tombstone first", async ({ expect }) => {
    for await (const event of cluster.client.watch({ node: CP1, type: "services", id: "nothing" })) {
      expect(event).toMatchObject({ type: "destroyed", resource: { metadata: { id: "nothing" } } });
      break;
    }
  });

  it("watches one resource: its current state first, then live updates until aborted", async ({ expect }) => {
    const controller = new AbortController();
    const events: ResourceWatchEvent[] = [];
    const watching = (async () => {
      for await (const event of cluster.client.watch({
        node: W1,
        type: "services",
        id: "kubelet",
        signal: controller.signal,
      })) {
        events.push(event);
        if (event.type === "created") await cluster.client.serviceRestart({ node: W1, id: "kubelet" });
        if (event.type === "updated") controller.abort();
      }
    })();
    await expect(watching).rejects.toMatchObject({ code: "CANCELLED" });
    expect(events.map((e) => e.type)).toEqual(["created", "updated"]);
    expect(events[0]?.resource?.metadata.id).toBe("kubelet");
    expect(events[1]?.old?.metadata.version).not.toBe(events[1]?.resource?.metadata.version);
  });
});

describe("TalosClient events", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ emulator: { rebootDelayMs: 30 } });
  });
  afterAll(async () => {
    await cluster.close();
  });

  it("follows the events of one actor after a reboot and decodes their payloads", async ({ expect }) => {
    const { actorId } = await cluster.client.reboot({ node: W1 });
    expect(actorId).not.toBe("");
    expect(cluster.emulator.node("w1").state()).toBe("rebooting");
    while (cluster.emulator.node("w1").state() !== "running") await new Promise((r) => setTimeout(r, 10));
    const seen = [];
    for await (const event of cluster.client.events({ node: W1, tailEvents: -1, actorId })) {
      seen.push(event);
      break;
    }
    expect(seen[0]).toMatchObject({
      node: W1,
      actorId,
      type: "machine.SequenceEvent",
      payload: { sequence: "reboot" },
    });
    const all = new Set<string>();
    for await (const event of cluster.client.events({ node: W1, tailEvents: 20 })) {
      all.add(event.type);
      if (all.has("machine.MachineStatusEvent") && all.has("machine.ServiceStateEvent")) break;
    }
    expect([...all].sort()).toEqual(["machine.MachineStatusEvent", "machine.ServiceStateEvent"]);
  });
});
