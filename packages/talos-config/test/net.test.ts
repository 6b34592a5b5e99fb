import { describe, it } from "vitest";
import {
  cidrContains,
  corednsAddress,
  corednsAddresses,
  formatIp,
  parseCidr,
  parseIp,
  tryParseCidr,
  tryParseIp,
} from "../src/index.js";

describe("corednsAddress", () => {
  it.for([
    ["10.96.0.0/12", "10.96.0.10"],
    ["10.43.0.0/16", "10.43.0.10"],
    ["10.96.0.1/12", "10.96.0.10"],
    ["fd00:10:96::/112", "fd00:10:96::a"],
    ["2001:DB8::/108", "2001:db8::a"],
  ])("returns the subnet base + 10 when the service subnet is %s", ([subnet, expected], { expect }) => {
    expect(corednsAddress(subnet!)).toBe(expected);
  });

  it("throws INVALID_CIDR naming serviceSubnet when the text is not a CIDR", ({ expect }) => {
    expect(() => corednsAddress("10.96.0.0")).toThrowError(expect.objectContaining({ code: "INVALID_CIDR" }));
    expect(() => corednsAddress("10.96.0.0/29")).toThrowError(/serviceSubnet: .*too small/);
  });
});

describe("corednsAddresses", () => {
  it("gives one address per family, first subnet of each, when the cluster is dual-stack", ({ expect }) => {
    expect(corednsAddresses(["10.96.0.0/12", "fd00:96::/112", "10.200.0.0/16"])).toEqual([
      "10.96.0.10",
      "fd00:96::a",
    ]);
    expect(corednsAddresses(["fd00:96::/112", "10.96.0.0/12"])).toEqual(["fd00:96::a", "10.96.0.10"]);
  });
});

describe("tryParseIp", () => {
  it("round-trips IPv4 and compresses IPv6 when formatting", ({ expect }) => {
    expect(formatIp(tryParseIp("192.168.50.200")!)).toBe("192.168.50.200");
    expect(formatIp(tryParseIp("FD00:0:0:0:0:0:0:A")!)).toBe("fd00::a");
    expect(formatIp(tryParseIp("2001:db8:0:1:0:0:0:1")!)).toBe("2001:db8:0:1::1");
    expect(formatIp(tryParseIp("::ffff:192.168.1.1")!)).toBe("::ffff:c0a8:101");
    expect(formatIp(tryParseIp("::")!)).toBe("::");
  });

  it.for(["256.1.1.1", "1.2.3", "01.2.3.4", "fd00::1::2", "1:2:3:4:5:6:7:8:9", "hello", ""])(
    "returns undefined when given %j",
    (text, { expect }) => {
      expect(tryParseIp(text)).toBeUndefined();
    },
  );
});

describe("parseCidr", () => {
  it("names the field when the prefix is out of range", ({ expect }) => {
    expect(() => parseCidr("10.0.0.0/33", "cluster.podSubnets[0]")).toThrowError(
      /^\[INVALID_CIDR\] cluster\.podSubnets\[0\]: "10\.0\.0\.0\/33"/,
    );
    expect(tryParseCidr("fd00::/129")).toBeUndefined();
  });
});

describe("cidrContains", () => {
  it("matches only addresses of the same family inside the prefix", ({ expect }) => {
    const lan = parseCidr("192.168.50.200/24", "x");
    expect(cidrContains(lan, parseIp("192.168.50.1", "x"))).toBe(true);
    expect(cidrContains(lan, parseIp("192.168.51.1", "x"))).toBe(false);
    expect(cidrContains(lan, parseIp("::1", "x"))).toBe(false);
  });
});
