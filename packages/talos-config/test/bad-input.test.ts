import { describe, it } from "vitest";
import { buildNodePatches, isTalosConfigError, type NodeIntent, TalosConfigError } from "../src/index.js";
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
