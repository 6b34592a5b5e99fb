import { describe, it } from "vitest";
import { buildInstall, diskSelectorExpression } from "../src/builders/install.js";
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
  type ConfigDocument,
  documentKind,
  type InterfaceIntent,
  type NodeIntent,
  supportsKind,
  versionFeatures,
} from "../src/index.js";
import { FAKE_TS_AUTHKEY, FAKE_TUNNEL_TOKEN, singleNode, TARGETS } from "./fixtures/single-node.js";
import { legacyFieldErrors, schemaErrors, schemaKinds, validateForTarget } from "./helpers/schema.js";

const RICH_INTERFACES: InterfaceIntent[] = [
  {
    name: "eno1",
    addresses: ["192.168.50.200/24", "FD00:50::C8/64"],
    gateway: "192.168.50.1",
    mtu: 9000,
    vip: "192.168.50.250",
    routes: [{ network: "10.10.0.0/16", gateway: "192.168.50.254", metric: 100 }],
    vlans: [
      { id: 20, addresses: ["192.168.20.5/24"], vip: "192.168.20.250", mtu: 1500 },
      { id: 30, dhcp: true },
    ],
  },
  { selector: { hardwareAddr: "AA:BB:CC:DD:EE:FF", driver: "igc" }, dhcp: true, dhcpRouteMetric: 2048 },
  { name: "eno3", dhcp6: true, vlans: [{ id: 40, dhcp: true, dhcp6: true }] },
];

const CLUSTER_VARIANTS: { label: string; cluster: NodeIntent["cluster"]; role: NodeIntent["role"] }[] = [
  {
    label: "flannel control plane with manifests",
    role: "controlplane",
    cluster: {
      name: "homelab",
      endpoint: "https://192.168.50.250:6443",
      podSubnets: ["10.244.0.0/16", "fd00:244::/56"],
      serviceSubnets: ["10.96.0.0/12", "fd00:96::/112"],
      dnsDomain: "cluster.local",
      allowSchedulingOnControlPlanes: false,
      certSANs: ["192.168.50.250", "k8s.lan"],
      cni: { name: "flannel" },
      inlineManifests: [
        { name: "namespace", contents: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n" },
      ],
      externalManifests: [
        "https://example.invalid/manifests/gateway-api.yaml",
        { url: "https://example.invalid/private/app.yaml", headers: { Authorization: "Bearer x" } },
      ],
    },
  },
  {
    label: "custom CNI with scheduling",
    role: "controlplane",
    cluster: {
      name: "homelab",
      endpoint: "https://192.168.50.200:6443",
      podSubnets: ["10.244.0.0/16"],
      serviceSubnets: ["10.96.0.0/12"],
      allowSchedulingOnControlPlanes: true,
      cni: { name: "custom", urls: ["https://example.invalid/cilium.yaml"] },
    },
  },
  {
    label: "no CNI worker",
    role: "worker",
    cluster: {
      name: "homelab",
      endpoint: "https://cp.lan:6443",
      podSubnets: ["10.244.0.0/16"],
      serviceSubnets: ["10.96.0.0/12"],
      cni: { name: "none" },
      inlineManifests: [{ name: "ignored-on-workers", contents: "kind: x\n" }],
    },
  },
];

function expectValid(
  docs: ConfigDocument[],
  target: string,
  expect: (v: unknown) => { toEqual(x: unknown): void },
): void {
  expect(validateForTarget(docs, target).errors).toEqual([]);
}

function legacySections(docs: ConfigDocument[]): string[] {
  const out: string[] = [];
  for (const doc of docs) {
    if (documentKind(doc) !== "v1alpha1") continue;
    const machine = (doc.machine ?? {}) as Record<string, unknown>;
    const cluster = (doc.cluster ?? {}) as Record<string, unknown>;
    for (const key of ["network", "time", "kubelet", "install"])
      if (key in machine) out.push(`machine.${key}`);
    for (const key of Object.keys(cluster)) out.push(`cluster.${key}`);
  }
  return out.sort();
}

describe("buildHostname", () => {
  it.for(TARGETS)("validates against the official schema when the target is %s", (target, { expect }) => {
    const docs = buildHostname({ target, hostname: "talos-cp-1" });
    expectValid(docs, target, expect);
    const legacy = versionFeatures(target).legacyNetwork;
    expect(docs).toEqual(
      legacy
        ? [{ version: "v1alpha1", machine: { network: { hostname: "talos-cp-1" } } }]
        : [{ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "talos-cp-1" }],
    );
  });
});

describe("buildInterfaces", () => {
  it.for(TARGETS)(
    "validates names, selectors, VLANs, VIPs, DHCP and routes when the target is %s",
    (target, { expect }) => {
      const docs = buildInterfaces({ target, interfaces: RICH_INTERFACES });
      expectValid(docs, target, expect);
      expect(
        docs.map((d) => (d.kind === undefined ? "v1alpha1" : `${String(d.kind)}/${String(d.name)}`)),
      ).toMatchSnapshot();
    },
  );

  it("writes a selector as a CEL alias and addresses in lower case when the target is 1.12+", ({
    expect,
  }) => {
    const docs = buildInterfaces({ target: "v1.12.0", interfaces: RICH_INTERFACES });
    expect(docs.find((d) => d.kind === "LinkAliasConfig")).toEqual({
      apiVersion: "v1alpha1",
      kind: "LinkAliasConfig",
      name: "net1",
      selector: { match: 'mac(link.hardware_addr) == "aa:bb:cc:dd:ee:ff" && link.driver == "igc"' },
    });
    expect(docs.find((d) => d.kind === "LinkConfig" && d.name === "eno1")?.addresses).toEqual([
      { address: "192.168.50.200/24" },
      { address: "fd00:50::c8/64" },
    ]);
    expect(docs.find((d) => d.kind === "VLANConfig" && d.name === "eno1.20")).toMatchObject({
      vlanID: 20,
      parent: "eno1",
    });
    expect(docs.find((d) => d.kind === "Layer2VIPConfig" && d.name === "192.168.20.250")).toMatchObject({
      link: "eno1.20",
    });
    expect(docs.find((d) => d.kind === "DHCPv4Config" && d.name === "net1")).toMatchObject({
      routeMetric: 2048,
    });
  });

  it("nests VLANs and uses a deviceSelector when the target is 1.11", ({ expect }) => {
    const [doc] = buildInterfaces({ target: "v1.11.0", interfaces: RICH_INTERFACES });
    const interfaces = (doc as { machine: { network: { interfaces: unknown[] } } }).machine.network
      .interfaces;
    expect(interfaces[2]).toEqual({
      interface: "eno3",
      dhcp: true,
      dhcpOptions: { ipv4: false, ipv6: true },
      vlans: [{ vlanId: 40, dhcp: true, dhcpOptions: { ipv6: true } }],
    });
    expect(interfaces[1]).toEqual({
      deviceSelector: { hardwareAddr: "aa:bb:cc:dd:ee:ff", driver: "igc" },
      dhcp: true,
      dhcpOptions: { routeMetric: 2048 },
    });
    expect(interfaces[0]).toMatchObject({
      interface: "eno1",
      vip: { ip: "192.168.50.250" },
      routes: [
        { network: "0.0.0.0/0", gateway: "192.168.50.1" },
        { network: "10.10.0.0/16", gateway: "192.168.50.254", metric: 100 },
      ],
      vlans: [
        { vlanId: 20, addresses: ["192.168.20.5/24"], vip: { ip: "192.168.20.250" }, mtu: 1500 },
        { vlanId: 30, dhcp: true },
      ],
    });
  });

  it("writes globs and physical into CEL for 1.12+ and keeps them in deviceSelector for 1.11", ({
    expect,
  }) => {
    const interfaces: InterfaceIntent[] = [
      { selector: { hardwareAddr: "00:1A:2B:*", physical: true }, dhcp: true },
    ];
    expect(buildInterfaces({ target: "v1.13.9", interfaces }).slice(0, 2)).toEqual([
      {
        apiVersion: "v1alpha1",
        kind: "LinkAliasConfig",
        name: "net0-%d",
        selector: {
          match: 'glob("00:1a:2b:*", mac(link.hardware_addr)) && link.type == 1 && link.kind == ""',
        },
      },
      { apiVersion: "v1alpha1", kind: "LinkConfig", name: "net0-0", up: true },
    ]);
    const [legacy] = buildInterfaces({ target: "v1.11.0", interfaces });
    expect(legacy).toEqual({
      version: "v1alpha1",
      machine: {
        network: {
          interfaces: [{ deviceSelector: { hardwareAddr: "00:1a:2b:*", physical: true }, dhcp: true }],
        },
      },
    });
    expectValid([legacy!], "v1.11.0", expect);
  });

  // Talos 1.12+ skips a fixed-name alias whose selector matches several links
  // (internal/app/machined/pkg/controllers/network/link_alias_config.go); pattern aliases exist from 1.13.
  it("refuses a selector that may match several links when the target is 1.12", ({ expect }) => {
    for (const selector of [{ driver: "igc" }, { hardwareAddr: "00:1a:2b:*" }, { physical: true }]) {
      expect(() =>
        buildInterfaces({ target: "v1.12.11", interfaces: [{ selector, dhcp: true }] }),
      ).toThrowError(/interfaces\[0\]\.selector: may match several links/);
    }
  });

  it("keeps a fixed alias for an exact MAC address or bus path when the target is 1.12+", ({ expect }) => {
    for (const selector of [
      { hardwareAddr: "aa:bb:cc:dd:ee:ff", driver: "igc" },
      { busPath: "0000:01:00.0" },
    ]) {
      const [alias] = buildInterfaces({
        target: "v1.12.11",
        interfaces: [{ name: "lan", selector, dhcp: true }],
      });
      expect(alias).toMatchObject({ kind: "LinkAliasConfig", name: "lan" });
    }
  });

  it("rejects a raw CEL match when the target is 1.11", ({ expect }) => {
    expect(() =>
      buildInterfaces({ target: "v1.11.0", interfaces: [{ selector: { match: "link.driver == 'igc'" } }] }),
    ).toThrowError(/interfaces\[0\]\.selector\.match/);
  });
});

describe("buildNameservers", () => {
  it.for(TARGETS)(
    "keeps the coredns token out of the machine nameservers when the target is %s",
    (target, { expect }) => {
      const docs = buildNameservers({
        target,
        nameservers: ["coredns", "1.1.1.1"],
        serviceSubnets: ["10.96.0.0/12", "fd00:96::/112"],
        searchDomains: ["lan"],
      });
      expectValid(docs, target, expect);
      const text = JSON.stringify(docs);
      expect(text).toContain("1.1.1.1");
      expect(text).not.toContain("10.96.0.10");
      expect(text).not.toContain("fd00:96::a");
      expect(
        buildNameservers({ target, nameservers: ["coredns"], serviceSubnets: ["10.96.0.0/12"] }),
      ).toEqual([]);
    },
  );

  // A CoreDNS ClusterIP as machine nameserver loops CoreDNS and the host DNS (docs/dns.md).
  it("refuses an address of the service subnet as a machine nameserver", ({ expect }) => {
    expect(() =>
      buildNameservers({
        target: "v1.13.9",
        nameservers: ["10.96.0.10", "1.1.1.1"],
        serviceSubnets: ["10.96.0.0/12"],
      }),
    ).toThrowError(/nameservers\[0\]: 10\.96\.0\.10 is in the service subnet/);
  });
});

describe("buildNodePatches nameservers", () => {
  it.for(TARGETS)(
    "gives cloudflared alone a resolv.conf asking CoreDNS first when the target is %s",
    (target, { expect }) => {
      const base = singleNode(target);
      const docs = buildNodePatches({
        ...base,
        nameservers: ["coredns", "1.1.1.1", "1.0.0.1"],
        extensions: { cloudflared: { token: FAKE_TUNNEL_TOKEN } },
      });
      const cloudflared = docs.find((d) => d.kind === "ExtensionServiceConfig" && d.name === "cloudflared");
      expect(cloudflared?.configFiles).toEqual([
        {
          content:
            "nameserver 10.96.0.10\nnameserver 1.1.1.1\nnameserver 1.0.0.1\noptions timeout:1 attempts:2\n",
          mountPath: "/etc/resolv.conf",
        },
      ]);
      const machine = JSON.stringify(docs.filter((d) => d.kind !== "ExtensionServiceConfig"));
      expect(machine).not.toContain("10.96.0.10");
      expectValid(docs, target, expect);
      const onlyCoredns = buildNodePatches({
        ...base,
        nameservers: ["coredns"],
        extensions: { cloudflared: { token: FAKE_TUNNEL_TOKEN } },
      });
      expect(
        onlyCoredns.find((d) => d.kind === "ExtensionServiceConfig" && d.name === "cloudflared")?.configFiles,
      ).toEqual([
        {
          content: "nameserver 10.96.0.10\nnameserver 127.0.0.53\noptions timeout:1 attempts:2\n",
          mountPath: "/etc/resolv.conf",
        },
      ]);
    },
  );
});

describe("buildTimeServers", () => {
  it.for(TARGETS)("validates against the official schema when the target is %s", (target, { expect }) => {
    const docs = buildTimeServers({ target, servers: ["time.cloudflare.com", "192.168.50.1"] });
    expectValid(docs, target, expect);
    expect(documentKind(docs[0]!)).toBe(versionFeatures(target).legacyTime ? "v1alpha1" : "TimeSyncConfig");
  });
});

describe("buildNodeIp", () => {
  it.for(TARGETS)(
    "pins the kubelet node IP where the target expects it when the target is %s",
    (target, { expect }) => {
      const docs = buildNodeIp({ target, validSubnets: ["192.168.50.7/24", "!192.168.50.250/32"] });
      expectValid(docs, target, expect);
      const expected = { validSubnets: ["192.168.50.0/24", "!192.168.50.250/32"] };
      if (versionFeatures(target).legacyKubernetes) {
        expect(docs).toEqual([{ version: "v1alpha1", machine: { kubelet: { nodeIP: expected } } }]);
      } else {
        expect(docs).toEqual([{ apiVersion: "v1alpha1", kind: "KubeNodeConfig", nodeIP: expected }]);
      }
    },
  );
});

describe("buildClusterSettings", () => {
  for (const variant of CLUSTER_VARIANTS) {
    it.for(TARGETS)(`validates a ${variant.label} when the target is %s`, (target, { expect }) => {
      const docs = buildClusterSettings({ target, role: variant.role, cluster: variant.cluster });
      expectValid(docs, target, expect);
      expect(docs).toMatchSnapshot();
    });
  }

  // KubeFlannelCNIConfig is a control-plane document (the 1.14+ generator emits it for control planes
  // only, and Talos requires a backend type in it): a worker gets neither the document nor a delete.
  it.for(["v1.14.0", "v1.15.0"])(
    "gives a worker no KubeFlannelCNIConfig for any CNI when the target is %s",
    (target, { expect }) => {
      for (const cni of ["flannel", "none"] as const) {
        const docs = buildClusterSettings({
          target,
          role: "worker",
          cluster: { ...CLUSTER_VARIANTS[0]!.cluster, cni },
        });
        expect(docs.map(documentKind)).not.toContain("KubeFlannelCNIConfig");
      }
    },
  );

  it("removes the control-plane taint and the flannel document when 1.14+ schedules on a custom CNI", ({
    expect,
  }) => {
    const docs = buildClusterSettings({
      target: "v1.14.0",
      role: "controlplane",
      cluster: CLUSTER_VARIANTS[1]!.cluster,
    });
    expect(docs).toContainEqual({ apiVersion: "v1alpha1", kind: "KubeFlannelCNIConfig", $patch: "delete" });
    expect(docs).toContainEqual({
      apiVersion: "v1alpha1",
      kind: "KubeNodeConfig",
      taints: { "node-role.kubernetes.io/control-plane": { $patch: "delete" } },
    });
    expect(docs).toContainEqual({
      apiVersion: "v1alpha1",
      kind: "KubeExternalManifestConfig",
      name: "cni-cilium",
      url: "https://example.invalid/cilium.yaml",
    });
  });
});

describe("buildInstall", () => {
  it.for(TARGETS)(
    "validates a disk, a selector, wipe and image when the target is %s",
    (target, { expect }) => {
      const image =
        "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.13.9";
      const byDisk = buildInstall({ target, install: { disk: "/dev/sda", wipe: true, image } });
      const bySelector = buildInstall({
        target,
        install: { diskSelector: { size: ">= 100GB", type: "nvme", model: "Samsung*" } },
      });
      expectValid([...byDisk, ...bySelector], target, expect);
      if (versionFeatures(target).legacyInstall) {
        expect(byDisk).toEqual([
          { version: "v1alpha1", machine: { install: { disk: "/dev/sda", wipe: true, image } } },
        ]);
      } else {
        expect(byDisk).toEqual([
          {
            apiVersion: "v1alpha1",
            kind: "UnattendedInstallConfig",
            installer: { image },
            provisioning: { diskSelector: { match: 'disk.dev_path == "/dev/sda"' }, wipe: true },
          },
        ]);
        expect(bySelector[0]).toMatchObject({
          provisioning: {
            diskSelector: {
              match:
                'disk.size >= 100000000000u && glob("Samsung*", disk.model) && disk.transport != "" && ' +
                'disk.transport == "nvme" && !disk.readonly && !disk.cdrom',
            },
          },
        });
      }
    },
  );
});

describe("diskSelectorExpression", () => {
  // Talos derives this expression itself from machine.install.diskSelector on every line
  // (pkg/machinery/config/types/v1alpha1/v1alpha1_provider.go DiskMatchExpression): the 1.14+ document
  // must select the same disk, guards and glob matching included.
  it("matches Talos' own conversion of a legacy selector, guards included", ({ expect }) => {
    expect(
      diskSelectorExpression({
        diskSelector: {
          size: "<= 2TB",
          serial: "S4EW",
          wwid: "eui.*",
          type: "ssd",
          busPath: "/pci0000:00/*",
        },
      }),
    ).toBe(
      'disk.size <= 2000000000000u && glob("eui.*", disk.wwid) && glob("S4EW", disk.serial) && ' +
        'disk.transport != "" && !disk.rotational && glob("/pci0000:00/*", disk.bus_path) && ' +
        "!disk.readonly && !disk.cdrom",
    );
  });

  // Talos parses the size with go-humanize ParseBytes: units with or without the B, any case, commas.
  it.for([
    ["100G", "100000000000u"],
    ["100gb", "100000000000u"],
    ["1Ti", "1099511627776u"],
    [">= 1,000 MiB", "1048576000u"],
    ["2PB", "2000000000000000u"],
  ] as const)("parses the size %s as Talos does", ([size, bytes], { expect }) => {
    expect(diskSelectorExpression({ diskSelector: { size } })).toContain(
      `disk.size ${size.startsWith(">=") ? ">=" : "=="} ${bytes}`,
    );
  });

  it("selects a device path exactly", ({ expect }) => {
    expect(diskSelectorExpression({ disk: "/dev/nvme0n1" })).toBe('disk.dev_path == "/dev/nvme0n1"');
  });
});

describe("buildExtensionServices", () => {
  it.for(TARGETS)(
    "validates cloudflared and tailscale documents when the target is %s",
    (target, { expect }) => {
      const docs = buildExtensionServices({
        cloudflared: { token: FAKE_TUNNEL_TOKEN },
        tailscale: {
          authKey: FAKE_TS_AUTHKEY,
          routes: ["10.96.0.0/12", "192.168.50.0/24"],
          extraArgs: ["--accept-dns=false", "--ssh"],
        },
      });
      expectValid(docs, target, expect);
      expect(docs[1]?.environment).toEqual([
        `TS_AUTHKEY=${FAKE_TS_AUTHKEY}`,
        "TS_ROUTES=10.96.0.0/12,192.168.50.0/24",
        "TS_EXTRA_ARGS=--accept-dns=false --ssh",
      ]);
    },
  );
});

describe("buildNodePatches", () => {
  it.for(TARGETS)(
    "never mixes legacy fields with their new documents when the target is %s",
    (target, { expect }) => {
      const intent: NodeIntent = {
        ...singleNode(target),
        interfaces: RICH_INTERFACES,
        cluster: CLUSTER_VARIANTS[0]!.cluster,
      };
      const docs = buildNodePatches(intent);
      expectValid(docs, target, expect);
      const features = versionFeatures(target);
      const allowed = [
        // etcd has no document of its own on any line.
        "cluster.etcd",
        ...(features.legacyNetwork ? ["machine.network"] : []),
        ...(features.legacyTime ? ["machine.time"] : []),
        ...(features.legacyKubernetes
          ? [
              "machine.kubelet",
              "cluster.allowSchedulingOnControlPlanes",
              "cluster.clusterName",
              "cluster.controlPlane",
            ]
          : []),
        ...(features.legacyKubernetes
          ? [
              "cluster.apiServer",
              "cluster.extraManifestHeaders",
              "cluster.extraManifests",
              "cluster.inlineManifests",
              "cluster.network",
            ]
          : []),
        ...(features.legacyInstall ? ["machine.install"] : []),
      ];
      for (const section of legacySections(docs)) expect(allowed).toContain(section);
      for (const doc of docs) expect(supportsKind(target, documentKind(doc))).toBe(true);
    },
  );

  it("pins the node IP to the gateway interface's subnets when nodeIp is absent", ({ expect }) => {
    const docs = buildNodePatches({ ...singleNode("v1.15.0"), interfaces: RICH_INTERFACES });
    expect(docs.find((d) => d.kind === "KubeNodeConfig")?.nodeIP).toEqual({
      validSubnets: ["192.168.50.0/24", "fd00:50::/64"],
    });
  });

  it("uses the given nodeIp over the derived one when both could apply", ({ expect }) => {
    const docs = buildNodePatches({
      ...singleNode("v1.13.9"),
      nodeIp: { validSubnets: ["192.168.50.0/24"] },
    });
    expect((docs[0] as { machine: { kubelet: unknown } }).machine.kubelet).toEqual({
      nodeIP: { validSubnets: ["192.168.50.0/24"] },
    });
  });
});

describe("official schemas", () => {
  it("flags a legacy network key the facts do not list", ({ expect }) => {
    expect(legacyFieldErrors([{ network: { interfaces: [{ interface: "eno1", gateway: "x" }] } }])).toEqual([
      "machine.network.interfaces[0].gateway is not a known interface field",
    ]);
  });

  it("rejects machine.network.interfaces under the 1.13 schema although Talos 1.13 still parses it", ({
    expect,
  }) => {
    const [doc] = buildInterfaces({
      target: "v1.11.0",
      interfaces: [{ name: "eno1", addresses: ["192.168.50.200/24"] }],
    });
    expect(schemaErrors(doc!, "v1.13")).toEqual([
      'v1alpha1/machine must NOT have additional properties {"additionalProperty":"network"}',
    ]);
  });

  it("rejects the 1.13 legacy kubelet, install and cluster fields under the 1.15 schema", ({ expect }) => {
    const docs = buildNodePatches(singleNode("v1.13.9"));
    const errors = schemaErrors(docs[0]!, "v1.15");
    expect(errors).toContain(
      'v1alpha1/machine must NOT have additional properties {"additionalProperty":"kubelet"}',
    );
    expect(errors).toContain(
      'v1alpha1/machine must NOT have additional properties {"additionalProperty":"install"}',
    );
    expect(errors).toContain(
      'v1alpha1/cluster must NOT have additional properties {"additionalProperty":"network"}',
    );
  });

  it("spells the unattended-install kind UnattendedInstall while Talos registers UnattendedInstallConfig", ({
    expect,
  }) => {
    expect(schemaKinds("v1.15")).toContain("UnattendedInstall");
    expect(schemaKinds("v1.15")).not.toContain("UnattendedInstallConfig");
    const [doc] = buildInstall({ target: "v1.15.0", install: { disk: "/dev/sda" } });
    expect(doc?.kind).toBe("UnattendedInstallConfig");
    expect(schemaErrors(doc!, "v1.15")).toEqual([]);
  });

  it.for([
    ["v1.13", "v1.13.9"],
    ["v1.15", "v1.15.0"],
  ] as const)("lists only kinds the %s line registers", ([line, target], { expect }) => {
    // The schemas spell two kinds differently from what Talos registers.
    const spelling: Record<string, string> = {
      UnattendedInstall: "UnattendedInstallConfig",
      KubeSpanEndpoints: "KubeSpanEndpointsConfig",
    };
    const kinds = schemaKinds(line)
      .filter((k) => k !== "v1alpha1")
      .map((k) => spelling[k] ?? k);
    expect(kinds.filter((k) => !versionFeatures(target).registeredKinds.includes(k))).toEqual([]);
    expect(versionFeatures(target).registeredKinds.length - kinds.length).toBeLessThanOrEqual(1);
  });

  it("has no Kubernetes documents in the 1.13 schema", ({ expect }) => {
    const docs = buildNodePatches(singleNode("v1.14.0")).filter((d) =>
      String(d.kind ?? "").startsWith("Kube"),
    );
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(schemaErrors(doc, "v1.13")[0]).toMatch(/is not in the v1.13 schema/);
  });
});

describe("buildStaticHosts", () => {
  it.for(TARGETS)("validates static host entries when the target is %s", (target, { expect }) => {
    const docs = buildStaticHosts({
      target,
      hosts: [{ ip: "192.168.50.10", hostnames: ["nas", "nas.lan"] }],
    });
    expectValid(docs, target, expect);
    expect(docs).toEqual(
      versionFeatures(target).legacyNetwork
        ? [
            {
              version: "v1alpha1",
              machine: {
                network: { extraHostEntries: [{ ip: "192.168.50.10", aliases: ["nas", "nas.lan"] }] },
              },
            },
          ]
        : [
            {
              apiVersion: "v1alpha1",
              kind: "StaticHostConfig",
              name: "192.168.50.10",
              hostnames: ["nas", "nas.lan"],
            },
          ],
    );
  });
});

describe("input aliases", () => {
  it("accepts destination for network, vlanId for id and a bare CNI name", ({ expect }) => {
    const a = buildNodePatches({
      ...singleNode("v1.13.9"),
      interfaces: [
        {
          name: "eno1",
          addresses: ["192.168.50.200/24"],
          routes: [{ destination: "10.0.0.0/8", gateway: "192.168.50.254" }],
          vlans: [{ vlanId: 20, dhcp: true }],
        },
      ],
      cluster: { ...singleNode("v1.13.9").cluster, cni: "none" },
    });
    expect(
      a.map((d) => (d.kind === undefined ? "v1alpha1" : `${String(d.kind)}/${String(d.name ?? "")}`)),
    ).toContain("VLANConfig/eno1.20");
    expect(JSON.stringify(a)).toContain('"destination":"10.0.0.0/8"');
    expect((a[0] as { cluster: { network: { cni: unknown } } }).cluster.network.cni).toEqual({
      name: "none",
    });
  });
});
