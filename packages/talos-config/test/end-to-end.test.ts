import { beforeAll, describe, it } from "vitest";
import { parse } from "yaml";
import {
  applyPatches,
  buildNodePatches,
  type ConfigDocument,
  createSchematic,
  documentKind,
  generateConfig,
  generateSecrets,
  lint,
  type NodeIntent,
  parseDocuments,
  type SecretsBundle,
  secretsToYaml,
  stringifyDocuments,
  versionFeatures,
} from "../src/index.js";
import { singleNode, TARGETS } from "./fixtures/single-node.js";
import { validateForTarget } from "./helpers/schema.js";

let secrets: SecretsBundle;
beforeAll(() => {
  secrets = generateSecrets();
});

const SCHEMATIC = createSchematic({ officialExtensions: ["siderolabs/cloudflared", "siderolabs/tailscale"] });

function fullConfig(intent: NodeIntent): ConfigDocument[] {
  const base = generateConfig({
    secrets,
    role: intent.role,
    clusterName: intent.cluster.name ?? "homelab",
    endpoint: intent.cluster.endpoint,
    target: intent.target,
    kubernetesVersion: "1.34.1",
    installDisk: "/dev/sda",
  });
  return applyPatches(base, [buildNodePatches(intent)]);
}

describe("buildNodePatches on generateConfig", () => {
  it.for(TARGETS)(
    "yields a full config that passes the official schema and lint when the target is %s",
    (target, { expect }) => {
      const docs = fullConfig(singleNode(target));
      const { errors } = validateForTarget(docs, target);
      expect(errors).toEqual([]);
      const findings = lint(docs, { target, schematic: SCHEMATIC }).filter((f) => f.severity !== "info");
      expect(findings).toEqual([]);
      // Round trip through text, as the CLI writes and re-reads it.
      expect(parseDocuments(stringifyDocuments(docs))).toEqual(docs);
    },
  );

  it.for(TARGETS)(
    "applies the intent's hostname, node IP and install disk when the target is %s",
    (target, { expect }) => {
      const text = stringifyDocuments(fullConfig(singleNode(target)));
      expect(text).toContain("talos-cp-1");
      expect(text).toContain("192.168.50.0/24");
      expect(text).toMatch(/nvme0n1/);
      expect(text).not.toMatch(/\/dev\/sda/);
    },
  );

  it("removes the generator's control-plane taint when scheduling is allowed on 1.14+", ({ expect }) => {
    const docs = fullConfig(singleNode("v1.15.0"));
    const node = docs.find((d) => documentKind(d) === "KubeNodeConfig");
    expect(node?.taints).toEqual({});
    const blocked = fullConfig({
      ...singleNode("v1.15.0"),
      cluster: { ...singleNode("v1.15.0").cluster, allowSchedulingOnControlPlanes: false },
    });
    expect(blocked.find((d) => documentKind(d) === "KubeNodeConfig")?.taints).toEqual({
      "node-role.kubernetes.io/control-plane": "NoSchedule",
    });
  });

  it.for(TARGETS)(
    "adds certSANs to the Talos and Kubernetes API certificates when the target is %s",
    (target, { expect }) => {
      const docs = fullConfig(singleNode(target));
      const v1 = docs.find((d) => documentKind(d) === "v1alpha1") as {
        machine: { certSANs?: string[] };
        cluster: { apiServer?: { certSANs?: string[] } };
      };
      expect(v1.machine.certSANs).toEqual(expect.arrayContaining(["192.168.50.200", "talos-cp-1.lan"]));
      const apiServerSans = versionFeatures(target).legacyKubernetes
        ? v1.cluster.apiServer?.certSANs
        : (docs.find((d) => documentKind(d) === "KubeAPIServerConfig")?.certExtraSANs as
            | string[]
            | undefined);
      expect(apiServerSans).toEqual(expect.arrayContaining(["192.168.50.200", "talos-cp-1.lan"]));
    },
  );

  it("turns the generator's auto hostname off on 1.12+", ({ expect }) => {
    const docs = fullConfig(singleNode("v1.13.9"));
    expect(docs.filter((d) => documentKind(d) === "HostnameConfig")).toEqual([
      { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "talos-cp-1" },
    ]);
  });

  it("duplicates TUNNEL_TOKEN when the same patches are applied twice, and lint catches it", ({ expect }) => {
    const intent = singleNode("v1.13.9");
    const twice = applyPatches(fullConfig(intent), [buildNodePatches(intent)]);
    expect(lint(twice, { target: "v1.13.9" }).map((f) => f.code)).toContain("DUPLICATE_ENVIRONMENT_VARIABLE");
  });
});

describe("buildNodeIp with a fixed address", () => {
  it.for(TARGETS)(
    "sets the kubelet node-ip argument in a schema-valid full config when the target is %s",
    (target, { expect }) => {
      const intent: NodeIntent = { ...singleNode(target), nodeIp: { address: "192.168.50.200" } };
      const docs = fullConfig(intent);
      expect(validateForTarget(docs, target).errors).toEqual([]);
      const text = stringifyDocuments(docs);
      expect(text).toContain("node-ip: 192.168.50.200");
      expect(text).not.toContain("validSubnets");
    },
  );

  it("throws naming nodeIp when both subnets and an address are given", ({ expect }) => {
    const intent = {
      ...singleNode("v1.15.0"),
      nodeIp: { address: "192.168.50.200", validSubnets: ["192.168.50.0/24"] },
    };
    expect(() => buildNodePatches(intent as never)).toThrowError(
      expect.objectContaining({ details: { field: "nodeIp" } }),
    );
  });
});

describe("stringifyDocuments with redact on a generated config", () => {
  function secretValues(): string[] {
    const out: string[] = [];
    const walk = (value: unknown, key: string): void => {
      if (typeof value === "string") {
        if (/key|token|secret/i.test(key) && value.length > 8) out.push(value);
      } else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) walk(v, k);
      }
    };
    walk(parse(secretsToYaml(secrets)), "");
    return out;
  }

  it.for(TARGETS)(
    "leaves no secret of the bundle in the text when the target is %s",
    (target, { expect }) => {
      const values = secretValues();
      expect(values.length).toBeGreaterThan(5);
      const docs = fullConfig(singleNode(target));
      const plain = stringifyDocuments(docs);
      const redacted = stringifyDocuments(docs, { redact: true });
      expect(values.some((v) => plain.includes(v))).toBe(true);
      expect(values.filter((v) => redacted.includes(v))).toEqual([]);
    },
  );
});
