// talos-config: build + validate machine-config patches, and full configs (generator output with the
// patches applied), for 100 nodes per Talos line.
// Imports the built package; validates with ajv against the official schemas in ../shared/talos
// (HOMELAB_SHARED_DIR overrides). Prints figures and ratios measured in this run.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = join(root, "packages", "talos-config");
const lib = await import(join(pkg, "dist", "index.js"));
const require = createRequire(join(pkg, "package.json"));
const { Ajv2020 } = require("ajv/dist/2020.js");
const sharedDir = process.env.HOMELAB_SHARED_DIR ?? join(root, "..", "shared");

const NODES = 100;
const ROUNDS = 5;
const TARGETS = ["v1.11.6", "v1.12.4", "v1.13.9", "v1.14.0", "v1.15.0"];
const SCHEMA_FILES = { "v1.13": "config.schema.v1.13.9.json", "v1.15": "config.schema.json" };

function loadSchema(line) {
  const schema = JSON.parse(readFileSync(join(sharedDir, "talos", SCHEMA_FILES[line]), "utf8"));
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  ajv.addSchema(schema);
  const byKind = new Map();
  for (const { $ref } of schema.oneOf) {
    const name = $ref.split("/").pop();
    byKind.set(
      schema.$defs[name]?.properties?.kind?.enum?.[0] ?? "v1alpha1",
      ajv.compile({ $ref: `${schema.$id}#/$defs/${name}` }),
    );
  }
  return byKind;
}

function stripDirectives(value) {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$patch" || (v && typeof v === "object" && v.$patch === "delete")) continue;
      out[k] = stripDirectives(v);
    }
    return out;
  }
  return value;
}

// Fields the 1.11 / 1.12 generators still write that the 1.13.9 schema (the nearest we have) dropped.
function withoutOlderLineFields(doc, line) {
  if (!doc.machine || (line !== "v1.11" && line !== "v1.12")) return doc;
  const machine = { ...doc.machine };
  const out = { ...doc };
  if (line === "v1.11") {
    delete machine.network;
    delete machine.time;
    if (machine.features) {
      const { rbac: _r, stableHostname: _s, apidCheckExtKeyUsage: _a, ...features } = machine.features;
      machine.features = features;
    }
    if (doc.cluster?.apiServer) {
      const { disablePodSecurityPolicy: _d, ...apiServer } = doc.cluster.apiServer;
      out.cluster = { ...doc.cluster, apiServer };
    }
  } else if (machine.network && Object.keys(machine.network).every((k) => k === "kubespan")) {
    delete machine.network;
  }
  out.machine = machine;
  return out;
}

// KubeAPIServerConfig / KubeletConfig patches merge into generated documents that carry the required image.
const PATCH_ONLY = new Set(["KubeAPIServerConfig", "KubeletConfig"]);

function validateAll(configs, features, byKind, patches = false) {
  let invalid = 0;
  let docs = 0;
  for (const config of configs) {
    for (const raw of config) {
      if (raw.$patch === "delete") continue;
      let doc = withoutOlderLineFields(stripDirectives(raw), features.line);
      // The schema spells this kind UnattendedInstall; Talos registers UnattendedInstallConfig.
      if (doc.kind === "UnattendedInstallConfig") doc = { ...doc, kind: "UnattendedInstall" };
      if (patches && PATCH_ONLY.has(doc.kind) && doc.image === undefined)
        doc = { ...doc, image: "generated" };
      const check = byKind.get(doc.kind ?? "v1alpha1");
      if (!check?.(doc)) invalid++;
      docs++;
    }
  }
  return { invalid, docs };
}

function intent(target, i) {
  const host = 10 + i;
  return {
    target,
    role: i < 3 ? "controlplane" : "worker",
    hostname: `node-${i}`,
    interfaces: [
      {
        name: "eno1",
        addresses: [`192.168.50.${host}/24`],
        gateway: "192.168.50.1",
        vlans: [{ id: 20, addresses: [`192.168.20.${host}/24`] }],
        ...(i < 3 ? { vip: "192.168.50.250" } : {}),
      },
    ],
    nodeIp: { validSubnets: ["192.168.50.0/24"] },
    nameservers: ["coredns", "1.1.1.1"],
    timeServers: ["time.cloudflare.com"],
    cluster: {
      name: "homelab",
      endpoint: "https://192.168.50.250:6443",
      podSubnets: ["10.244.0.0/16"],
      serviceSubnets: ["10.96.0.0/12"],
      allowSchedulingOnControlPlanes: false,
      certSANs: ["192.168.50.250"],
    },
    install: { disk: "/dev/nvme0n1", wipe: false },
    extensions: {
      cloudflared: { token: `bench-token-${i}` },
      tailscale: { authKey: `tskey-auth-bench-${i}`, routes: ["10.96.0.0/12"], hostname: `node-${i}` },
    },
  };
}

const validators = { "v1.13": loadSchema("v1.13"), "v1.15": loadSchema("v1.15") };
const schematic = lib.createSchematic({
  officialExtensions: ["siderolabs/cloudflared", "siderolabs/tailscale"],
});

const rows = [];
for (const target of TARGETS) {
  const features = lib.versionFeatures(target);
  const byKind = validators[features.schema];
  const intents = Array.from({ length: NODES }, (_, i) => intent(target, i));
  let build = Infinity;
  let validate = Infinity;
  let render = Infinity;
  let lintMs = Infinity;
  let docCount = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const configs = intents.map((n) => lib.buildNodePatches(n));
    build = Math.min(build, performance.now() - t);

    t = performance.now();
    const checked = validateAll(configs, features, byKind, true);
    docCount = checked.docs;
    validate = Math.min(validate, performance.now() - t);
    if (checked.invalid > 0) throw new Error(`${checked.invalid} invalid documents for ${target}`);

    t = performance.now();
    for (const docs of configs) lib.stringifyDocuments(docs, { redact: true });
    render = Math.min(render, performance.now() - t);

    t = performance.now();
    for (const docs of configs) lib.lint(docs, { target, schematic });
    lintMs = Math.min(lintMs, performance.now() - t);
  }
  rows.push({ target, docs: docCount, build, validate, render, lint: lintMs });
}

// Full machine configs: the target's generator output with the node patches applied, then validated.
const secrets = lib.generateSecrets();
const fullRows = [];
for (const target of TARGETS) {
  const features = lib.versionFeatures(target);
  const byKind = validators[features.schema];
  const intents = Array.from({ length: NODES }, (_, i) => intent(target, i));
  let build = Infinity;
  let validate = Infinity;
  let docCount = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const configs = intents.map((n) =>
      lib.generateConfig({
        secrets,
        role: n.role,
        clusterName: n.cluster.name,
        endpoint: n.cluster.endpoint,
        target,
        kubernetesVersion: "1.34.1",
        installDisk: "/dev/sda",
        patches: [lib.buildNodePatches(n)],
      }),
    );
    build = Math.min(build, performance.now() - t);
    t = performance.now();
    const checked = validateAll(configs, features, byKind);
    docCount = checked.docs;
    validate = Math.min(validate, performance.now() - t);
    if (checked.invalid > 0)
      throw new Error(`${checked.invalid} invalid full-config documents for ${target}`);
  }
  fullRows.push({ target, docs: docCount, build, validate });
}

const fmt = (ms) => ms.toFixed(1).padStart(7);
process.stdout.write(`talos-config: ${NODES} nodes per target, best of ${ROUNDS} rounds (ms)\n`);
process.stdout.write("target    docs    build  validate   render     lint  build+validate  per node\n");
for (const r of rows) {
  const total = r.build + r.validate;
  process.stdout.write(
    `${r.target.padEnd(8)} ${String(r.docs).padStart(5)} ${fmt(r.build)}   ${fmt(r.validate)}  ${fmt(r.render)}  ${fmt(r.lint)}         ${fmt(total)}   ${(total / NODES).toFixed(3)}\n`,
  );
}
const sum = (key) => rows.reduce((a, r) => a + r[key], 0);
process.stdout.write(
  `all targets: build ${sum("build").toFixed(1)} ms, validate ${sum("validate").toFixed(1)} ms (validate/build ratio ${(sum("validate") / sum("build")).toFixed(2)}), render/build ratio ${(sum("render") / sum("build")).toFixed(2)}\n`,
);
process.stdout.write(
  `\nfull configs: generateConfig + buildNodePatches applied, ${NODES} nodes, best of ${ROUNDS} (ms)\n`,
);
process.stdout.write("target    docs    build  validate  per node\n");
for (const r of fullRows) {
  process.stdout.write(
    `${r.target.padEnd(8)} ${String(r.docs).padStart(5)} ${fmt(r.build)}   ${fmt(r.validate)}   ${((r.build + r.validate) / NODES).toFixed(3)}\n`,
  );
}
const fullBuild = fullRows.reduce((a, r) => a + r.build, 0);
process.stdout.write(
  `full config vs patches only: build ratio ${(fullBuild / sum("build")).toFixed(1)}x over all targets\n`,
);
