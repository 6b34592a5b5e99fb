import { describe, it } from "vitest";
import { secretsFromYaml, secretsToYaml } from "../src/index.js";
import { runReadmeExample } from "./helpers/readme.js";

describe("README (secrets, configs and patching section)", () => {
  it("runs the section's example as written", ({ expect }) => {
    const { values, logs } = runReadmeExample({
      after: "## Secrets, full configs, talosconfig and the patch engine",
      returns: ["secretsYaml", "machineConfig", "talosconfig"],
    });
    const { secretsYaml, machineConfig, talosconfig } = values as {
      secretsYaml: string;
      machineConfig: string;
      talosconfig: string;
    };

    expect(secretsToYaml(secretsFromYaml(secretsYaml))).toBe(secretsYaml);
    expect(machineConfig).toContain("hostname: cp1");
    expect(talosconfig).toMatch(/^context: homelab\n/);
    expect(logs).toEqual([['~ KubeNetworkConfig\n  ~ serviceSubnets[0]: "10.96.0.0/12" → "10.43.0.0/16"\n']]);
  });
});
