import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, it } from "vitest";
import { codeFromGrpcStatus, createTalosClient, parseTalosconfig } from "../src/index.js";
import { type Cluster, startCluster } from "./helpers.js";

describe("createTalosClient options", () => {
  let cluster: Cluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startCluster({ bootstrap: false });
    dir = mkdtempSync(join(tmpdir(), "talos-client-"));
  });
  afterAll(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads the talosconfig from a file path", async ({ expect }) => {
    const path = join(dir, "talosconfig");
    writeFileSync(path, cluster.talosconfig, { mode: 0o600 });
    const client = createTalosClient({ talosconfig: path, nodes: ["10.9.0.3"] });
    expect((await client.hostname())[0]).toMatchObject({ ok: true, value: "cp2" });
    client.close();
  });

  it("connects with PEM ca, cert and key instead of a talosconfig", async ({ expect }) => {
    const client = createTalosClient({
      endpoints: [cluster.emulator.node("cp2").endpoint],
      ca: cluster.ca.crt,
      cert: cluster.admin.crt,
      key: cluster.admin.key,
    });
    const [time] = await client.time();
    expect(time).toMatchObject({ ok: true, value: { server: "time.cloudflare.com" } });
    client.close();
  });

  it("selects the named context and its nodes from a parsed talosconfig", async ({ expect }) => {
    const parsed = parseTalosconfig(cluster.talosconfig);
    const lab = parsed.contexts.lab!;
    const config = {
      context: "lab",
      contexts: { lab, other: { ...lab, nodes: ["10.9.0.4"] } },
    };
    const client = createTalosClient({ talosconfig: config, context: "other" });
    expect((await client.hostname())[0]).toMatchObject({ node: "10.9.0.4", ok: true, value: "w1" });
    client.close();
  });

  it("rejects incomplete credentials and missing endpoints on the first call", async ({ expect }) => {
    const partial = createTalosClient({ endpoints: ["127.0.0.1:1"], ca: cluster.ca.crt });
    await expect(partial.bootstrap()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const none = createTalosClient({ endpoints: ["127.0.0.1:1"] });
    await expect(none.bootstrap()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const noEndpoints = createTalosClient({ insecure: true });
    await expect(noEndpoints.bootstrap()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const badContext = createTalosClient({ talosconfig: cluster.talosconfig, context: "missing" });
    await expect(badContext.bootstrap()).rejects.toMatchObject({ code: "INVALID_TALOSCONFIG" });
  });
});

describe("codeFromGrpcStatus", () => {
  it.for([
    [status.UNAVAILABLE, "UNAVAILABLE"],
    [status.PERMISSION_DENIED, "PERMISSION_DENIED"],
    [status.OUT_OF_RANGE, "INVALID_ARGUMENT"],
    [status.DATA_LOSS, "INTERNAL"],
    [99, "UNKNOWN"],
  ] as const)("maps %i to %s", ([code, expected], { expect }) => {
    expect(codeFromGrpcStatus(code)).toBe(expected);
  });
});
