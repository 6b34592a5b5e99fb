import { readFileSync } from "node:fs";
import { beforeAll, describe, it } from "vitest";
import {
  applyPatches,
  buildNodePatches,
  type ConfigDocument,
  generateConfig,
  generateSecrets,
  isTalosConfigError,
  type SecretsBundle,
  validateConfig,
} from "../src/index.js";
import { configIssues } from "../src/validate/validate-config.js";
import { singleNode, TARGETS } from "./fixtures/single-node.js";
import { validateForTarget } from "./helpers/schema.js";

let secrets: SecretsBundle;
beforeAll(() => {
  secrets = generateSecrets();
});

function full(target: string, role: "controlplane" | "worker"): ConfigDocument[] {
  const base = generateConfig({
    secrets,
    role,
    clusterName: "homelab",
    endpoint: "https://192.168.50.200:6443",
    target,
    kubernetesVersion: "1.34.1",
    installDisk: "/dev/sda",
  });
  return applyPatches(base, [buildNodePatches({ ...singleNode(target), role })]);
}

const issuesOf = (docs: ConfigDocument[], target: string, partial = false): string[] =>
  configIssues(docs, { target, partial }).map((i) => `${i.document}:${i.path} ${i.message}`);

describe("validateConfig", () => {
  it("uses shapes generated from the current official schemas", async ({ expect }) => {
    // @ts-expect-error: plain ESM script without types
    const { render } = await import("../scripts/gen-schema-shapes.mjs");
    const committed = readFileSync(new URL("../src/gen/schema-shapes.ts", import.meta.url), "utf8");
    expect(
      committed === render(),
      "run: pnpm --filter @talos-homelab/talos-config generate:schema-shapes",
    ).toBe(true);
  });

  it.for(TARGETS)(
    "accepts the generated config with node patches when the target is %s",
    (target, { expect }) => {
      for (const role of ["controlplane", "worker"] as const) {
        const docs = full(target, role);
        expect(issuesOf(docs, target)).toEqual([]);
        // Agrees with ajv on the official schema (test/helpers/schema.ts).
        expect(validateForTarget(docs, target).errors).toEqual([]);
      }
    },
  );

  // Talos decodes every document with known fields only
  // (pkg/machinery/config/configloader/internal/decoder/decoder.go: KnownFields(true)).
  it.for(TARGETS)("rejects an unknown field when the target is %s", (target, { expect }) => {
    const docs = full(target, "worker");
    const patched = applyPatches(docs, [{ machine: { certSANs: ["a.lan"], kubelett: { image: "x" } } }]);
    expect(issuesOf(patched, target)).toEqual(["v1alpha1:machine.kubelett is not a known field"]);
    expect(() => validateConfig(patched, { target })).toThrowError(/INVALID_CONFIG.*machine\.kubelett/);
  });

  it("rejects the schema's UnattendedInstall spelling and accepts the registered kind", ({ expect }) => {
    const doc = {
      apiVersion: "v1alpha1",
      kind: "UnattendedInstall",
      provisioning: { diskSelector: { match: 'disk.dev_path == "/dev/sda"' } },
    };
    expect(issuesOf([doc], "v1.15.0", true)).toEqual([
      'UnattendedInstall:kind Talos v1.15 has no document kind "UnattendedInstall"',
    ]);
    expect(issuesOf([{ ...doc, kind: "UnattendedInstallConfig" }], "v1.15.0", true)).toEqual([]);
  });

  it("rejects a kind the target line does not register", ({ expect }) => {
    const doc = {
      apiVersion: "v1alpha1",
      kind: "KubeletConfig",
      image: "ghcr.io/siderolabs/kubelet:v1.34.1",
    };
    expect(issuesOf([doc], "v1.13.9", true)).toEqual([
      'KubeletConfig:kind Talos v1.13 has no document kind "KubeletConfig"',
    ]);
    expect(issuesOf([doc], "v1.14.0", true)).toEqual([]);
  });

  it("rejects legacy sections a line no longer lists, types and enums", ({ expect }) => {
    const legacy = { machine: { network: { interfaces: [{ interface: "eno1", dhcp: true }] } } };
    expect(issuesOf([legacy], "v1.11.6", true)).toEqual([]);
    expect(issuesOf([legacy], "v1.12.4", true)).toEqual([
      "v1alpha1:machine.network.interfaces is not a known field",
    ]);
    expect(issuesOf([legacy], "v1.13.9", true)).toEqual(["v1alpha1:machine.network is not a known field"]);
    expect(
      issuesOf([{ apiVersion: "v1alpha1", kind: "LinkConfig", name: "eno1", mtu: "1500" }], "v1.13.9", true),
    ).toEqual(["LinkConfig/eno1:mtu must be an integer, not string"]);
    expect(
      issuesOf([{ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "sometimes" }], "v1.13.9", true),
    ).toEqual(['HostnameConfig:auto must be one of "stable", "off"']);
  });

  it("accepts patches without required fields and with deletes only when partial", ({ expect }) => {
    const patch = [
      { apiVersion: "v1alpha1", kind: "KubeFlannelCNIConfig", $patch: "delete" },
      { apiVersion: "v1alpha1", kind: "LinkAliasConfig", selector: { match: "link.driver == 'igc'" } },
    ];
    expect(issuesOf(patch, "v1.15.0", true)).toEqual([]);
    expect(issuesOf(patch, "v1.15.0")).toEqual([
      "KubeFlannelCNIConfig:$patch a complete config cannot hold a delete directive",
      "LinkAliasConfig:name is required",
    ]);
  });

  it("rejects a duplicate document and names no value in its messages", ({ expect }) => {
    const doc = {
      apiVersion: "v1alpha1",
      kind: "ExtensionServiceConfig",
      name: "cloudflared",
      environment: ["TUNNEL_TOKEN=secret-value"],
    };
    try {
      validateConfig([doc, doc, { ...doc, environment: "TUNNEL_TOKEN=secret-value" }], { target: "v1.13.9" });
      expect.unreachable();
    } catch (error) {
      expect(isTalosConfigError(error) && error.code).toBe("INVALID_CONFIG");
      expect(String((error as Error).message)).not.toContain("secret-value");
      expect(JSON.stringify((error as { details: unknown }).details)).not.toContain("secret-value");
    }
  });
});
