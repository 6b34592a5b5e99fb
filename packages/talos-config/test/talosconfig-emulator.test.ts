import { createTalosClient, isTalosClientError } from "@talos-homelab/talos-client";
import { createTalosEmulator } from "@talos-homelab/talos-client/testing";
import { describe, it } from "vitest";
import { generateConfig, generateSecrets, generateTalosconfig, stringifyDocuments } from "../src/index.js";

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the emulated node");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("generateTalosconfig with the talos-client emulator", () => {
  it("connects with mutual TLS to the emulator, which trusts the OS CA of the config applied to it", async ({
    expect,
  }) => {
    const emulator = await createTalosEmulator({
      nodes: [{ name: "cp1", address: "10.5.0.2" }],
      bootDelayMs: 0,
    });
    const clients: { close(): void }[] = [];
    try {
      const node = emulator.node("cp1");
      const secrets = generateSecrets();
      const config = generateConfig({
        secrets,
        role: "controlplane",
        clusterName: "lab",
        endpoint: "https://10.5.0.2:6443",
        target: "v1.15.0",
        kubernetesVersion: "1.34.1",
        patches: ['apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: cp1\n'],
      });
      const maintenance = createTalosClient({ endpoints: [node.endpoint], insecure: true });
      clients.push(maintenance);
      await maintenance.applyConfiguration({ data: stringifyDocuments(config) });
      await waitFor(() => node.state() === "running", 10_000);

      const talosconfig = generateTalosconfig({
        secrets,
        contextName: "lab",
        endpoints: [node.endpoint],
        nodes: [node.address],
      });
      const client = createTalosClient({ talosconfig });
      clients.push(client);
      let [result] = await client.version();
      // The node may still be bringing up its mutual-TLS listener right after it reports running.
      for (
        let attempt = 0;
        attempt < 20 && result?.ok === false && result.error.code === "UNAVAILABLE";
        attempt++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        [result] = await client.version();
      }
      expect(result?.ok === false ? result.error.message : "ok").toBe("ok");
      expect(result?.node).toBe(node.address);
      const last = emulator.callLog.at(-1);
      expect(last?.roles).toEqual(["os:admin"]);

      const stranger = createTalosClient({
        talosconfig: generateTalosconfig({
          secrets: generateSecrets(),
          contextName: "lab",
          endpoints: [node.endpoint],
          nodes: [node.address],
        }),
        timeoutMs: 5_000,
      });
      clients.push(stranger);
      const [rejected] = await stranger.version();
      expect(rejected?.ok).toBe(false);
      if (rejected?.ok === false) expect(rejected.error.code).not.toBe("INTERNAL");
      if (rejected?.ok === false) expect(isTalosClientError(rejected.error)).toBe(true);
    } finally {
      for (const client of clients) client.close();
      await emulator.close();
    }
  });
});
