import { describe, expect, it } from "vitest";
import { detectNodeMode } from "../src/index.js";
import { startCluster } from "./helpers.js";

describe("detectNodeMode", () => {
  it.each(["v1.11.6", "v1.12.11", "v1.13.9", "v1.14.0", "v1.15.0"])(
    "tells maintenance, configured and unreachable apart on %s",
    async (talosVersion) => {
      const cluster = await startCluster({
        fleet: [
          { name: "cp1", address: "10.4.0.2", type: "controlplane", talosVersion },
          { name: "w1", address: "10.4.0.3", type: "worker", talosVersion },
        ],
      });
      try {
        const { emulator, talosconfig } = cluster;
        await expect(
          detectNodeMode({ endpoint: emulator.node("cp1").endpoint, talosconfig }),
        ).resolves.toEqual({ mode: "configured", version: talosVersion });
        await cluster.client.reset({ node: "10.4.0.3", reboot: true, graceful: false });
        for (let i = 0; i < 200 && emulator.node("w1").state() !== "maintenance"; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        await expect(
          detectNodeMode({ endpoint: emulator.node("w1").endpoint, talosconfig }),
        ).resolves.toEqual({ mode: "maintenance" });
        emulator.node("cp1").stop();
        const down = await detectNodeMode({
          endpoint: emulator.node("cp1").endpoint,
          talosconfig,
          timeoutMs: 2000,
        });
        expect(down).toMatchObject({ mode: "unreachable", error: { code: "UNAVAILABLE" } });
      } finally {
        await cluster.close();
      }
    },
  );
});
