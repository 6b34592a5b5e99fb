import { describe, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { applyPatches, type ConfigDocument, type ConfigPatch } from "../src/index.js";
import { failure } from "./helpers/errors.js";
import { pick } from "./helpers/values.js";

function docs(text: string): ConfigDocument[] {
  return parseAllDocuments(text).map((doc) => doc.toJS() as ConfigDocument);
}

function patched(base: string, ...patches: string[]): ConfigDocument[] {
  return applyPatches(
    docs(base),
    patches.map((p) => docs(p)),
  );
}

const LEGACY = `
version: v1alpha1
machine:
  type: controlplane
  certSANs: [10.0.0.1]
  nodeLabels:
    node.kubernetes.io/exclude-from-external-load-balancers: ""
  network:
    hostname: cp1
    nameservers: [1.1.1.1]
    interfaces:
      - interface: eth0
        addresses: [192.168.1.10/24]
        mtu: 1500
        dhcp: true
        vlans:
          - vlanId: 10
            addresses: [10.10.0.1/24]
      - deviceSelector:
          hardwareAddr: "aa:bb:cc:dd:ee:ff"
        addresses: [192.168.2.10/24]
  kubelet:
    extraArgs:
      rotate-server-certificates: "true"
      node-labels: [a=b]
cluster:
  clusterName: lab
  network:
    podSubnets: [10.244.0.0/16]
    serviceSubnets: [10.96.0.0/12]
  apiServer:
    admissionControl:
      - name: PodSecurity
        configuration:
          defaults: { enforce: baseline }
    auditPolicy:
      apiVersion: audit.k8s.io/v1
      rules: [{ level: Metadata }]
  inlineManifests:
    - name: one
      contents: "a"
`;

describe("applyPatches", () => {
  it.for([
    [
      "certSANs",
      "machine:\n  certSANs: [10.0.0.2]",
      (d: unknown) => pick(d, "machine", "certSANs"),
      ["10.0.0.1", "10.0.0.2"],
    ],
    [
      "nameservers",
      "machine:\n  network:\n    nameservers: [8.8.8.8]",
      (d: unknown) => pick(d, "machine", "network", "nameservers"),
      ["1.1.1.1", "8.8.8.8"],
    ],
    [
      "inlineManifests",
      "cluster:\n  inlineManifests:\n    - name: one\n      contents: b",
      (d: unknown) => (pick(d, "cluster", "inlineManifests") as unknown[]).map((m) => pick(m, "contents")),
      ["a", "b"],
    ],
  ] as const)(
    "appends to the %s list when patching a plain list",
    ([, patch, pickFrom, expected], { expect }) => {
      const [doc] = patched(LEGACY, patch);
      expect(pickFrom(doc)).toEqual(expected);
    },
  );

  it.for([
    [
      "podSubnets",
      "cluster:\n  network:\n    podSubnets: [10.32.0.0/16]",
      (d: unknown) => pick(d, "cluster", "network", "podSubnets"),
      ["10.32.0.0/16"],
    ],
    [
      "serviceSubnets",
      "cluster:\n  network:\n    serviceSubnets: [10.43.0.0/16]",
      (d: unknown) => pick(d, "cluster", "network", "serviceSubnets"),
      ["10.43.0.0/16"],
    ],
    [
      "auditPolicy",
      "cluster:\n  apiServer:\n    auditPolicy:\n      rules: [{ level: None }]",
      (d: unknown) => pick(d, "cluster", "apiServer", "auditPolicy"),
      { rules: [{ level: "None" }] },
    ],
  ] as const)("replaces %s instead of merging it", ([, patch, pickFrom, expected], { expect }) => {
    const [doc] = patched(LEGACY, patch);
    expect(pickFrom(doc)).toEqual(expected);
  });

  it("merges interfaces by name and appends an unknown interface", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 9000\n        addresses: [192.168.1.11/24]\n      - interface: eth1\n        dhcp: true",
    );
    const interfaces = pick(doc, "machine", "network", "interfaces") as unknown[];
    expect(interfaces).toHaveLength(3);
    expect(interfaces[0]).toMatchObject({ interface: "eth0", mtu: 9000, dhcp: true });
    expect(pick(interfaces, 0, "addresses")).toEqual(["192.168.1.10/24", "192.168.1.11/24"]);
    expect(interfaces[2]).toEqual({ interface: "eth1", dhcp: true });
  });

  it("merges interfaces by an identical device selector", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      'machine:\n  network:\n    interfaces:\n      - deviceSelector: { hardwareAddr: "aa:bb:cc:dd:ee:ff" }\n        mtu: 1400\n      - deviceSelector: { hardwareAddr: "00:00:00:00:00:01" }\n        dhcp: true',
    );
    const interfaces = pick(doc, "machine", "network", "interfaces") as unknown[];
    expect(interfaces).toHaveLength(3);
    expect(interfaces[1]).toMatchObject({ mtu: 1400, addresses: ["192.168.2.10/24"] });
  });

  it("merges VLANs by id inside a merged interface", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vlans:\n          - vlanId: 10\n            mtu: 1400\n          - vlanId: 20\n            dhcp: true",
    );
    const vlans = pick(doc, "machine", "network", "interfaces", 0, "vlans");
    expect(vlans).toEqual([
      { vlanId: 10, addresses: ["10.10.0.1/24"], mtu: 1400 },
      { vlanId: 20, dhcp: true },
    ]);
  });

  it("merges admission plugins by name", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          defaults: { enforce: restricted }",
    );
    expect(pick(doc, "cluster", "apiServer", "admissionControl")).toEqual([
      { name: "PodSecurity", configuration: { defaults: { enforce: "restricted" } } },
    ]);
  });

  it("replaces extraArgs key by key, list values included", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "machine:\n  kubelet:\n    extraArgs:\n      node-labels: [c=d]\n      node-ip: 192.168.1.10",
    );
    expect(pick(doc, "machine", "kubelet", "extraArgs")).toEqual({
      "rotate-server-certificates": "true",
      "node-labels": ["c=d"],
      "node-ip": "192.168.1.10",
    });
  });

  it("keeps a value when the patch carries an empty string or zero, but always takes booleans", ({
    expect,
  }) => {
    const [doc] = patched(
      LEGACY,
      'machine:\n  network:\n    hostname: ""\n    interfaces:\n      - interface: eth0\n        mtu: 0\n        dhcp: false',
    );
    expect(pick(doc, "machine", "network", "hostname")).toBe("cp1");
    expect(pick(doc, "machine", "network", "interfaces", 0, "mtu")).toBe(1500);
    expect(pick(doc, "machine", "network", "interfaces", 0, "dhcp")).toBe(false);
  });

  it("does not modify its inputs", ({ expect }) => {
    const base = docs(LEGACY);
    const before = structuredClone(base);
    const patch = docs("machine:\n  certSANs: [x]");
    applyPatches(base, [patch]);
    expect(base).toEqual(before);
  });

  it("merges a patch document into the config document with the same apiVersion, kind and name", ({
    expect,
  }) => {
    const result = patched(
      `version: v1alpha1
machine: { type: worker }
---
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: cloudflared
environment: [TUNNEL_TOKEN=old]
configFiles:
  - mountPath: /etc/a
    content: one
---
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: tailscale
environment: [TS_AUTHKEY=k]`,
      `apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: cloudflared
environment: [TUNNEL_TOKEN=new]
configFiles:
  - mountPath: /etc/a
    content: two
  - mountPath: /etc/b
    content: three`,
    );
    expect(result).toHaveLength(3);
    // The trap: environment is a plain list, so re-patching a variable duplicates it.
    expect(pick(result[1], "environment")).toEqual(["TUNNEL_TOKEN=old", "TUNNEL_TOKEN=new"]);
    expect(pick(result[1], "configFiles")).toEqual([
      { mountPath: "/etc/a", content: "two" },
      { mountPath: "/etc/b", content: "three" },
    ]);
    expect(pick(result[2], "environment")).toEqual(["TS_AUTHKEY=k"]);
  });

  it("appends a patch document that matches no config document", ({ expect }) => {
    const result = patched(LEGACY, "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable");
    expect(result.map((d) => pick(d, "kind") ?? "v1alpha1")).toEqual(["v1alpha1", "HostnameConfig"]);
  });

  it("appends LinkConfig addresses and routes (no merge by key in multi-doc kinds)", ({ expect }) => {
    const [link] = patched(
      "apiVersion: v1alpha1\nkind: LinkConfig\nname: eno1\naddresses:\n  - address: 192.168.50.200/24\nroutes:\n  - gateway: 192.168.50.1",
      "apiVersion: v1alpha1\nkind: LinkConfig\nname: eno1\naddresses:\n  - address: 192.168.50.201/24",
    );
    expect(pick(link, "addresses")).toEqual([
      { address: "192.168.50.200/24" },
      { address: "192.168.50.201/24" },
    ]);
    expect(pick(link, "routes")).toHaveLength(1);
  });

  it("replaces KubeNetworkConfig subnets", ({ expect }) => {
    const [net] = patched(
      "apiVersion: v1alpha1\nkind: KubeNetworkConfig\npodSubnets: [10.244.0.0/16]\nserviceSubnets: [10.96.0.0/12]",
      "apiVersion: v1alpha1\nkind: KubeNetworkConfig\npodSubnets: [10.42.0.0/16]",
    );
    expect(pick(net, "podSubnets")).toEqual(["10.42.0.0/16"]);
    expect(pick(net, "serviceSubnets")).toEqual(["10.96.0.0/12"]);
  });

  it("deletes a whole document with $patch: delete", ({ expect }) => {
    const result = patched(
      `${LEGACY}\n---\napiVersion: v1alpha1\nkind: SideroLinkConfig\napiUrl: https://x`,
      "apiVersion: v1alpha1\nkind: SideroLinkConfig\n$patch: delete",
    );
    expect(result).toHaveLength(1);
  });

  it("skips a document delete when the document does not exist", ({ expect }) => {
    const result = patched(LEGACY, "apiVersion: v1alpha1\nkind: SideroLinkConfig\n$patch: delete");
    expect(result).toEqual(docs(LEGACY));
  });

  it("deletes a named document only when the name matches", ({ expect }) => {
    const result = patched(
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: a\nenvironment: [A=1]\n---\napiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: b\nenvironment: [B=1]",
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: b\n$patch: delete",
    );
    expect(result.map((d) => pick(d, "name"))).toEqual(["a"]);
  });

  it("deletes a key with $patch: delete", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "machine:\n  network:\n    hostname:\n      $patch: delete\n  nodeLabels:\n    node.kubernetes.io/exclude-from-external-load-balancers:\n      $patch: delete",
    );
    expect(pick(doc, "machine", "network", "hostname")).toBeUndefined();
    expect(pick(doc, "machine", "nodeLabels")).toEqual({});
    expect(pick(doc, "machine", "network", "nameservers")).toEqual(["1.1.1.1"]);
  });

  it("fails with lookup failed when the deleted key does not exist", ({ expect }) => {
    const error = failure(() =>
      patched("version: v1alpha1\nmachine: {}", "machine:\n  network:\n    hostname:\n      $patch: delete"),
    );
    expect(error.code).toBe("INVALID_PATCH");
    expect(error.message).toContain("lookup failed");
    expect(error.details).toMatchObject({ path: "machine.network.hostname" });
  });

  it("deletes a list element selected by its first key and re-adds it from the same patch", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        $patch: delete\n      - interface: eth0\n        dhcp: false",
    );
    expect(pick(doc, "machine", "network", "interfaces")).toEqual([
      { deviceSelector: { hardwareAddr: "aa:bb:cc:dd:ee:ff" }, addresses: ["192.168.2.10/24"] },
      { interface: "eth0", dhcp: false },
    ]);
  });

  it("deletes an admission plugin by name", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete",
    );
    expect(pick(doc, "cluster", "apiServer", "admissionControl")).toEqual([]);
  });

  it("rejects deleting a key inside a list element", ({ expect }) => {
    const error = failure(() =>
      patched(
        LEGACY,
        "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu:\n          $patch: delete",
      ),
    );
    expect(error.message).toContain("inner key");
  });

  it("rejects a document delete without apiVersion and kind", ({ expect }) => {
    const error = failure(() => patched(LEGACY, "version: v1alpha1\n$patch: delete"));
    expect(error.code).toBe("INVALID_PATCH");
  });

  it("applies JSON 6902 operations to a single-document config", ({ expect }) => {
    const patch: ConfigPatch = [
      { op: "add", path: "/machine/network/interfaces/0/addresses/-", value: "192.168.1.12/24" },
      { op: "replace", path: "/machine/network/hostname", value: "cp2" },
      { op: "remove", path: "/machine/certSANs/0" },
      { op: "copy", from: "/cluster/clusterName", path: "/machine/nodeLabels/cluster" },
      { op: "move", from: "/cluster/inlineManifests", path: "/cluster/extraManifestsMoved" },
      { op: "test", path: "/machine/type", value: "controlplane" },
      { op: "add", path: "/machine/nodeLabels/a~1b", value: "c" },
    ];
    const [doc] = applyPatches(docs(LEGACY), [patch]);
    expect(pick(doc, "machine", "network", "interfaces", 0, "addresses")).toEqual([
      "192.168.1.10/24",
      "192.168.1.12/24",
    ]);
    expect(pick(doc, "machine", "network", "hostname")).toBe("cp2");
    expect(pick(doc, "machine", "certSANs")).toEqual([]);
    expect(pick(doc, "machine", "nodeLabels", "cluster")).toBe("lab");
    expect(pick(doc, "machine", "nodeLabels", "a/b")).toBe("c");
    expect(pick(doc, "cluster", "inlineManifests")).toBeUndefined();
    expect(pick(doc, "cluster", "extraManifestsMoved")).toHaveLength(1);
  });

  it("rejects JSON 6902 patches on a multi-document config as Talos does", ({ expect }) => {
    const error = failure(() =>
      applyPatches(docs(`${LEGACY}\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable`), [
        [{ op: "add", path: "/machine/certSANs/-", value: "x" }],
      ]),
    );
    expect(error.code).toBe("INVALID_PATCH");
    expect(error.message).toContain("not supported for multi-document machine configuration");
  });

  it("fails a JSON 6902 test operation that does not match", ({ expect }) => {
    const error = failure(() =>
      applyPatches(docs(LEGACY), [[{ op: "test", path: "/machine/type", value: "worker" }]]),
    );
    expect(error.details).toMatchObject({ path: "/machine/type" });
  });

  it("fails with the path when a patch merges a mapping into a list", ({ expect }) => {
    const error = failure(() => patched(LEGACY, "machine:\n  certSANs:\n    a: b"));
    expect(error.code).toBe("INVALID_PATCH");
    expect(error.details).toMatchObject({ path: "machine.certSANs", document: "v1alpha1" });
  });

  it("applies patches in order", ({ expect }) => {
    const [doc] = patched(
      LEGACY,
      "machine:\n  network:\n    hostname: a",
      "machine:\n  network:\n    hostname: b",
    );
    expect(pick(doc, "machine", "network", "hostname")).toBe("b");
  });

  it("loads a patch from YAML text like --config-patch", ({ expect }) => {
    const [doc] = applyPatches(docs(LEGACY), ["machine:\n  network:\n    hostname: from-text\n"]);
    expect(pick(doc, "machine", "network", "hostname")).toBe("from-text");
  });

  it("loads a JSON patch from JSON text", ({ expect }) => {
    const [doc] = applyPatches(docs(LEGACY), [
      '[{"op": "replace", "path": "/machine/type", "value": "worker"}]',
    ]);
    expect(pick(doc, "machine", "type")).toBe("worker");
  });

  it("rejects text that is neither a strategic-merge nor a JSON patch", ({ expect }) => {
    expect(failure(() => applyPatches(docs(LEGACY), ["- just\n- a list\n"])).code).toBe("INVALID_PATCH");
  });

  it("deletes a config file selected by its content and adds another in the same patch", ({ expect }) => {
    const [service] = patched(
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: foo\nconfigFiles:\n  - content: hello\n    mountPath: /etc/foo\n",
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: foo\nconfigFiles:\n  - content: hello\n    $patch: delete\n  - content: hello2\n    mountPath: /etc/foo2\n",
    );
    expect(pick(service, "configFiles")).toEqual([{ content: "hello2", mountPath: "/etc/foo2" }]);
  });

  it("skips key deletes aimed at a document the config does not have, keeping the header-only rest as Talos does", ({
    expect,
  }) => {
    const result = patched(
      LEGACY,
      "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname:\n  $patch: delete\n",
    );
    expect(result).toEqual([...docs(LEGACY), { apiVersion: "v1alpha1", kind: "HostnameConfig" }]);
    const legacyOnly = patched(
      LEGACY,
      "version: v1alpha1\nmachine:\n  network:\n    hostname:\n      $patch: delete\n",
    );
    expect(legacyOnly).toHaveLength(1);
  });

  it("leaves fields alone when the patch sets them to null or an empty list", ({ expect }) => {
    const [doc] = patched(LEGACY, "machine:\n  certSANs: []\n  network:\n    hostname: null\n");
    expect(pick(doc, "machine", "certSANs")).toEqual(["10.0.0.1"]);
    expect(pick(doc, "machine", "network", "hostname")).toBe("cp1");
  });

  it("does not remove a replaced field when the patch list is empty", ({ expect }) => {
    const [doc] = patched(LEGACY, "cluster:\n  network:\n    podSubnets: []\n");
    expect(pick(doc, "cluster", "network", "podSubnets")).toEqual(["10.244.0.0/16"]);
  });
});
