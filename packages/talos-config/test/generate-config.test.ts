import { X509Certificate } from "node:crypto";
import { describe, it } from "vitest";
import {
  applyPatches,
  type ConfigDocument,
  generateConfig,
  generateSecrets,
  SUPPORTED_TALOS_LINES,
  type TalosLine,
} from "../src/index.js";
import { failure } from "./helpers/errors.js";
import { schemaForLine } from "./helpers/schema.js";
import { pick } from "./helpers/values.js";

const secrets = generateSecrets();
const base = {
  secrets,
  clusterName: "homelab",
  endpoint: "https://192.168.50.200:6443",
  kubernetesVersion: "1.34.1",
} as const;

function kinds(docs: ConfigDocument[]): string[] {
  return docs.map((d) => (typeof d.kind === "string" ? d.kind : "v1alpha1"));
}

const MATRIX = SUPPORTED_TALOS_LINES.flatMap((line) =>
  (["controlplane", "worker"] as const).map((role) => [line, role] as const),
);

describe("generateConfig", () => {
  it.for(MATRIX)("emits a config the %s schema accepts for a %s", ([line, role], { expect }) => {
    const schema = schemaForLine(line as TalosLine);
    for (const options of [
      {},
      { installDisk: "/dev/sda", additionalSANs: ["cp.lab"], allowSchedulingOnControlPlanes: true },
    ]) {
      const docs = generateConfig({ ...base, ...options, role, target: `${line}.0` });
      expect(docs.flatMap((doc) => schema.validate(doc))).toEqual([]);
    }
  });

  it.for(MATRIX)("emits each document once for %s %s", ([line, role], { expect }) => {
    const docs = generateConfig({ ...base, role, target: line });
    const keys = docs.map((d) => `${kinds([d])[0]}/${String(d.name ?? "")}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("emits only the v1alpha1 document for 1.11, with networking and Kubernetes inside it", ({ expect }) => {
    const docs = generateConfig({ ...base, role: "controlplane", target: "v1.11.6" });
    expect(kinds(docs)).toEqual(["v1alpha1"]);
    expect(pick(docs[0], "machine", "network")).toEqual({});
    expect(pick(docs[0], "machine", "features", "stableHostname")).toBe(true);
    expect(pick(docs[0], "cluster", "apiServer", "certSANs")).toEqual(["192.168.50.200"]);
    expect(pick(docs[0], "cluster", "controlPlane", "endpoint")).toBe("https://192.168.50.200:6443");
  });

  it("adds the HostnameConfig document from 1.12 and drops machine.network from 1.13", ({ expect }) => {
    const v12 = generateConfig({ ...base, role: "worker", target: "v1.12.0" });
    const v13 = generateConfig({ ...base, role: "worker", target: "v1.13.9" });
    expect(kinds(v12)).toEqual(["v1alpha1", "HostnameConfig"]);
    expect(v12[1]).toEqual({ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "stable" });
    expect(pick(v12[0], "machine", "network")).toEqual({});
    expect(pick(v13[0], "machine", "network")).toBeUndefined();
    expect(pick(v13[0], "machine", "install")).toEqual({ wipe: false, grubUseUKICmdline: true });
  });

  it.for(["v1.14.0", "v1.15.0"])(
    "moves Kubernetes, identity and install settings into documents for %s",
    (target, { expect }) => {
      const cp = generateConfig({ ...base, role: "controlplane", target, installDisk: "/dev/nvme0n1" });
      expect(kinds(cp)).toEqual([
        "v1alpha1",
        "DiscoveryServiceConfig",
        "DiscoveryIdentityConfig",
        "UnattendedInstallConfig",
        "ResolverConfig",
        "VolumeConfig",
        "FilesystemTrimConfig",
        "SecurityProfileConfig",
        "HostnameConfig",
        "KubeClusterConfig",
        "KubeNodeConfig",
        "KubeletConfig",
        "KubeNetworkConfig",
        "KubeAPIServerCAConfig",
        "KubePrismConfig",
        "KubeAggregatorCAConfig",
        "KubeAdmissionControlConfig",
        "KubeAuditPolicyConfig",
        "KubeAuthenticationConfig",
        "KubeAuthorizerConfig",
        "KubeAuthorizerConfig",
        "KubeEtcdEncryptionConfig",
        "KubeServiceAccountConfig",
        "KubeAPIServerConfig",
        "KubeControllerManagerConfig",
        "KubeSchedulerConfig",
        "KubeProxyConfig",
        "KubeFlannelCNIConfig",
        "KubeCoreDNSConfig",
      ]);
      const v1alpha1 = cp[0];
      expect(Object.keys(pick(v1alpha1, "cluster") as object)).toEqual(["token", "etcd"]);
      expect(pick(v1alpha1, "machine", "kubelet")).toBeUndefined();
      expect(pick(cp[3], "provisioning", "diskSelector", "match")).toBe('disk.dev_path == "/dev/nvme0n1"');
      const worker = generateConfig({ ...base, role: "worker", target });
      expect(kinds(worker)).toHaveLength(14);
      expect(
        pick(
          worker.find((d) => d.kind === "KubeAPIServerCAConfig"),
          "acceptedCAs",
        ),
      ).toEqual([secrets.certs.k8s.crt]);
      expect(
        pick(
          worker.find((d) => d.kind === "KubeNodeConfig"),
          "taints",
        ),
      ).toBeUndefined();
    },
  );

  it("puts the bundle's material where Talos expects it", ({ expect }) => {
    const [legacy] = generateConfig({ ...base, role: "controlplane", target: "v1.13.9" });
    const osCrt = Buffer.from(String(pick(legacy, "machine", "ca", "crt")), "base64").toString();
    expect(new X509Certificate(osCrt).subject).toBe("O=talos");
    expect(pick(legacy, "machine", "token")).toBe(secrets.trustdInfo.token);
    expect(pick(legacy, "cluster", "token")).toBe(secrets.secrets.bootstrapToken);
    expect(pick(legacy, "cluster", "secretboxEncryptionSecret")).toBe(
      secrets.secrets.secretboxEncryptionSecret,
    );
    const [worker] = generateConfig({ ...base, role: "worker", target: "v1.13.9" });
    expect(pick(worker, "machine", "ca", "key")).toBe("");
    expect(pick(worker, "cluster", "serviceAccount")).toBeUndefined();
    const modern = generateConfig({ ...base, role: "controlplane", target: "v1.15.0" });
    expect(
      pick(
        modern.find((d) => d.kind === "DiscoveryIdentityConfig"),
        "clusterSecret",
      ),
    ).toBe(secrets.cluster.secret);
    expect(
      pick(
        modern.find((d) => d.kind === "KubeServiceAccountConfig"),
        "issuer",
        "privateKey",
      ),
    ).toBe(secrets.certs.k8sServiceAccount.key);
  });

  it("keeps control planes tainted unless scheduling on them is allowed", ({ expect }) => {
    const tainted = generateConfig({ ...base, role: "controlplane", target: "v1.15.0" });
    const open = generateConfig({
      ...base,
      role: "controlplane",
      target: "v1.15.0",
      allowSchedulingOnControlPlanes: true,
    });
    expect(
      pick(
        tainted.find((d) => d.kind === "KubeNodeConfig"),
        "taints",
      ),
    ).toEqual({
      "node-role.kubernetes.io/control-plane": "NoSchedule",
    });
    expect(
      pick(
        open.find((d) => d.kind === "KubeNodeConfig"),
        "taints",
      ),
    ).toBeUndefined();
    const [legacy] = generateConfig({
      ...base,
      role: "controlplane",
      target: "v1.13.0",
      allowSchedulingOnControlPlanes: true,
    });
    expect(pick(legacy, "cluster", "allowSchedulingOnControlPlanes")).toBe(true);
  });

  it("uses IPv6 default subnets for an IPv6 endpoint", ({ expect }) => {
    const docs = generateConfig({
      ...base,
      endpoint: "https://[fd00::10]:6443",
      role: "worker",
      target: "v1.15.0",
    });
    expect(
      pick(
        docs.find((d) => d.kind === "KubeNetworkConfig"),
        "podSubnets",
      ),
    ).toEqual(["fc00:db8:10::/56"]);
  });

  it("applies patches with the patch engine after generating", ({ expect }) => {
    const docs = generateConfig({
      ...base,
      role: "controlplane",
      target: "v1.15.0",
      patches: [
        [
          { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "cp1" },
          { apiVersion: "v1alpha1", kind: "KubeNetworkConfig", serviceSubnets: ["10.43.0.0/16"] },
          { apiVersion: "v1alpha1", kind: "KubeFlannelCNIConfig", $patch: "delete" },
        ],
      ],
    });
    expect(docs.find((d) => d.kind === "HostnameConfig")).toEqual({
      apiVersion: "v1alpha1",
      kind: "HostnameConfig",
      auto: "off",
      hostname: "cp1",
    });
    expect(
      pick(
        docs.find((d) => d.kind === "KubeNetworkConfig"),
        "serviceSubnets",
      ),
    ).toEqual(["10.43.0.0/16"]);
    expect(docs.some((d) => d.kind === "KubeFlannelCNIConfig")).toBe(false);
    expect(
      schemaForLine("v1.15").validate(docs.find((d) => d.kind === "HostnameConfig") as ConfigDocument),
    ).toEqual([]);
  });

  it("rejects a JSON patch on the multi-document config of 1.12+", ({ expect }) => {
    const error = failure(() =>
      generateConfig({
        ...base,
        role: "worker",
        target: "v1.12.0",
        patches: [[{ op: "add", path: "/debug", value: true }]],
      }),
    );
    expect(error.code).toBe("INVALID_PATCH");
    const single = generateConfig({ ...base, role: "worker", target: "v1.11.0" });
    expect(pick(applyPatches(single, [[{ op: "replace", path: "/debug", value: true }]])[0], "debug")).toBe(
      true,
    );
  });

  it.for([
    [{ target: "v1.9.0" }, "UNSUPPORTED_VERSION", "target"],
    [{ target: "latest" }, "UNSUPPORTED_VERSION", "target"],
    [{ endpoint: "192.168.50.200:6443" }, "INVALID_INPUT", "endpoint"],
    [{ endpoint: "http://192.168.50.200:6443" }, "INVALID_INPUT", "endpoint"],
    [{ clusterName: "" }, "INVALID_INPUT", "clusterName"],
    [{ clusterName: "   " }, "INVALID_INPUT", "clusterName"],
    [{ kubernetesVersion: "latest" }, "INVALID_INPUT", "kubernetesVersion"],
    [{ role: "master" }, "INVALID_INPUT", "role"],
  ] as const)(
    "throws TalosConfigError naming the field for bad input %o",
    ([override, code, field], { expect }) => {
      const error = failure(() =>
        generateConfig({ ...base, role: "worker", target: "v1.15.0", ...(override as object) } as Parameters<
          typeof generateConfig
        >[0]),
      );
      expect(error.code).toBe(code);
      expect(error.field).toBe(field);
      expect(error.message).toContain(field);
    },
  );
});
