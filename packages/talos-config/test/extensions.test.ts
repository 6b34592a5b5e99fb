import { describe, it } from "vitest";
import {
  applyPatches,
  buildExtensionServices,
  cloudflaredServiceConfig,
  lint,
  replaceExtensionServicesPatches,
  setExtensionEnvironment,
  tailscaleServiceConfig,
  upsertExtensionServices,
} from "../src/index.js";
import { FAKE_TS_AUTHKEY, FAKE_TUNNEL_TOKEN } from "./fixtures/single-node.js";

describe("cloudflaredServiceConfig", () => {
  it("sets TUNNEL_TOKEN and the optional metrics address", ({ expect }) => {
    expect(cloudflaredServiceConfig({ token: FAKE_TUNNEL_TOKEN, metrics: "localhost:2000" })).toEqual({
      apiVersion: "v1alpha1",
      kind: "ExtensionServiceConfig",
      name: "cloudflared",
      environment: [`TUNNEL_TOKEN=${FAKE_TUNNEL_TOKEN}`, "TUNNEL_METRICS=localhost:2000"],
    });
  });

  it("names the field and never echoes the token when the token is malformed", ({ expect }) => {
    const bad = `${FAKE_TUNNEL_TOKEN}\nEVIL=1`;
    let message = "";
    try {
      cloudflaredServiceConfig({ token: bad });
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toContain("extensions.cloudflared.token");
    expect(message).not.toContain(FAKE_TUNNEL_TOKEN);
  });
});

describe("tailscaleServiceConfig", () => {
  it("joins routes with commas and extra args with spaces", ({ expect }) => {
    expect(
      tailscaleServiceConfig({
        authKey: FAKE_TS_AUTHKEY,
        routes: ["10.96.0.0/12", "192.168.50.7/24"],
        hostname: "talos-cp-1",
        extraArgs: ["--ssh", "--accept-dns=false"],
      }).environment,
    ).toEqual([
      `TS_AUTHKEY=${FAKE_TS_AUTHKEY}`,
      "TS_ROUTES=10.96.0.0/12,192.168.50.0/24",
      "TS_HOSTNAME=talos-cp-1",
      "TS_EXTRA_ARGS=--ssh --accept-dns=false",
    ]);
  });

  it("throws INVALID_CIDR naming the route when a route is not a CIDR", ({ expect }) => {
    expect(() => tailscaleServiceConfig({ authKey: FAKE_TS_AUTHKEY, routes: ["10.96.0.0"] })).toThrowError(
      expect.objectContaining({ code: "INVALID_CIDR", details: { field: "extensions.tailscale.routes[0]" } }),
    );
  });
});

describe("buildExtensionServices", () => {
  it("throws UNKNOWN_EXTENSION naming the extension when it is not cloudflared or tailscale", ({
    expect,
  }) => {
    expect(() => buildExtensionServices({ wireguard: {} } as never)).toThrowError(
      expect.objectContaining({ code: "UNKNOWN_EXTENSION", details: { field: "extensions.wireguard" } }),
    );
  });
});

describe("setExtensionEnvironment", () => {
  it("replaces a variable in place instead of appending a duplicate when it is set again", ({ expect }) => {
    const doc = cloudflaredServiceConfig({ token: "old-token", metrics: "localhost:2000" });
    const updated = setExtensionEnvironment(doc, {
      TUNNEL_TOKEN: "new-token",
      TUNNEL_EDGE_IP_VERSION: "auto",
    });
    expect(updated.environment).toEqual([
      "TUNNEL_TOKEN=new-token",
      "TUNNEL_METRICS=localhost:2000",
      "TUNNEL_EDGE_IP_VERSION=auto",
    ]);
    expect(doc.environment).toEqual(["TUNNEL_TOKEN=old-token", "TUNNEL_METRICS=localhost:2000"]);
    expect(lint([updated])).toEqual([expect.objectContaining({ code: "INSTALL_DISK_MISSING" })]);
  });

  it("collapses existing duplicates and removes a variable set to undefined", ({ expect }) => {
    const doc = {
      apiVersion: "v1alpha1",
      kind: "ExtensionServiceConfig",
      name: "tailscale",
      environment: ["TS_AUTHKEY=a", "TS_HOSTNAME=x", "TS_AUTHKEY=b"],
    };
    expect(setExtensionEnvironment(doc, { TS_AUTHKEY: "c", TS_HOSTNAME: undefined }).environment).toEqual([
      "TS_AUTHKEY=c",
    ]);
  });
});

describe("upsertExtensionServices", () => {
  it("updates the existing document's variables and appends a new service when merging into a config", ({
    expect,
  }) => {
    const existing = [
      { version: "v1alpha1", machine: { type: "worker" } },
      cloudflaredServiceConfig({ token: "old-token", metrics: "localhost:2000" }),
    ];
    const merged = upsertExtensionServices(existing, [
      cloudflaredServiceConfig({ token: "new-token" }),
      tailscaleServiceConfig({ authKey: FAKE_TS_AUTHKEY }),
    ]);
    expect(merged.map((d) => d.environment)).toEqual([
      undefined,
      ["TUNNEL_TOKEN=new-token", "TUNNEL_METRICS=localhost:2000"],
      [`TS_AUTHKEY=${FAKE_TS_AUTHKEY}`],
    ]);
  });
});

describe("replaceExtensionServicesPatches", () => {
  it("replaces the token on a patched config without a duplicate when applied as two patches", ({
    expect,
  }) => {
    const config = [
      { version: "v1alpha1", machine: { type: "worker" } },
      cloudflaredServiceConfig({ token: "old-token", metrics: "localhost:2000" }),
    ];
    const naive = applyPatches(config, [[cloudflaredServiceConfig({ token: "new-token" })]]);
    expect(naive[1]?.environment).toEqual([
      "TUNNEL_TOKEN=old-token",
      "TUNNEL_METRICS=localhost:2000",
      "TUNNEL_TOKEN=new-token",
    ]);
    const replaced = applyPatches(
      config,
      replaceExtensionServicesPatches([cloudflaredServiceConfig({ token: "new-token" })]),
    );
    expect(replaced).toEqual([config[0], cloudflaredServiceConfig({ token: "new-token" })]);
    expect(lint(replaced, { requireInstallDisk: false })).toEqual([]);
  });

  it("adds the service when the config has none", ({ expect }) => {
    const config = [{ version: "v1alpha1", machine: { type: "worker" } }];
    const out = applyPatches(
      config,
      replaceExtensionServicesPatches([tailscaleServiceConfig({ authKey: FAKE_TS_AUTHKEY })]),
    );
    expect(out.map((d) => d.name)).toEqual([undefined, "tailscale"]);
  });
});
