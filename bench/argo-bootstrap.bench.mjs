// Validating Application manifests against the real Argo CD CRD schema (structural check with unknown
// fields as errors) plus policy. Reads the CRDs from <repo root>/../shared (or HOMELAB_SHARED_DIR).
// Run: node bench/argo-bootstrap.bench.mjs (after building the package), or `pnpm bench argo`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  buildHelmApplication,
  createManifestValidator,
  toYaml,
  validateManifests,
} from "../packages/argo-bootstrap/dist/index.js";

const root = new URL("..", import.meta.url).pathname;
const shared = process.env.HOMELAB_SHARED_DIR ?? join(root, "..", "shared");
const crds = ["application", "appproject"]
  .map((n) => readFileSync(join(shared, "argocd", "crds", `${n}-crd.yaml`), "utf8"))
  .join("\n---\n");

const COUNT = 200;
const apps = Array.from({ length: COUNT }, (_, i) =>
  buildHelmApplication({
    name: `app-${i}`,
    repoURL: "https://charts.example.org",
    chart: `chart-${i % 17}`,
    version: `1.${i % 10}.${i % 7}`,
    destinationNamespace: `ns-${i % 25}`,
    syncWave: i % 5,
    serverSideApply: i % 2 === 0,
    values: {
      replicaCount: 1 + (i % 3),
      ingress: { enabled: i % 4 === 0, hosts: [`app-${i}.home.example`] },
      resources: { limits: { memory: "256Mi" } },
    },
  }),
);
const yamlText = toYaml(apps);

function time(fn, rounds) {
  fn();
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0] };
}

const compileStart = performance.now();
const validator = createManifestValidator({ crds });
const compileMs = performance.now() - compileStart;

let findings = 0;
const schemaAndPolicy = time(() => {
  findings = validator.validate(apps).length;
}, 30);
const fromYaml = time(() => validator.validate(yamlText), 15);
const policyOnly = time(() => validateManifests(apps), 30);
const broken = apps.map((a, i) =>
  i % 10 === 0 ? { ...a, spec: { ...a.spec, source: { ...a.spec.source, targetRevison: "1.0.0" } } } : a,
);
let brokenFindings = 0;
const withErrors = time(() => {
  brokenFindings = validator.validate(broken).length;
}, 30);

const f = (n) => n.toFixed(2);
console.log(
  `CRD parse + schema set (application + appproject CRDs, ${Math.round(crds.length / 1024)} KiB YAML): ${f(compileMs)} ms`,
);
console.log(
  `validate ${COUNT} Applications (objects, schema + policy): median ${f(schemaAndPolicy.median)} ms, min ${f(schemaAndPolicy.min)} ms, ${f((schemaAndPolicy.median / COUNT) * 1000)} us/app, findings ${findings}`,
);
console.log(
  `validate ${COUNT} Applications (multi-doc YAML, ${Math.round(yamlText.length / 1024)} KiB): median ${f(fromYaml.median)} ms (${f(fromYaml.median / schemaAndPolicy.median)}x objects)`,
);
console.log(
  `policy only (no CRDs) for ${COUNT}: median ${f(policyOnly.median)} ms (schema check is ${f(schemaAndPolicy.median / policyOnly.median)}x policy only)`,
);
console.log(
  `${COUNT} Applications, 1 in 10 with a misspelt field: median ${f(withErrors.median)} ms, findings ${brokenFindings}`,
);
console.log(`first validation including schema set creation: ${f(compileMs + schemaAndPolicy.median)} ms`);
