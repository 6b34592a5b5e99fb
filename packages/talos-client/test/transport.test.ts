import { create } from "@bufbuild/protobuf";
import { describe, it } from "vitest";
import { VersionResponseSchema } from "../src/gen/machine/machine_pb.js";
import {
  createGrpcTransport,
  createTalosClient,
  MachineService,
  parseEndpoint,
  type Transport,
} from "../src/index.js";
import { startCluster } from "./helpers.js";

describe("parseEndpoint", () => {
  it.for([
    ["10.0.0.2", "10.0.0.2", 50000, "10.0.0.2:50000"],
    ["10.0.0.2:50001", "10.0.0.2", 50001, "10.0.0.2:50001"],
    ["cp.example", "cp.example", 50000, "cp.example:50000"],
    ["https://cp.example", "cp.example", 443, "cp.example:443"],
    ["https://cp.example:6443", "cp.example", 6443, "cp.example:6443"],
    ["[fd00::2]:50000", "fd00::2", 50000, "[fd00::2]:50000"],
    ["fd00::2", "fd00::2", 50000, "[fd00::2]:50000"],
  ] as const)("parses %s", ([input, host, port, address], { expect }) => {
    expect(parseEndpoint(input)).toEqual({ host, port, address });
  });

  it("throws INVALID_ARGUMENT when the port is out of range", ({ expect }) => {
    expect(() => parseEndpoint("10.0.0.2:70000")).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});

describe("createGrpcTransport", () => {
  it("throws when there is no endpoint or the key cannot be loaded", ({ expect }) => {
    expect(() => createGrpcTransport({ endpoints: [], tls: { mode: "insecure" } })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() =>
      createGrpcTransport({ endpoints: ["a"], tls: { mode: "mtls", ca: "x", cert: "y", key: "not a key" } }),
    ).toThrowError(expect.objectContaining({ code: "INVALID_TALOSCONFIG" }));
  });
});

describe("createTalosClient transport handling", () => {
  it("uses an injected transport and labels results with the node", async ({ expect }) => {
    const seen: unknown[] = [];
    const transport: Transport = {
      endpoints: ["fake:50000"],
      async unary(method, _request, options) {
        seen.push([method.name, options?.metadata]);
        return create(VersionResponseSchema, {
          messages: [{ version: { tag: "v1.15.0", arch: "arm64" } }],
        }) as never;
      },
      serverStream() {
        throw new Error("unused");
      },
      clientStream() {
        throw new Error("unused");
      },
      close() {},
    };
    const client = createTalosClient({ transport, nodes: ["10.1.1.1"] });
    const [result] = await client.version();
    expect(result).toMatchObject({ node: "10.1.1.1", ok: true, value: { tag: "v1.15.0", arch: "arm64" } });
    expect(seen).toEqual([["Version", { node: "10.1.1.1" }]]);
    const direct = createTalosClient({ transport });
    expect((await direct.version())[0]?.node).toBe("fake");
  });

  it("cancels a unary call through its AbortSignal and refuses calls once closed", async ({ expect }) => {
    const cluster = await startCluster({ bootstrap: false });
    try {
      cluster.emulator.faults({ node: "cp1", methods: ["Hostname"], latencyMs: 2000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const [result] = await cluster.client.hostname({ nodes: ["10.9.0.2"], signal: controller.signal });
      expect(result).toMatchObject({ ok: false, error: { code: "CANCELLED" } });
      const client = cluster.clientFor();
      client.close();
      await expect(client.bootstrap({ node: "10.9.0.2" })).rejects.toMatchObject({ code: "CANCELLED" });
      await expect(
        cluster.client.call(MachineService.method.hostname, {}, { node: "10.9.0.3" }),
      ).resolves.toMatchObject({ messages: [{ hostname: "cp2" }] });
    } finally {
      await cluster.close();
    }
  });
});
