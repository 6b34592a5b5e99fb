import { describe, it } from "vitest";
import { buildNodePatches, documentLabel, stringifyDocuments } from "../src/index.js";
import { FAKE_TS_AUTHKEY, FAKE_TUNNEL_TOKEN, singleNode, TARGETS } from "./fixtures/single-node.js";
import { validateForTarget } from "./helpers/schema.js";

describe("buildNodePatches", () => {
  it.for(TARGETS)(
    "builds schema-valid documents for the single-node fixture when the target is %s",
    (target, { expect }) => {
      const docs = buildNodePatches(singleNode(target));
      const { errors } = validateForTarget(docs, target);
      expect(errors).toEqual([]);
    },
  );

  it.for(TARGETS)("emits the documents its line expects when the target is %s", (target, { expect }) => {
    expect(buildNodePatches(singleNode(target)).map(documentLabel)).toMatchSnapshot();
  });

  it("renders the v1.13 fixture with legacy kubernetes fields and new network documents", ({ expect }) => {
    const text = stringifyDocuments(buildNodePatches(singleNode("v1.13.9")), { redact: true });
    expect(text).toMatchInlineSnapshot(`
      "version: v1alpha1
      machine:
        certSANs:
          - 192.168.50.200
          - talos-cp-1.lan
        install:
          disk: /dev/nvme0n1
          wipe: false
        kubelet:
          nodeIP:
            validSubnets:
              - 192.168.50.0/24
      cluster:
        allowSchedulingOnControlPlanes: true
        apiServer:
          certSANs:
            - 192.168.50.200
            - talos-cp-1.lan
        clusterName: homelab
        controlPlane:
          endpoint: https://192.168.50.200:6443
        etcd:
          advertisedSubnets:
            - 192.168.50.0/24
        network:
          podSubnets:
            - 10.244.0.0/16
          serviceSubnets:
            - 10.96.0.0/12
      ---
      apiVersion: v1alpha1
      kind: HostnameConfig
      auto: "off"
      hostname: talos-cp-1
      ---
      apiVersion: v1alpha1
      kind: LinkConfig
      name: eno1
      addresses:
        - address: 192.168.50.200/24
      routes:
        - gateway: 192.168.50.1
      up: true
      ---
      apiVersion: v1alpha1
      kind: ResolverConfig
      nameservers:
        - address: 1.1.1.1
      ---
      apiVersion: v1alpha1
      kind: TimeSyncConfig
      ntp:
        servers:
          - time.cloudflare.com
      ---
      apiVersion: v1alpha1
      kind: ExtensionServiceConfig
      name: cloudflared
      configFiles:
        - content: |
            nameserver 10.96.0.10
            nameserver 1.1.1.1
            options timeout:1 attempts:2
          mountPath: /etc/resolv.conf
      environment:
        - TUNNEL_TOKEN=<redacted>
        - TUNNEL_METRICS=localhost:2000
      ---
      apiVersion: v1alpha1
      kind: ExtensionServiceConfig
      name: tailscale
      environment:
        - TS_AUTHKEY=<redacted>
        - TS_ROUTES=10.96.0.0/12
        - TS_HOSTNAME=talos-cp-1
      "
    `);
  });

  it("renders the v1.15 fixture with only new documents besides machine.certSANs", ({ expect }) => {
    const text = stringifyDocuments(buildNodePatches(singleNode("v1.15.0")), { redact: true });
    expect(text).toMatchInlineSnapshot(`
      "version: v1alpha1
      machine:
        certSANs:
          - 192.168.50.200
          - talos-cp-1.lan
      cluster:
        etcd:
          advertisedSubnets:
            - 192.168.50.0/24
      ---
      apiVersion: v1alpha1
      kind: HostnameConfig
      auto: "off"
      hostname: talos-cp-1
      ---
      apiVersion: v1alpha1
      kind: LinkConfig
      name: eno1
      addresses:
        - address: 192.168.50.200/24
      routes:
        - gateway: 192.168.50.1
      up: true
      ---
      apiVersion: v1alpha1
      kind: ResolverConfig
      nameservers:
        - address: 1.1.1.1
      ---
      apiVersion: v1alpha1
      kind: TimeSyncConfig
      ntp:
        servers:
          - time.cloudflare.com
      ---
      apiVersion: v1alpha1
      kind: KubeClusterConfig
      clusterName: homelab
      endpoint: https://192.168.50.200:6443
      ---
      apiVersion: v1alpha1
      kind: KubeAPIServerConfig
      certExtraSANs:
        - 192.168.50.200
        - talos-cp-1.lan
      ---
      apiVersion: v1alpha1
      kind: KubeNetworkConfig
      podSubnets:
        - 10.244.0.0/16
      serviceSubnets:
        - 10.96.0.0/12
      ---
      apiVersion: v1alpha1
      kind: KubeNodeConfig
      nodeIP:
        validSubnets:
          - 192.168.50.0/24
      taints:
        node-role.kubernetes.io/control-plane:
          $patch: delete
      ---
      apiVersion: v1alpha1
      kind: UnattendedInstallConfig
      provisioning:
        diskSelector:
          match: disk.dev_path == "/dev/nvme0n1"
        wipe: false
      ---
      apiVersion: v1alpha1
      kind: ExtensionServiceConfig
      name: cloudflared
      configFiles:
        - content: |
            nameserver 10.96.0.10
            nameserver 1.1.1.1
            options timeout:1 attempts:2
          mountPath: /etc/resolv.conf
      environment:
        - TUNNEL_TOKEN=<redacted>
        - TUNNEL_METRICS=localhost:2000
      ---
      apiVersion: v1alpha1
      kind: ExtensionServiceConfig
      name: tailscale
      environment:
        - TS_AUTHKEY=<redacted>
        - TS_ROUTES=10.96.0.0/12
        - TS_HOSTNAME=talos-cp-1
      "
    `);
  });

  it("renders the v1.11 fixture entirely in v1alpha1 except the extension services", ({ expect }) => {
    const text = stringifyDocuments(buildNodePatches(singleNode("v1.11.6")), { redact: true });
    expect(text).toMatchInlineSnapshot(`
      "version: v1alpha1
      machine:
        certSANs:
          - 192.168.50.200
          - talos-cp-1.lan
        install:
          disk: /dev/nvme0n1
          wipe: false
        kubelet:
          nodeIP:
            validSubnets:
              - 192.168.50.0/24
        network:
          hostname: talos-cp-1
          interfaces:
            - interface: eno1
              addresses:
                - 192.168.50.200/24
              routes:
                - gateway: 192.168.50.1
                  network: 0.0.0.0/0
          nameservers:
            - 1.1.1.1
        time:
          servers:
            - time.cloudflare.com
      cluster:
        allowSchedulingOnControlPlanes: true
        apiServer:
          certSANs:
            - 192.168.50.200
            - talos-cp-1.lan
        clusterName: homelab
        controlPlane:
          endpoint: https://192.168.50.200:6443
        etcd:
          advertisedSubnets:
            - 192.168.50.0/24
        network:
          podSubnets:
            - 10.244.0.0/16
          serviceSubnets:
            - 10.96.0.0/12
      ---
      apiVersion: v1alpha1
      kind: ExtensionServiceConfig
      name: cloudflared
      configFiles:
        - content: |
            nameserver 10.96.0.10
            nameserver 1.1.1.1
            options timeout:1 attempts:2
          mountPath: /etc/resolv.conf
      environment:
        - TUNNEL_TOKEN=<redacted>
        - TUNNEL_METRICS=localhost:2000
      ---
      apiVersion: v1alpha1
      kind: ExtensionServiceConfig
      name: tailscale
      environment:
        - TS_AUTHKEY=<redacted>
        - TS_ROUTES=10.96.0.0/12
        - TS_HOSTNAME=talos-cp-1
      "
    `);
  });

  it("keeps the tokens in unredacted output when redact is off", ({ expect }) => {
    const text = stringifyDocuments(buildNodePatches(singleNode("v1.13.9")));
    expect(text).toContain(`TUNNEL_TOKEN=${FAKE_TUNNEL_TOKEN}`);
    expect(text).toContain(`TS_AUTHKEY=${FAKE_TS_AUTHKEY}`);
  });
});

describe("buildNodePatches with the CLI's homelab.yaml shapes", () => {
  it.for(TARGETS)(
    "accepts vlanId, route network, a glob selector and a disk selector when the target is %s",
    (target, { expect }) => {
      const intent = {
        ...singleNode(target),
        interfaces: [
          {
            name: "eno1",
            addresses: ["192.168.50.200/24"],
            gateway: "192.168.50.1",
            routes: [{ network: "10.20.0.0/16", gateway: "192.168.50.254", metric: 1024 }],
            vlans: [{ vlanId: 30, addresses: ["192.168.30.200/24"], vip: "192.168.30.250" }],
            vip: "192.168.50.250",
          },
          // A glob may match several links: 1.12 refuses it (see buildInterfaces), so an exact MAC there.
          {
            selector: {
              hardwareAddr: target.startsWith("v1.12") ? "aa:bb:cc:dd:ee:ff" : "aa:bb:cc:*",
              physical: true,
            },
            dhcp: true,
          },
        ],
        install: { diskSelector: { size: ">= 100GB", type: "nvme" as const, model: "Samsung*" }, wipe: true },
      };
      const docs = buildNodePatches(intent);
      expect(validateForTarget(docs, target).errors).toEqual([]);
    },
  );
});
