import { describe, it } from "vitest";
import { buildInstall } from "../src/builders/install.js";
import { buildClusterSettings, buildNodeIp } from "../src/builders/kubernetes.js";
import {
  buildHostname,
  buildInterfaces,
  buildNameservers,
  buildStaticHosts,
  buildTimeServers,
} from "../src/builders/network.js";
import {
  buildExtensionServices,
  buildNodePatches,
  cloudflaredServiceConfig,
  corednsAddress,
  corednsAddresses,
  createSchematic,
  installerImage,
  isoUrl,
  isTalosConfigError,
  type NodeIntent,
  parseDocuments,
  parseSchematic,
  parseTalosVersion,
  TalosConfigError,
  tailscaleServiceConfig,
} from "../src/index.js";
import { EMPTY_SCHEMATIC_ID } from "../src/schematic.js";
import { FAKE_TUNNEL_TOKEN, singleNode } from "./fixtures/single-node.js";

function thrown(mutate: (intent: NodeIntent) => void): TalosConfigError {
  const intent = singleNode("v1.13.9");
  mutate(intent);
  try {
    buildNodePatches(intent);
  } catch (error) {
    if (isTalosConfigError(error)) return error;
    throw error;
  }
  throw new Error("expected buildNodePatches to throw");
}

const CASES: [string, (intent: NodeIntent) => void, string, string][] = [
  [
    "an invalid address CIDR",
    (i) => (i.interfaces[0]!.addresses = ["192.168.50.300/24"]),
    "INVALID_CIDR",
    "interfaces[0].addresses[0]",
  ],
  [
    "a gateway outside the subnet",
    (i) => (i.interfaces[0]!.gateway = "192.168.60.1"),
    "INVALID_INPUT",
    "interfaces[0].gateway",
  ],
  [
    "a VIP outside the subnet",
    (i) => (i.interfaces[0]!.vip = "10.0.0.1"),
    "INVALID_INPUT",
    "interfaces[0].vip",
  ],
  [
    "an unknown extension",
    (i) => Object.assign(i.extensions!, { wireguard: { key: "x" } }),
    "UNKNOWN_EXTENSION",
    "extensions.wireguard",
  ],
  ["an unsupported version", (i) => (i.target = "v1.10.4"), "UNSUPPORTED_VERSION", "target"],
  [
    "an invalid service subnet",
    (i) => (i.cluster.serviceSubnets = ["10.96.0.0/40"]),
    "INVALID_CIDR",
    "cluster.serviceSubnets[0]",
  ],
  [
    "a pod subnet with host bits",
    (i) => (i.cluster.podSubnets = ["10.244.1.0/16"]),
    "INVALID_CIDR",
    "cluster.podSubnets[0]",
  ],
  [
    "a plain http endpoint",
    (i) => (i.cluster.endpoint = "http://192.168.50.200:6443"),
    "INVALID_INPUT",
    "cluster.endpoint",
  ],
  ["an upper-case hostname", (i) => (i.hostname = "Talos_CP"), "INVALID_INPUT", "hostname"],
  [
    "a VLAN id out of range",
    (i) => (i.interfaces[0]!.vlans = [{ id: 5000 }]),
    "INVALID_INPUT",
    "interfaces[0].vlans[0].id",
  ],
  ["an MTU out of range", (i) => (i.interfaces[0]!.mtu = 10), "INVALID_INPUT", "interfaces[0].mtu"],
  [
    "an interface with neither name nor selector",
    (i) => (i.interfaces = [{ dhcp: true }]),
    "INVALID_INPUT",
    "interfaces[0]",
  ],
  [
    "a duplicate interface",
    (i) => i.interfaces.push({ name: "eno1", dhcp: true }),
    "INVALID_INPUT",
    "interfaces[1].name",
  ],
  [
    "an invalid nameserver",
    (i) => (i.nameservers = ["coredns", "dns.google"]),
    "INVALID_INPUT",
    "nameservers[1]",
  ],
  [
    "an invalid node IP subnet",
    (i) => (i.nodeIp = { validSubnets: ["lan"] }),
    "INVALID_CIDR",
    "nodeIp.validSubnets[0]",
  ],
  [
    "an install disk that is not a device",
    (i) => (i.install = { disk: "sda" }),
    "INVALID_INPUT",
    "install.disk",
  ],
  [
    "both disk and selector",
    (i) => (i.install = { disk: "/dev/sda", diskSelector: { type: "ssd" } }),
    "INVALID_INPUT",
    "install",
  ],
  [
    "a custom CNI without URLs",
    (i) => (i.cluster.cni = { name: "custom" }),
    "INVALID_INPUT",
    "cluster.cni.urls",
  ],
  ["an unknown role", (i) => (i.role = "etcd" as never), "INVALID_INPUT", "role"],
  [
    "an empty tunnel token",
    (i) => (i.extensions!.cloudflared!.token = ""),
    "INVALID_INPUT",
    "extensions.cloudflared.token",
  ],
];

describe("buildNodePatches", () => {
  it.for(CASES)(
    "throws TalosConfigError naming the field when given %s",
    ([, mutate, code, field], { expect }) => {
      const error = thrown(mutate);
      expect(error).toBeInstanceOf(TalosConfigError);
      expect(error.code).toBe(code);
      expect(error.details).toMatchObject({ field });
      expect(error.rawMessage.startsWith(`${field}: `)).toBe(true);
      expect(error.message).not.toContain(FAKE_TUNNEL_TOKEN);
    },
  );
});

describe("buildNodePatches on malformed input", () => {
  const WRONG: unknown[] = [null, 42, "x", [], {}, true];

  function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
    if (value !== null && typeof value === "object") {
      return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
    }
    return [prefix];
  }

  function withValue(path: (string | number)[], value: unknown): NodeIntent {
    const intent = structuredClone(singleNode("v1.15.0")) as unknown as Record<string | number, unknown>;
    let node = intent;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path[path.length - 1]!] = value;
    return intent as unknown as NodeIntent;
  }

  it("throws only TalosConfigError (never a TypeError) when any field has the wrong type", ({ expect }) => {
    const all = paths(singleNode("v1.15.0")).filter((p) => p.length > 0);
    let thrownCount = 0;
    for (const path of all) {
      for (const value of WRONG) {
        for (const target of ["v1.11.6", "v1.15.0"]) {
          const intent = withValue(path, value);
          intent.target = path[0] === "target" ? (value as string) : target;
          try {
            buildNodePatches(intent);
          } catch (error) {
            thrownCount++;
            if (!isTalosConfigError(error))
              throw new Error(`${path.join(".")} = ${JSON.stringify(value)}: ${String(error)}`);
          }
        }
      }
    }
    expect(thrownCount).toBeGreaterThan(100);
  });
});

describe("public functions on wrong input types", () => {
  const WRONG: unknown[] = [undefined, null, 42, "x", [], {}, true, [null], { a: 1 }];
  const CALLS: [string, (v: unknown) => unknown][] = [
    ["createSchematic", (v) => createSchematic(v as never)],
    ["createSchematic.officialExtensions", (v) => createSchematic({ officialExtensions: v as never })],
    ["createSchematic.extraKernelArgs", (v) => createSchematic({ extraKernelArgs: v as never })],
    ["createSchematic.meta", (v) => createSchematic({ meta: v as never })],
    ["createSchematic.overlay", (v) => createSchematic({ overlay: v as never })],
    ["createSchematic.secureboot", (v) => createSchematic({ secureboot: v as never })],
    [
      "createSchematic.knownExtensions",
      (v) => createSchematic({ officialExtensions: ["a/b"], knownExtensions: v as never }),
    ],
    ["parseSchematic", (v) => parseSchematic(v as never)],
    ["installerImage", (v) => installerImage(v as never)],
    [
      "installerImage.version",
      (v) => installerImage({ schematicId: EMPTY_SCHEMATIC_ID, version: v as never }),
    ],
    ["isoUrl", (v) => isoUrl(v as never)],
    ["isoUrl.arch", (v) => isoUrl({ schematicId: EMPTY_SCHEMATIC_ID, version: "v1.13.9", arch: v as never })],
    ["corednsAddress", (v) => corednsAddress(v as never)],
    ["corednsAddresses", (v) => corednsAddresses(v as never)],
    ["parseTalosVersion", (v) => parseTalosVersion(v as never)],
    ["cloudflaredServiceConfig", (v) => cloudflaredServiceConfig(v as never)],
    [
      "cloudflaredServiceConfig.metrics",
      (v) => cloudflaredServiceConfig({ token: "t", metrics: v as never }),
    ],
    ["tailscaleServiceConfig", (v) => tailscaleServiceConfig(v as never)],
    ["tailscaleServiceConfig.routes", (v) => tailscaleServiceConfig({ authKey: "k", routes: v as never })],
    [
      "tailscaleServiceConfig.extraArgs",
      (v) => tailscaleServiceConfig({ authKey: "k", extraArgs: v as never }),
    ],
    ["buildExtensionServices", (v) => buildExtensionServices(v as never)],
    ["buildInstall", (v) => buildInstall({ target: "v1.15.0", install: v as never })],
    [
      "buildInstall.diskSelector",
      (v) => buildInstall({ target: "v1.13.9", install: { diskSelector: v as never } }),
    ],
    ["buildInterfaces", (v) => buildInterfaces({ target: "v1.15.0", interfaces: v as never })],
    ["buildInterfaces.item", (v) => buildInterfaces({ target: "v1.15.0", interfaces: [v as never] })],
    [
      "buildNameservers",
      (v) =>
        buildNameservers({ target: "v1.15.0", nameservers: v as never, serviceSubnets: ["10.96.0.0/12"] }),
    ],
    ["buildTimeServers", (v) => buildTimeServers({ target: "v1.11.0", servers: v as never })],
    ["buildStaticHosts", (v) => buildStaticHosts({ target: "v1.15.0", hosts: [v as never] })],
    ["buildNodeIp", (v) => buildNodeIp({ target: "v1.15.0", validSubnets: v as never })],
    [
      "buildClusterSettings",
      (v) => buildClusterSettings({ target: "v1.15.0", role: "controlplane", cluster: v as never }),
    ],
    ["buildHostname", (v) => buildHostname({ target: "v1.15.0", hostname: v as never })],
    ["buildNodePatches", (v) => buildNodePatches(v as never)],
    ["parseDocuments", (v) => parseDocuments(v as never)],
  ];

  it.for(CALLS)("throws only TalosConfigError from %s", ([, call], { expect }) => {
    for (const value of WRONG) {
      try {
        call(value);
      } catch (error) {
        expect(isTalosConfigError(error), `${JSON.stringify(value)}: ${String(error)}`).toBe(true);
      }
    }
  });
});
