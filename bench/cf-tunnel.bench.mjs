// Requests per reconcile for 10, 100 and 500 routes (create, no-op, one service change, one route added), next to what a
// per-resource refresh (one GET per record, as a Terraform refresh does) costs on the same state.
// Everything runs against the package's Cloudflare emulator in-process; figures are measured in this run.
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const pkg = new URL("../packages/cf-tunnel/", import.meta.url);
const { reconcile } = await import(new URL("dist/index.js", pkg).href);
const { createCloudflareEmulator, CLOUDFLARE_API_BASE_URL } = await import(
  new URL("dist/testing/index.js", pkg).href
);
const require = createRequire(new URL("package.json", pkg));
const sdk = await import(pathToFileURL(require.resolve("cloudflare")).href);
const Cloudflare = sdk.default?.default ?? sdk.default ?? sdk.Cloudflare;

const ZONE = "example.com";
const routes = (n, changed = -1) =>
  Array.from({ length: n }, (_, i) => ({
    hostname: `app-${i}.${ZONE}`,
    service:
      i === changed
        ? `http://app-${i}-v2.apps.svc.cluster.local:80`
        : `http://app-${i}.apps.svc.cluster.local:80`,
    access: { emails: ["me@example.org"] },
  }));

function setup() {
  const emulator = createCloudflareEmulator({ zones: [{ name: ZONE }] });
  const client = new Cloudflare({
    apiToken: "bench-token",
    baseURL: CLOUDFLARE_API_BASE_URL,
    maxRetries: 0,
    fetch: (url, init) => emulator.handle(new Request(url, init)),
  });
  const base = { client, accountId: emulator.state.accountId, zone: ZONE, tunnelName: "homelab" };
  return { emulator, client, base };
}

async function measure(emulator, run) {
  const start = emulator.requestLog.length;
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const log = emulator.requestLog.slice(start);
  const writes = log.filter((e) => e.method !== "GET").length;
  return { reads: log.length - writes, writes, total: log.length, ms };
}

async function refresh(emulator, client) {
  // One GET per resource: tunnel, its configuration, each DNS record, each Access app and policy.
  const accountId = emulator.state.accountId;
  const zoneId = emulator.state.zones()[0].id;
  return measure(emulator, async () => {
    for (const t of emulator.state.tunnels()) {
      await client.zeroTrust.tunnels.cloudflared.get(t.id, { account_id: accountId });
      await client.zeroTrust.tunnels.cloudflared.configurations.get(t.id, { account_id: accountId });
    }
    for (const r of emulator.state.dnsRecords(ZONE)) await client.dns.records.get(r.id, { zone_id: zoneId });
    for (const a of emulator.state.accessApps()) {
      await client.zeroTrust.access.applications.get(a.id, { account_id: accountId });
    }
    for (const p of emulator.state.accessPolicies()) {
      await client.zeroTrust.access.policies.get(p.id, { account_id: accountId });
    }
  });
}

const fmt = (m) => `${m.total} (${m.reads}r/${m.writes}w)`;
const rows = [];
for (const n of [10, 100, 500]) {
  const { emulator, client, base } = setup();
  const create = await measure(emulator, () => reconcile({ ...base, routes: routes(n) }));
  const noop = await measure(emulator, () => reconcile({ ...base, routes: routes(n) }));
  const change = await measure(emulator, () => reconcile({ ...base, routes: routes(n, Math.floor(n / 2)) }));
  const added = await measure(emulator, () =>
    reconcile({ ...base, routes: routes(n + 1, Math.floor(n / 2)) }),
  );
  const perResource = await refresh(emulator, client);
  rows.push({ n, create, noop, change, added, perResource });
}

const header = [
  "routes",
  "create",
  "no-op",
  "one change",
  "one added",
  "per-resource refresh",
  "refresh / no-op",
];
const table = rows.map((r) => [
  String(r.n),
  fmt(r.create),
  fmt(r.noop),
  fmt(r.change),
  fmt(r.added),
  String(r.perResource.total),
  `${(r.perResource.total / r.noop.total).toFixed(1)}x`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
process.stdout.write("requests per reconcile (r = GET, w = write), in-process emulator\n");
process.stdout.write(`${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
for (const row of table) process.stdout.write(`${line(row)}\n`);
process.stdout.write("\nwall time per reconcile (ms, in-process, indicative only)\n");
for (const r of rows) {
  process.stdout.write(
    `${String(r.n).padEnd(6)} create ${r.create.ms.toFixed(0)}  no-op ${r.noop.ms.toFixed(0)}  one change ${r.change.ms.toFixed(0)}  refresh ${r.perResource.ms.toFixed(0)}\n`,
  );
}
