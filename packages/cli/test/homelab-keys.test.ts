import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocuments, validateConfig } from "@talos-homelab/talos-config";
import { describe, it } from "vitest";
import { parse, stringify } from "yaml";
import { EXAMPLES, run, tempDir } from "./helpers.js";

const LINES = ["v1.11.6", "v1.12.11", "v1.13.9", "v1.14.0", "v1.15.0"];

// biome-ignore lint/suspicious/noExplicitAny: free-form homelab.yaml edits and CLI JSON in tests
type Loose = any;

async function renderWith(
  line: string,
  edit: (doc: Loose) => void,
): Promise<{ code: number; json: Loose; read(path: string): Promise<string>; cleanup(): Promise<void> }> {
  const t = await tempDir();
  const doc = parse(await readFile(join(EXAMPLES, "ha.yaml"), "utf8"));
  doc.cluster.talosVersion = line;
  edit(doc);
  await writeFile(join(t.dir, "homelab.yaml"), stringify(doc));
  const r = await run(["render", "--full", "--out", "out", "--json"], { cwd: t.dir });
  return {
    code: r.code,
    json: r.code === 0 ? r.json() : r.json().error,
    read: (path) => readFile(join(t.dir, path), "utf8"),
    cleanup: t.cleanup,
  };
}

describe("homelab.yaml machine keys", () => {
  it.for(LINES)(
    "renders labels, taints, sysctls, mirrors, KubeSpan, volumes and patches last on %s",
    async (line, { expect }) => {
      const r = await renderWith(line, (doc) => {
        doc.cluster.kubespan = true;
        doc.cluster.registryMirrors = { "docker.io": ["https://mirror.lan:5000"] };
        doc.cluster.sysctls = { "net.core.somaxconn": "65535" };
        doc.cluster.labels = { "example.com/site": "home" };
        doc.cluster.cni = { name: "none" };
        // Applied after homelab's own settings: KubeSpan ends up off on the workers.
        const off =
          Number(line.split(".")[1]) <= 12
            ? { machine: { network: { kubespan: { enabled: false } } } }
            : { apiVersion: "v1alpha1", kind: "KubeSpanConfig", enabled: false };
        doc.cluster.patches = { worker: [off] };
        doc.nodes[3].taints = { dedicated: "storage:NoSchedule" };
        doc.nodes[3].userVolumes = [{ name: "data", diskSelector: "!disk.system_disk" }];
      });
      try {
        expect(r.code, JSON.stringify(r.json)).toBe(0);
        const worker = await r.read("out/talos/worker1.yaml");
        const cp = await r.read("out/talos/cp1.yaml");
        for (const text of [worker, cp])
          expect(() => validateConfig(parseDocuments(text), { target: line })).not.toThrow();
        expect(worker).toContain("dedicated: storage:NoSchedule");
        expect(worker).toContain("example.com/site: home");
        expect(worker).toContain("net.core.somaxconn");
        expect(worker).toContain("https://mirror.lan:5000");
        expect(worker).toContain("name: data");
        expect(worker).toMatch(/enabled: false/);
        expect(cp).toMatch(/enabled: true/);
        expect(cp).toContain("advertisedSubnets:\n      - 192.168.50.0/24");
      } finally {
        await r.cleanup();
      }
    },
  );

  it("refuses a patch field Talos does not know, naming it", async ({ expect }) => {
    const r = await renderWith("v1.13.9", (doc) => {
      doc.nodes[0].patches = ["machine:\n  kubelett: {}\n"];
    });
    try {
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ code: "INVALID_CONFIG" });
      expect(r.json.message).toContain("machine.kubelett is not a known field");
    } finally {
      await r.cleanup();
    }
  });

  it("refuses a JSON6902 patch on a line whose configs have several documents", async ({ expect }) => {
    const r = await renderWith("v1.13.9", (doc) => {
      doc.cluster.patches = { all: [[{ op: "add", path: "/machine/certSANs/-", value: "x.lan" }]] };
    });
    try {
      expect(r.code).toBe(2);
      expect(r.json.message).toContain("JSON6902 patch applies only to a single-document config");
    } finally {
      await r.cleanup();
    }
  });

  it("drops the external-load-balancer label on a single control plane that runs workloads", async ({
    expect,
  }) => {
    const t = await tempDir();
    try {
      await writeFile(join(t.dir, "homelab.yaml"), await readFile(join(EXAMPLES, "homelab.yaml"), "utf8"));
      const r = await run(["render", "--full", "--out", "out", "--json"], { cwd: t.dir });
      expect(r.code).toBe(0);
      const text = await readFile(join(t.dir, "out/talos/node1.yaml"), "utf8");
      expect(text).not.toContain("exclude-from-external-load-balancers");
    } finally {
      await t.cleanup();
    }
  });
});
