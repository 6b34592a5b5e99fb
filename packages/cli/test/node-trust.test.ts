import { join } from "node:path";
import { createTalosEmulator } from "@talos-homelab/talos-client/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createContext } from "../src/index.js";
import { Output } from "../src/internal/cli/output.js";
import { loadConfig } from "../src/internal/config/load.js";
import { type Lab, startLab } from "../src/internal/lab/lab.js";
import { type NodeTrust, spkiFingerprintOf } from "../src/internal/pipeline/node-trust.js";
import { readProgress } from "../src/internal/pipeline/state.js";
import { labTarget, type Target } from "../src/internal/pipeline/target.js";
import { runUp } from "../src/internal/pipeline/up.js";
import { EXAMPLES, tempDir } from "./helpers.js";

const quietOut = () => {
  const ctx = createContext({
    stdout: { write: () => true },
    stderr: { write: () => true },
    env: {},
    isTTY: { stdin: false, stdout: false, stderr: false },
  });
  return new Output(ctx, { config: undefined, json: false, yes: true, quiet: true, verbose: false });
};

async function example() {
  return loadConfig(join(EXAMPLES, "homelab.yaml"), {
    cwd: EXAMPLES,
    env: {},
    placeholderSecrets: true,
  });
}

async function impostor(name: string, address: string) {
  return createTalosEmulator({ nodes: [{ name, address, talosVersion: "v1.13.9" }] });
}

/** The lab's target, with one node's endpoint pointed elsewhere and no lab vouching for it. */
function redirected(target: Target, name: string, endpoint: string): Target {
  return {
    ...target,
    talosEndpoint: (node) => (node.name === name ? endpoint : target.talosEndpoint(node)),
    maintenanceFingerprint: (node) =>
      node.name === name ? undefined : target.maintenanceFingerprint?.(node),
  };
}

const noTrust: NodeTrust = { reinstall: new Set(), pinned: {} };

describe("runUp and a node that is not who it claims to be", () => {
  let lab: Lab;
  let state: { dir: string; cleanup(): Promise<void> };
  let loaded: Awaited<ReturnType<typeof example>>;
  let target: Target;
  let node: { name: string; address: string };

  beforeAll(async () => {
    loaded = await example();
    lab = await startLab({ config: loaded.config });
    state = await tempDir();
    target = labTarget(lab.info, lab.helm);
    node = loaded.config.nodes[0] as { name: string; address: string };
    const signal = new AbortController().signal;
    await runUp({ loaded, stateDir: state.dir, target, out: quietOut(), signal, trust: noTrust });
  }, 120_000);

  afterAll(async () => {
    await lab?.close();
    await state?.cleanup();
  });

  it("records the fingerprint the lab vouched for at the first contact", async ({ expect }) => {
    const progress = await readProgress(state.dir);
    expect(progress.fingerprints?.[node.name]).toBe(lab.info.nodes[0]?.fingerprint);
  });

  it("refuses a configured node's address answering in maintenance mode, and sends nothing", async ({
    expect,
  }) => {
    const fake = await impostor(node.name, node.address);
    try {
      const fakeNode = fake.nodes[0];
      if (!fakeNode) throw new Error("no node");
      const error = await runUp({
        loaded,
        stateDir: state.dir,
        target: redirected(target, node.name, fakeNode.endpoint),
        out: quietOut(),
        signal: new AbortController().signal,
        trust: noTrust,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "NODE_UNVERIFIED" });
      expect((error as { hint?: string }).hint).toContain(`--reinstall ${node.name}`);
      expect(fakeNode.appliedConfig()).toBeUndefined();
      expect(fakeNode.state()).toBe("maintenance");
    } finally {
      await fake.close();
    }
  }, 60_000);

  it("with --reinstall still refuses a certificate other than the recorded one", async ({ expect }) => {
    const fake = await impostor(node.name, node.address);
    try {
      const fakeNode = fake.nodes[0];
      if (!fakeNode) throw new Error("no node");
      const error = await runUp({
        loaded,
        stateDir: state.dir,
        target: redirected(target, node.name, fakeNode.endpoint),
        out: quietOut(),
        signal: new AbortController().signal,
        trust: { reinstall: new Set([node.name]), pinned: {} },
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "NODE_UNVERIFIED" });
      expect((error as Error).message).toContain(fakeNode.maintenanceSpki);
      expect(fakeNode.appliedConfig()).toBeUndefined();
    } finally {
      await fake.close();
    }
  }, 60_000);

  it("with --reinstall and the fingerprint the user pinned, applies to that machine and records it", async ({
    expect,
  }) => {
    const reinstalled = await impostor(node.name, node.address);
    try {
      const fresh = reinstalled.nodes[0];
      if (!fresh) throw new Error("no node");
      // stop once the config step is done: the rest belongs to the lab's cluster, not this machine
      const controller = new AbortController();
      const error = await runUp({
        loaded,
        stateDir: state.dir,
        target: redirected(target, node.name, fresh.endpoint),
        out: quietOut(),
        signal: controller.signal,
        trust: { reinstall: new Set([node.name]), pinned: { [node.name]: fresh.maintenanceSpki } },
        onStep: (step) => {
          if (step.id === `config:${node.name}`) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "INTERRUPTED" });
      expect(fresh.appliedConfig()).toContain("machine:");
      expect((await readProgress(state.dir)).fingerprints?.[node.name]).toBe(fresh.maintenanceSpki);
    } finally {
      await reinstalled.close();
    }
  }, 60_000);
});

describe("runUp and a node seen for the first time", () => {
  it("asks, and sends nothing when the user declines", async ({ expect }) => {
    const loaded = await example();
    const node = loaded.config.nodes[0] as { name: string; address: string };
    const fresh = await impostor(node.name, node.address);
    const state = await tempDir();
    const lab = await startLab({ config: { ...loaded.config, tunnel: undefined, argocd: undefined } });
    try {
      const freshNode = fresh.nodes[0];
      if (!freshNode) throw new Error("no node");
      const asked: string[] = [];
      const error = await runUp({
        loaded: { ...loaded, config: { ...loaded.config, tunnel: undefined, argocd: undefined } },
        stateDir: state.dir,
        target: redirected(labTarget(lab.info, lab.helm), node.name, freshNode.endpoint),
        out: quietOut(),
        signal: new AbortController().signal,
        trust: {
          reinstall: new Set(),
          pinned: {},
          confirm: async (q) => {
            asked.push(q);
            return false;
          },
        },
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "NODE_UNVERIFIED" });
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain(freshNode.maintenanceSpki);
      expect(freshNode.appliedConfig()).toBeUndefined();
      expect((await readProgress(state.dir)).fingerprints).toBeUndefined();
    } finally {
      await fresh.close();
      await lab.close();
      await state.cleanup();
    }
  }, 60_000);

  it("names a powered-off node and where it was looked for", async ({ expect }) => {
    const loaded = await example();
    const config = { ...loaded.config, tunnel: undefined, argocd: undefined };
    const state = await tempDir();
    const lab = await startLab({ config });
    try {
      const target = labTarget(lab.info, lab.helm);
      const dead = await impostor("x", "10.0.0.9");
      const endpoint = dead.nodes[0]?.endpoint as string;
      await dead.close();
      const error = await runUp({
        loaded: { ...loaded, config },
        stateDir: state.dir,
        target: redirected(target, config.nodes[0]?.name as string, endpoint),
        out: quietOut(),
        signal: new AbortController().signal,
        trust: noTrust,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "UNREACHABLE" });
      expect((error as Error).message).toContain(config.nodes[0]?.name as string);
      expect((error as { hint?: string }).hint).toContain(config.nodes[0]?.address as string);
    } finally {
      await lab.close();
      await state.cleanup();
    }
  }, 60_000);
});

describe("spkiFingerprintOf", () => {
  it("matches the fingerprint the Talos emulator pins its maintenance certificate by", async ({ expect }) => {
    const emulator = await impostor("n", "10.0.0.5");
    try {
      const endpoint = emulator.nodes[0]?.endpoint as string;
      const [host, port] = endpoint.split(":");
      const { connect } = await import("node:tls");
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const s = connect({ host: host as string, port: Number(port), rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().raw);
          s.end();
        });
        s.once("error", reject);
      });
      expect(spkiFingerprintOf(raw)).toBe(emulator.nodes[0]?.maintenanceSpki);
    } finally {
      await emulator.close();
    }
  });
});
