import { describe, it } from "vitest";
import {
  compareTalosVersions,
  parseTalosVersion,
  supportsKind,
  talosLine,
  usesLegacyInstall,
  usesLegacyKubernetes,
  usesLegacyNetwork,
  versionFeatures,
} from "../src/index.js";

describe("parseTalosVersion", () => {
  it("parses a full tag when it has the leading v", ({ expect }) => {
    expect(parseTalosVersion("v1.13.9")).toEqual({ major: 1, minor: 13, patch: 9 });
  });

  it("parses a line and a prerelease when patch or v are missing", ({ expect }) => {
    expect(parseTalosVersion("1.14")).toEqual({ major: 1, minor: 14, patch: 0 });
    expect(parseTalosVersion("v1.14.0-rc.1")).toEqual({ major: 1, minor: 14, patch: 0, prerelease: "rc.1" });
  });

  it.for(["v1.10.7", "v1.16.0", "v2.0.0", "latest", ""])(
    "throws UNSUPPORTED_VERSION when given %j",
    (input, { expect }) => {
      expect(() => parseTalosVersion(input)).toThrowError(
        expect.objectContaining({ code: "UNSUPPORTED_VERSION" }),
      );
    },
  );
});

describe("compareTalosVersions", () => {
  it("orders prereleases before releases when the numbers are equal", ({ expect }) => {
    expect(compareTalosVersions("v1.14.0-rc.1", "v1.14.0")).toBeLessThan(0);
    expect(compareTalosVersions("v1.13.9", "v1.13.10")).toBeLessThan(0);
    expect(compareTalosVersions("v1.15.0", "1.15")).toBe(0);
  });
});

describe("versionFeatures", () => {
  it("moves network, then kubernetes and install out of v1alpha1 when the line advances", ({ expect }) => {
    const rows = ["v1.11.5", "v1.12.0", "v1.13.9", "v1.14.0", "v1.15.0"].map((v) => [
      talosLine(v),
      usesLegacyNetwork(v),
      usesLegacyKubernetes(v),
      usesLegacyInstall(v),
      versionFeatures(v).schema,
    ]);
    expect(rows).toEqual([
      ["v1.11", true, true, true, "v1.13"],
      ["v1.12", false, true, true, "v1.13"],
      ["v1.13", false, true, true, "v1.13"],
      ["v1.14", false, false, false, "v1.15"],
      ["v1.15", false, false, false, "v1.15"],
    ]);
  });

  it("lists the generator's documents per line when asked", ({ expect }) => {
    expect(versionFeatures("v1.11.0").generatorDocuments).toEqual(["v1alpha1"]);
    expect(versionFeatures("v1.13.9").generatorDocuments).toEqual(["v1alpha1", "HostnameConfig"]);
    expect(versionFeatures("v1.14.0").generatorDocuments).toContain("KubeClusterConfig");
    expect(versionFeatures("v1.14.0").generatorDocuments).toContain("KubeFlannelCNIConfig");
    expect(versionFeatures("v1.14.0").generatorWorkerDocuments).not.toContain("KubeFlannelCNIConfig");
    expect(versionFeatures("v1.15.0").generatorWorkerDocuments).toContain("KubeNodeConfig");
  });
});

describe("registeredKinds", () => {
  it("grows 17, 36, 44, 89, 89 over the lines and contains every modelled kind", ({ expect }) => {
    const lines = ["v1.11.0", "v1.12.0", "v1.13.0", "v1.14.0", "v1.15.0"];
    expect(lines.map((v) => versionFeatures(v).registeredKinds.length)).toEqual([17, 36, 44, 89, 89]);
    for (const v of lines) {
      for (const kind of versionFeatures(v).kinds) expect(versionFeatures(v).registeredKinds).toContain(kind);
    }
  });
});

describe("supportsKind", () => {
  it("accepts a kind only from the line that introduced it", ({ expect }) => {
    expect(supportsKind("v1.11.0", "ExtensionServiceConfig")).toBe(true);
    expect(supportsKind("v1.11.0", "LinkConfig")).toBe(false);
    expect(supportsKind("v1.12.0", "LinkConfig")).toBe(true);
    expect(supportsKind("v1.12.0", "KubeSpanConfig")).toBe(false);
    expect(supportsKind("v1.13.9", "KubeletConfig")).toBe(false);
    expect(supportsKind("v1.14.0", "UnattendedInstallConfig")).toBe(true);
    // Talos registers only UnattendedInstallConfig; the schema's "UnattendedInstall" is refused at load time.
    expect(supportsKind("v1.14.0", "UnattendedInstall")).toBe(false);
    expect(supportsKind("v1.13.9", "UnattendedInstallConfig")).toBe(false);
    expect(supportsKind("v1.15.0", "v1alpha1")).toBe(true);
    expect(supportsKind("v1.15.0", "NoSuchConfig")).toBe(false);
    expect(supportsKind("v1.13.9", "DiscoveryServiceConfig")).toBe(false);
    expect(supportsKind("v1.14.0", "DiscoveryServiceConfig")).toBe(true);
    expect(supportsKind("v1.11.6", "TrustedRootsConfig")).toBe(true);
    expect(supportsKind("v1.12.0", "RegistryMirrorConfig")).toBe(true);
    expect(supportsKind("v1.11.6", "RegistryMirrorConfig")).toBe(false);
  });
});
