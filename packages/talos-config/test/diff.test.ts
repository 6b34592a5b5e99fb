import { describe, it } from "vitest";
import {
  applyPatches,
  diffConfigs,
  generateConfig,
  generateSecrets,
  parseDocuments,
  renderDiff,
} from "../src/index.js";

const secrets = generateSecrets();
const before = generateConfig({
  secrets,
  role: "controlplane",
  clusterName: "homelab",
  endpoint: "https://192.168.50.200:6443",
  target: "v1.15.0",
  kubernetesVersion: "1.34.1",
});

describe("diffConfigs", () => {
  it("reports no changes for identical configs", ({ expect }) => {
    const diff = diffConfigs(before, structuredClone(before));
    expect(diff.hasChanges).toBe(false);
    expect(diff.documents.every((d) => d.status === "unchanged")).toBe(true);
    expect(renderDiff(diff)).toBe("no changes\n");
  });

  it("reports added, removed and changed documents and fields", ({ expect }) => {
    const after = applyPatches(before, [
      parseDocuments(`apiVersion: v1alpha1
kind: HostnameConfig
auto: "off"
hostname: cp1
---
apiVersion: v1alpha1
kind: KubeFlannelCNIConfig
$patch: delete
---
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: cloudflared
environment:
  - TUNNEL_TOKEN=eyJhIjoiZmFrZSJ9
  - TUNNEL_METRICS=localhost:2000
---
version: v1alpha1
machine:
  certSANs: [cp.lab]
`),
    ]);
    const diff = diffConfigs(before, after);
    const byLabel = new Map(diff.documents.map((d) => [d.label, d]));
    expect(byLabel.get("HostnameConfig")?.changes).toEqual([
      { path: "auto", type: "changed", before: "stable", after: "off" },
      { path: "hostname", type: "added", after: "cp1" },
    ]);
    expect(byLabel.get("KubeFlannelCNIConfig")?.status).toBe("removed");
    expect(byLabel.get("ExtensionServiceConfig/cloudflared")?.status).toBe("added");
    expect(byLabel.get("v1alpha1")?.changes).toEqual([
      { path: "machine.certSANs[0]", type: "added", after: "cp.lab" },
    ]);
    expect(byLabel.get("KubeletConfig")?.status).toBe("unchanged");
    expect(diff.hasChanges).toBe(true);
  });

  it("matches list elements by identity rather than position", ({ expect }) => {
    const base = parseDocuments(`apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: x
configFiles:
  - mountPath: /a
    content: one
  - mountPath: /b
    content: two
`);
    const changed = parseDocuments(`apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: x
configFiles:
  - mountPath: /b
    content: three
`);
    expect(diffConfigs(base, changed).documents[0]?.changes).toEqual([
      { path: "configFiles[0]", type: "removed", before: { mountPath: "/a", content: "one" } },
      { path: "configFiles[0].content", type: "changed", before: "two", after: "three" },
    ]);
  });

  it("redacts secret values but still reports that they changed", ({ expect }) => {
    const rotated = generateSecrets();
    const after = generateConfig({
      secrets: rotated,
      role: "controlplane",
      clusterName: "homelab",
      endpoint: "https://192.168.50.200:6443",
      target: "v1.15.0",
      kubernetesVersion: "1.34.1",
    });
    const diff = diffConfigs(before, after);
    const paths = diff.documents.flatMap((d) => d.changes.map((c) => `${d.label} ${c.path}`));
    expect(paths).toContain("v1alpha1 machine.token");
    expect(paths).toContain("DiscoveryIdentityConfig clusterSecret");
    expect(paths).toContain("KubeAPIServerCAConfig issuingCA.key");
    const text = `${JSON.stringify(diff)}\n${renderDiff(diff)}`;
    for (const secret of [
      secrets.trustdInfo.token,
      rotated.trustdInfo.token,
      secrets.cluster.secret,
      rotated.cluster.secret,
      rotated.secrets.bootstrapToken,
      rotated.secrets.secretboxEncryptionSecret as string,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain("PRIVATE KEY");
  });
});

describe("renderDiff", () => {
  it("renders one block per changed document with signs per field", ({ expect }) => {
    const after = applyPatches(before, [
      parseDocuments(`apiVersion: v1alpha1
kind: HostnameConfig
auto: "off"
hostname: cp1
---
apiVersion: v1alpha1
kind: KubePrismConfig
$patch: delete
---
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: tailscale
environment:
  - TS_AUTHKEY=tskey-auth-fake
  - TS_HOSTNAME=cp1
`),
    ]);
    expect(renderDiff(diffConfigs(before, after))).toMatchInlineSnapshot(`
      "~ HostnameConfig
        ~ auto: "stable" → "off"
        + hostname: "cp1"
      - KubePrismConfig (removed)
        - apiVersion: v1alpha1
        - kind: KubePrismConfig
        - port: 7445
      + ExtensionServiceConfig/tailscale (added)
        + apiVersion: v1alpha1
        + kind: ExtensionServiceConfig
        + name: tailscale
        + environment:
        +   - TS_AUTHKEY=<redacted>
        +   - TS_HOSTNAME=cp1
      "
    `);
  });
});
