import { describe, it } from "vitest";
import {
  buildNodePatches,
  type ConfigDocument,
  createSchematic,
  type LintFinding,
  lint,
} from "../src/index.js";
import { singleNode, TARGETS } from "./fixtures/single-node.js";

const SCHEMATIC = { officialExtensions: ["siderolabs/cloudflared", "siderolabs/tailscale"] };

function codes(findings: LintFinding[]): string[] {
  return findings.map((f) => f.code);
}

const link = (name: string, body: ConfigDocument = {}): ConfigDocument => ({
  apiVersion: "v1alpha1",
  kind: "LinkConfig",
  name,
  ...body,
});

describe("lint", () => {
  it.for(TARGETS)("finds nothing in the single-node fixture when the target is %s", (target, { expect }) => {
    expect(lint(buildNodePatches(singleNode(target)), { target, schematic: SCHEMATIC })).toEqual([]);
  });

  it("warns about several links and no pinned node IP", ({ expect }) => {
    const docs = [
      link("eno1", { addresses: [{ address: "192.168.50.10/24" }] }),
      link("eno2", { addresses: [{ address: "10.0.0.10/24" }] }),
    ];
    const [finding] = lint(docs, { requireInstallDisk: false });
    expect(finding).toEqual({
      code: "MULTIPLE_LINKS_WITHOUT_NODE_IP",
      severity: "warning",
      path: "v1alpha1:machine.kubelet.nodeIP",
      message: expect.stringContaining("2 links"),
      hint: expect.stringContaining("validSubnets"),
    });
    expect(lint(docs, { requireInstallDisk: false, target: "v1.15.0" })[0]?.path).toBe(
      "KubeNodeConfig:nodeIP",
    );
    const pinned = [
      ...docs,
      { apiVersion: "v1alpha1", kind: "KubeNodeConfig", nodeIP: { validSubnets: ["192.168.50.0/24"] } },
    ];
    expect(lint(pinned, { requireInstallDisk: false })).toEqual([]);
  });

  // The loop (docs/dns.md): the host DNS tries upstreams in order (internal/pkg/dns/handler.go), and
  // CoreDNS's own upstream is the host DNS (forwardKubeDNSToHost) or the machine nameservers.
  it.for([
    [
      "1.14+",
      { apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: [{ address: "10.96.0.10" }] },
      "ResolverConfig:nameservers[0].address",
    ],
    [
      "legacy",
      { version: "v1alpha1", machine: { network: { nameservers: ["1.1.1.1", "10.96.0.10"] } } },
      "v1alpha1:machine.network.nameservers[1]",
    ],
  ] as const)(
    "reports the CoreDNS ClusterIP as a machine nameserver as a loop (%s)",
    ([, doc, path], { expect }) => {
      const docs = [
        doc,
        {
          apiVersion: "v1alpha1",
          kind: "KubeNetworkConfig",
          podSubnets: ["10.244.0.0/16"],
          serviceSubnets: ["10.96.0.0/12"],
        },
      ];
      expect(lint(docs, { requireInstallDisk: false })).toEqual([
        expect.objectContaining({ code: "COREDNS_NAMESERVER_LOOP", severity: "error", path }),
      ]);
    },
  );

  it("reports nothing for public nameservers only", ({ expect }) => {
    const docs = [
      { apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: [{ address: "1.1.1.1" }] },
      {
        apiVersion: "v1alpha1",
        kind: "KubeNetworkConfig",
        podSubnets: ["10.244.0.0/16"],
        serviceSubnets: ["10.96.0.0/12"],
      },
    ];
    expect(lint(docs, { requireInstallDisk: false })).toEqual([]);
  });

  it("reports a CoreDNS nameserver of another distribution", ({ expect }) => {
    const docs = [
      {
        version: "v1alpha1",
        machine: { network: { nameservers: ["10.96.0.10"] } },
        cluster: { network: { serviceSubnets: ["10.43.0.0/16"] } },
      },
    ];
    expect(lint(docs, { requireInstallDisk: false })).toEqual([
      expect.objectContaining({
        code: "COREDNS_NAMESERVER_MISMATCH",
        severity: "error",
        path: "v1alpha1:machine.network.nameservers[0]",
      }),
    ]);
  });

  it("reports legacy fields mixed with their new documents", ({ expect }) => {
    const docs = [
      {
        version: "v1alpha1",
        machine: { network: { hostname: "a" }, kubelet: { nodeIP: { validSubnets: ["10.0.0.0/8"] } } },
      },
      { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "a" },
      { apiVersion: "v1alpha1", kind: "KubeNodeConfig", nodeIP: { validSubnets: ["10.0.0.0/8"] } },
    ];
    const findings = lint(docs, { requireInstallDisk: false });
    expect(findings.filter((f) => f.code === "LEGACY_AND_NEW_MIXED").map((f) => f.path)).toEqual([
      "v1alpha1:machine.network.hostname",
      "v1alpha1:machine.kubelet",
    ]);
  });

  it("warns about legacy fields and rejects new kinds the target does not have", ({ expect }) => {
    const findings = lint(
      [
        { version: "v1alpha1", machine: { install: { disk: "/dev/sda" } } },
        { apiVersion: "v1alpha1", kind: "LinkConfig", name: "eno1" },
      ],
      { target: "v1.11.0" },
    );
    expect(codes(findings)).toEqual(["KIND_NOT_SUPPORTED"]);
    expect(
      codes(
        lint([{ version: "v1alpha1", machine: { install: { disk: "/dev/sda" } } }], { target: "v1.14.0" }),
      ),
    ).toEqual(["LEGACY_FIELD_FOR_TARGET"]);
  });

  it("reports duplicate variables and missing secrets in extension services", ({ expect }) => {
    const docs = [
      {
        apiVersion: "v1alpha1",
        kind: "ExtensionServiceConfig",
        name: "cloudflared",
        environment: ["TUNNEL_METRICS=a:1", "TUNNEL_METRICS=a:2"],
      },
      {
        apiVersion: "v1alpha1",
        kind: "ExtensionServiceConfig",
        name: "tailscale",
        environment: ["TS_HOSTNAME=x"],
      },
    ];
    const findings = lint(docs, { requireInstallDisk: false });
    expect(findings.map((f) => [f.code, f.path])).toEqual([
      ["DUPLICATE_ENVIRONMENT_VARIABLE", "ExtensionServiceConfig/cloudflared:environment[1]"],
      ["EXTENSION_SECRET_MISSING", "ExtensionServiceConfig/cloudflared:environment"],
      ["EXTENSION_SECRET_MISSING", "ExtensionServiceConfig/tailscale:environment"],
    ]);
  });

  it("reports an extension service whose extension is not in the schematic", ({ expect }) => {
    const docs = buildNodePatches(singleNode("v1.13.9"));
    const findings = lint(docs, { schematic: { officialExtensions: ["siderolabs/tailscale"] } });
    expect(
      lint(docs, { schematic: createSchematic({ officialExtensions: ["siderolabs/tailscale"] }).yaml }),
    ).toEqual(findings);
    expect(findings).toEqual([
      expect.objectContaining({
        code: "EXTENSION_NOT_IN_SCHEMATIC",
        path: "ExtensionServiceConfig/cloudflared",
      }),
    ]);
  });

  it("reports a gateway outside the link's addresses and a VIP outside its subnet in new documents", ({
    expect,
  }) => {
    const docs = [
      link("eno1", { addresses: [{ address: "192.168.50.200/24" }], routes: [{ gateway: "192.168.60.1" }] }),
      { apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: "192.168.70.5", link: "eno1" },
    ];
    expect(lint(docs, { requireInstallDisk: false }).map((f) => [f.code, f.path])).toEqual([
      ["ADDRESS_OUTSIDE_GATEWAY_SUBNET", "LinkConfig/eno1:routes[0].gateway"],
      ["VIP_OUTSIDE_LINK_SUBNET", "Layer2VIPConfig/192.168.70.5:name"],
    ]);
  });

  it("reports a gateway and a VIP outside the subnet in legacy interfaces and VLANs", ({ expect }) => {
    const docs = [
      {
        version: "v1alpha1",
        machine: {
          kubelet: { nodeIP: { validSubnets: ["10.0.0.0/24"] } },
          network: {
            interfaces: [
              {
                interface: "eno2",
                addresses: ["10.0.0.5/24"],
                routes: [{ network: "0.0.0.0/0", gateway: "10.0.9.1" }],
                vip: { ip: "10.0.1.5" },
                vlans: [{ vlanId: 20, addresses: ["10.20.0.5/24"], vip: { ip: "10.21.0.5" } }],
              },
            ],
          },
        },
      },
    ];
    expect(lint(docs, { requireInstallDisk: false }).map((f) => [f.code, f.path])).toEqual([
      ["ADDRESS_OUTSIDE_GATEWAY_SUBNET", "v1alpha1:machine.network.interfaces[0].routes[0].gateway"],
      ["VIP_OUTSIDE_LINK_SUBNET", "v1alpha1:machine.network.interfaces[0].vip.ip"],
      ["VIP_OUTSIDE_LINK_SUBNET", "v1alpha1:machine.network.interfaces[0].vlans[0].vip.ip"],
    ]);
  });

  it("reports an endpoint that matches no control-plane address or VIP", ({ expect }) => {
    const intent = singleNode("v1.15.0");
    intent.cluster.endpoint = "https://192.168.50.99:6443";
    const findings = lint(buildNodePatches(intent), { schematic: SCHEMATIC, role: "controlplane" });
    expect(findings).toEqual([
      expect.objectContaining({
        code: "ENDPOINT_NOT_CONTROL_PLANE",
        severity: "warning",
        path: "KubeClusterConfig:endpoint",
      }),
    ]);
    const withCluster = lint(buildNodePatches(intent), {
      schematic: SCHEMATIC,
      role: "controlplane",
      controlPlaneAddresses: ["192.168.50.201", "192.168.50.202"],
    });
    expect(withCluster).toEqual([
      expect.objectContaining({ code: "ENDPOINT_NOT_CONTROL_PLANE", severity: "error" }),
    ]);
    expect(
      lint(buildNodePatches(intent), { schematic: SCHEMATIC, controlPlaneAddresses: ["192.168.50.99"] }),
    ).toEqual([]);
  });

  it("reports a missing install disk for the target's form", ({ expect }) => {
    const intent = singleNode("v1.14.0");
    delete intent.install;
    expect(lint(buildNodePatches(intent), { target: "v1.14.0", schematic: SCHEMATIC })).toEqual([
      expect.objectContaining({
        code: "INSTALL_DISK_MISSING",
        path: "UnattendedInstallConfig:provisioning.diskSelector",
      }),
    ]);
  });

  it("never puts secret values into findings", ({ expect }) => {
    const docs = [
      {
        apiVersion: "v1alpha1",
        kind: "ExtensionServiceConfig",
        name: "cloudflared",
        environment: ["TUNNEL_TOKEN=s3cr3t", "TUNNEL_TOKEN=s3cr3t"],
      },
    ];
    const text = JSON.stringify(lint(docs));
    expect(text).toContain("DUPLICATE_ENVIRONMENT_VARIABLE");
    expect(text).not.toContain("s3cr3t");
  });

  it("reports a hostname set while auto is not off, and stableHostname next to HostnameConfig", ({
    expect,
  }) => {
    const docs = [
      { version: "v1alpha1", machine: { features: { stableHostname: true } } },
      { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "stable", hostname: "n1" },
    ];
    expect(lint(docs, { requireInstallDisk: false }).map((f) => [f.code, f.path])).toEqual([
      ["HOSTNAME_AUTO_CONFLICT", "HostnameConfig:auto"],
      ["HOSTNAME_AUTO_CONFLICT", "v1alpha1:machine.features.stableHostname"],
    ]);
  });

  it("reports an install section with both disk and diskSelector", ({ expect }) => {
    const docs = [
      { version: "v1alpha1", machine: { install: { disk: "/dev/sda", diskSelector: { type: "nvme" } } } },
    ];
    expect(lint(docs).map((f) => [f.code, f.path])).toEqual([
      ["INSTALL_DISK_AMBIGUOUS", "v1alpha1:machine.install"],
    ]);
  });

  it("reports the other legacy sections Talos refuses next to their documents", ({ expect }) => {
    const docs = [
      {
        version: "v1alpha1",
        machine: { nodeLabels: { a: "b" } },
        cluster: { discovery: { enabled: true }, id: "x", secret: "y" },
      },
      { apiVersion: "v1alpha1", kind: "KubeNodeConfig", labels: { a: "b" } },
      { apiVersion: "v1alpha1", kind: "DiscoveryServiceConfig", name: "default" },
      { apiVersion: "v1alpha1", kind: "DiscoveryIdentityConfig" },
    ];
    const findings = lint(docs, { requireInstallDisk: false });
    expect(findings.map((f) => f.path)).toEqual([
      "v1alpha1:machine.nodeLabels",
      "v1alpha1:cluster.discovery",
      "v1alpha1:cluster.id",
      "v1alpha1:cluster.secret",
    ]);
    expect(JSON.stringify(findings)).not.toContain('"y"');
  });
});

describe("lint on malformed documents", () => {
  it("never throws when any field of the documents has the wrong type", ({ expect }) => {
    const WRONG: unknown[] = [null, 42, "x", [], {}, true, [null], [42]];
    let runs = 0;
    for (const target of ["v1.11.6", "v1.13.9", "v1.15.0"]) {
      const base = buildNodePatches(singleNode(target));
      const paths: (string | number)[][] = [];
      const walk = (value: unknown, prefix: (string | number)[]): void => {
        paths.push(prefix);
        if (Array.isArray(value)) {
          for (const [i, v] of value.entries()) walk(v, [...prefix, i]);
        } else if (value !== null && typeof value === "object") {
          for (const [k, v] of Object.entries(value)) walk(v, [...prefix, k]);
        }
      };
      walk(base, []);
      for (const path of paths.filter((p) => p.length > 1)) {
        for (const value of WRONG) {
          const docs = structuredClone(base) as unknown as Record<string | number, unknown>[];
          let node: Record<string | number, unknown> = docs as unknown as Record<string | number, unknown>;
          for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
          node[path[path.length - 1]!] = value;
          lint(docs as ConfigDocument[], { target, schematic: SCHEMATIC, role: "controlplane" });
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThan(500);
  });
});
