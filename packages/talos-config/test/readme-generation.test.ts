import { readFileSync } from "node:fs";
import { describe, it } from "vitest";
import {
  applyPatches,
  diffConfigs,
  generateConfig,
  generateSecrets,
  generateTalosconfig,
  renderDiff,
  secretsFromYaml,
  secretsToYaml,
  stringifyDocuments,
} from "../src/index.js";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README (secrets, configs and patching section)", () => {
  it("runs the section's example as written", ({ expect }) => {
    const section = README.slice(
      README.indexOf("## Secrets, full configs, talosconfig and the patch engine"),
    );
    const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    // The body below mirrors the example; this keeps the two in step.
    expect(example).toContain("const secrets = generateSecrets();");
    expect(example).toContain("console.log(renderDiff(diffConfigs(controlPlane, next)));");

    const secrets = generateSecrets(); // ~0.3 s: RSA-4096 service-account key
    const secretsYaml = secretsToYaml(secrets); // talosctl's secrets.yaml layout; round-trips with secretsFromYaml

    const controlPlane = generateConfig({
      secrets,
      role: "controlplane",
      clusterName: "homelab",
      endpoint: "https://192.168.50.200:6443",
      target: "v1.15.0",
      kubernetesVersion: "1.34.1",
      patches: ['apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: cp1\n'],
    });
    const machineConfig = stringifyDocuments(controlPlane);

    const talosconfig = generateTalosconfig({
      secrets,
      contextName: "homelab",
      endpoints: ["192.168.50.200"],
    });

    const next = applyPatches(controlPlane, [
      [{ apiVersion: "v1alpha1", kind: "KubeNetworkConfig", serviceSubnets: ["10.43.0.0/16"] }],
    ]);
    const rendered = renderDiff(diffConfigs(controlPlane, next));

    expect(secretsToYaml(secretsFromYaml(secretsYaml))).toBe(secretsYaml);
    expect(machineConfig).toContain("hostname: cp1");
    expect(talosconfig).toMatch(/^context: homelab\n/);
    expect(rendered).toBe('~ KubeNetworkConfig\n  ~ serviceSubnets[0]: "10.96.0.0/12" → "10.43.0.0/16"\n');
    for (const line of example.split("\n").filter((l) => l.startsWith("const "))) {
      expect(line.split(" = ")[0]).toMatch(
        /^const (secrets|secretsYaml|controlPlane|machineConfig|talosconfig|next)$/,
      );
    }
  });
});
