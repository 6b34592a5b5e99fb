import { afterAll, beforeAll, describe, it } from "vitest";
import type { Lab } from "../src/internal/lab/lab.js";
import { deployment, fastClock, run, tempDir, upPublishedLab } from "./helpers.js";

const env = { TS_AUTHKEY: "tskey-talos-upgrade" };

describe("homelab talos upgrade with the project's kubeconfig", () => {
  let t: { dir: string; cleanup(): Promise<void> };
  let lab: Lab;

  beforeAll(async () => {
    t = await tempDir();
    lab = await upPublishedLab(t.dir, "homelab.yaml", env);
  }, 90_000);

  afterAll(async () => {
    await lab?.close();
    await t?.cleanup();
  });

  it("cordons and drains the node, waits until it is back and Ready, then uncordons it", async ({
    expect,
  }) => {
    lab.emulators.kube.apply(deployment("web", 1));
    const image = "factory.talos.dev/installer/abc:v1.14.1";
    const r = await run(
      ["talos", "upgrade", "--image", image, "--nodes", "192.168.50.200", "--yes", "--json"],
      { cwd: t.dir, env, clock: fastClock },
    );
    expect(r.code, r.stderr).toBe(0);
    const steps = r.json().upgraded[0].steps as { step: string; status: string; detail: string }[];
    expect(steps.map((s) => `${s.step} ${s.status}`)).toEqual([
      "pull done",
      "install done",
      "cordon done",
      "drain done",
      "reboot done",
      "wait done",
      "uncordon done",
    ]);
    expect(steps.find((s) => s.step === "drain")?.detail).toMatch(/evicted [1-9]\d* pod\(s\) from node1/);
    expect(lab.emulators.talos.node("node1").talosVersion()).toBe("v1.14.1");
  }, 60_000);
});
