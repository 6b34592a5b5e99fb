import { createHash } from "node:crypto";
import { join } from "node:path";
import type Cloudflare from "cloudflare";
import { HomelabError } from "../../errors.js";
import { Secret } from "../../secret.js";
import { loadArgoBootstrap } from "../adapters/argo-bootstrap.js";
import { createCloudflare, loadCfTunnel, type Plan } from "../adapters/cf-tunnel.js";
import { loadTalosClient, type TalosClient, type TalosClientModule } from "../adapters/talos-client.js";
import { loadTalosConfig, type SecretsBundle, type TalosConfigModule } from "../adapters/talos-config.js";
import type { Output } from "../cli/output.js";
import type { LoadedConfig } from "../config/load.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { nodeMachineConfig, nodeVersion } from "../plan/intent.js";
import { routesOf } from "../plan/routes.js";
import { schematicOf } from "../plan/schematic.js";
import { argoSettings } from "./argo-settings.js";
import { type NodeTrust, verifyMaintenanceNode } from "./node-trust.js";
import { type Progress, readOptional, readProgress, writeProgress } from "./state.js";
import type { Target } from "./target.js";

type NodeConfig = LoadedConfig["config"]["nodes"][number];

/** One thing `up` did (or found already done). */
export interface UpStep {
  id: string;
  title: string;
  changed: boolean;
  detail: string;
}

/** What `up` returns. */
export interface UpResult {
  cluster: string;
  engine: "direct";
  simulated: boolean;
  stateDir: string;
  changed: number;
  steps: UpStep[];
  files: { talosconfig: string; kubeconfig: string; secrets: string };
}

/** Options of {@link runUp}. */
export interface RunUpOptions {
  loaded: LoadedConfig;
  stateDir: string;
  target: Target;
  out: Output;
  signal: AbortSignal;
  /** Health wait limit. */
  healthTimeoutMs?: number;
  /** Who may receive a machine config in maintenance mode (default: nobody known, no pins, no prompt). */
  trust?: NodeTrust;
  /** Called after each completed step (tests interrupt here). */
  onStep?: (step: UpStep) => void;
  /** Environment for secret references (argocd.clusterSecrets `env:`); default none. */
  env?: Record<string, string | undefined>;
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return (
    typeof (error as { code?: unknown })?.code === "string" &&
    codes.includes((error as { code: string }).code)
  );
}

function aborted(signal: AbortSignal): void {
  if (signal.aborted) throw new HomelabError("INTERRUPTED", "interrupted");
}

/**
 * The direct engine of `homelab up`: secrets, tunnel, machine configs (maintenance mode first,
 * then mTLS), bootstrap once, health, kubeconfig, tunnel routes/DNS/Access, Argo CD. Every step
 * checks the live state first, so a second run changes nothing and an interrupted run resumes.
 */
export async function runUp(options: RunUpOptions): Promise<UpResult> {
  const { loaded, stateDir, target, out, signal } = options;
  const trust: NodeTrust = options.trust ?? { reinstall: new Set(), pinned: {} };
  const { config } = loaded;
  const steps: UpStep[] = [];
  const record = (step: UpStep) => {
    steps.push(step);
    options.onStep?.(step);
    aborted(signal);
  };
  const tc = await loadTalosConfig();
  const talosLib = await loadTalosClient();
  const cfLib = config.tunnel ? await loadCfTunnel() : undefined;
  const argoLib = config.argocd ? await loadArgoBootstrap() : undefined;
  const progress = await readProgress(stateDir);
  const files = {
    secrets: join(stateDir, "secrets.yaml"),
    talosconfig: join(stateDir, "talosconfig"),
    kubeconfig: join(stateDir, "kubeconfig"),
  };
  const save = () => writeProgress(stateDir, progress);

  // 1. machine secrets, generated once
  let step = out.step("machine secrets");
  const secretsText = await readOptional(files.secrets);
  let bundle: SecretsBundle;
  if (secretsText === undefined) {
    bundle = tc.generateSecrets();
    await writeFileAtomic(files.secrets, tc.secretsToYaml(bundle), 0o600);
    step.done("machine secrets generated (secrets.yaml, 0600)");
    record({ id: "secrets", title: "machine secrets", changed: true, detail: "generated secrets.yaml" });
  } else {
    bundle = tc.secretsFromYaml(secretsText);
    step.done("machine secrets: kept");
    record({ id: "secrets", title: "machine secrets", changed: false, detail: "secrets.yaml exists" });
  }
  const secretsHash = sha(secretsText ?? tc.secretsToYaml(bundle));

  // 2. Cloudflare tunnel (its token goes into the cloudflared config of the nodes)
  let cfClient: Cloudflare | undefined;
  let tunnelToken: Secret | undefined;
  if (config.tunnel && cfLib) {
    step = out.step("Cloudflare tunnel");
    if (!target.cloudflare.apiToken)
      throw new HomelabError("MISSING_CREDENTIALS", "CLOUDFLARE_API_TOKEN is not set", {
        hint: "create an API token with Cloudflare Tunnel:Edit, DNS:Edit and Access: Apps and Policies:Edit",
      });
    cfClient = await createCloudflare({
      apiToken: target.cloudflare.apiToken,
      baseURL: target.cloudflare.baseURL,
      maxRetries: target.kind === "lab" ? 0 : 2,
    });
    const tunnel = await cfLib.ensureTunnel({
      client: cfClient,
      accountId: config.tunnel.accountId,
      name: config.tunnel.name,
    });
    tunnelToken = new Secret(tunnel.token, "cloudflare:tunnel-token");
    progress.tunnel = { id: tunnel.id, name: tunnel.name };
    await save();
    step.done(`tunnel ${tunnel.name}: ${tunnel.created ? "created" : "exists"} (${tunnel.id})`);
    record({
      id: "tunnel",
      title: "Cloudflare tunnel",
      changed: tunnel.created,
      detail: `${tunnel.created ? "created" : "found"} ${tunnel.name} (${tunnel.id})`,
    });
  }

  // 3. talosconfig (admin client certificate), generated once per secrets bundle
  const controlPlanes = config.nodes.filter((n) => n.role === "controlplane");
  const workers = config.nodes.filter((n) => n.role === "worker");
  const first = controlPlanes[0] as NodeConfig;
  const cpEndpoints = controlPlanes.map((n) => target.talosEndpoint(n));
  let talosconfig = await readOptional(files.talosconfig);
  const talosconfigMatches =
    talosconfig !== undefined &&
    progress.nodes.__talosconfig?.configHash === sha(`${secretsHash}|${cpEndpoints.join(",")}`);
  if (talosconfig === undefined || !talosconfigMatches) {
    talosconfig = tc.generateTalosconfig({
      secrets: bundle,
      contextName: config.cluster.name,
      endpoints: cpEndpoints,
      nodes: [first.address],
    });
    await writeFileAtomic(files.talosconfig, talosconfig, 0o600);
    progress.nodes.__talosconfig = {
      configHash: sha(`${secretsHash}|${cpEndpoints.join(",")}`),
      appliedAt: new Date().toISOString(),
    };
    await save();
    record({ id: "talosconfig", title: "talosconfig", changed: true, detail: "wrote talosconfig (0600)" });
  } else {
    record({ id: "talosconfig", title: "talosconfig", changed: false, detail: "talosconfig exists" });
  }

  // 4. machine configs: maintenance mode first (insecure), then mTLS for configured nodes
  const schematic = schematicOf(tc, config);
  // control planes first: a worker's serving certificate is issued by a control plane (trustd)
  for (const node of [...controlPlanes, ...workers]) {
    aborted(signal);
    step = out.step(`${node.name}: machine config`);
    const desired = desiredNodeConfig(tc, config, node, {
      bundle,
      secretsHash,
      schematicId: schematic.id,
      tunnelToken,
    });
    const inputsHash = desired.inputsHash;
    const endpoint = target.talosEndpoint(node);
    const probe = await probeNode(talosLib, talosconfig, endpoint, node.address, signal);
    if (probe.state === "configured" && progress.nodes[node.name]?.configHash === inputsHash) {
      step.done(`${node.name}: config up to date`);
      record({
        id: `config:${node.name}`,
        title: `${node.name} config`,
        changed: false,
        detail: "up to date",
      });
      continue;
    }
    let fingerprint: string | undefined;
    if (probe.state === "unverified") {
      const verified = await verifyMaintenanceNode({
        node,
        endpoint,
        mtlsError: probe.reason,
        knownConfigured: await knownConfigured(node, progress, talosLib, talosconfig, cpEndpoints, signal),
        recorded: progress.fingerprints?.[node.name],
        vouched: target.maintenanceFingerprint?.(node),
        trust,
        signal,
      }).catch((error: unknown) => {
        step.fail(`${node.name}: not verified, nothing sent`);
        throw error;
      });
      fingerprint = verified.fingerprint;
      if (progress.fingerprints?.[node.name] !== fingerprint) {
        progress.fingerprints = { ...progress.fingerprints, [node.name]: fingerprint };
        await save();
      }
      out.debug(`${node.name}: maintenance-mode certificate ${fingerprint} (${verified.how})`);
    }
    const data = desired.render();
    const client =
      fingerprint !== undefined
        ? talosLib.createTalosClient({
            endpoints: [endpoint],
            insecure: true,
            spkiPins: [fingerprint],
            timeoutMs: 30_000,
          })
        : talosLib.createTalosClient({
            talosconfig,
            endpoints: [endpoint],
            nodes: [node.address],
            timeoutMs: 30_000,
          });
    try {
      const result = await client.applyConfiguration({
        data,
        mode: "auto",
        ...(fingerprint === undefined ? { node: node.address } : {}),
      });
      progress.nodes[node.name] = { configHash: inputsHash, appliedAt: new Date().toISOString() };
      await save();
      const how =
        fingerprint !== undefined
          ? "applied in maintenance mode (certificate verified)"
          : "re-applied over mTLS";
      step.done(`${node.name}: config ${how} (${result.modeDetails || result.mode || "auto"})`);
      record({ id: `config:${node.name}`, title: `${node.name} config`, changed: true, detail: how });
    } catch (error) {
      step.fail(`${node.name}: applying the config failed`);
      throw error;
    } finally {
      client.close();
    }
  }

  const client = talosLib.createTalosClient({
    talosconfig,
    endpoints: cpEndpoints,
    nodes: [first.address],
    timeoutMs: 30_000,
  });
  try {
    // 5. bootstrap etcd once, on the first control plane
    step = out.step(`bootstrap etcd on ${first.name}`);
    const alreadyBootstrapped = await etcdHasMembers(client, first.address);
    if (alreadyBootstrapped) {
      step.done(`etcd: already bootstrapped on ${progress.bootstrapped?.node ?? first.name}`);
      record({ id: "bootstrap", title: "etcd bootstrap", changed: false, detail: "already bootstrapped" });
    } else {
      try {
        await client.bootstrap({ node: first.address });
        step.done(`etcd bootstrapped on ${first.name}`);
        progress.bootstrapped = { node: first.name, at: new Date().toISOString() };
        await save();
        record({
          id: "bootstrap",
          title: "etcd bootstrap",
          changed: true,
          detail: `bootstrapped on ${first.name}`,
        });
      } catch (error) {
        if (!isCode(error, "ALREADY_EXISTS")) {
          step.fail();
          throw error;
        }
        progress.bootstrapped = { node: first.name, at: new Date().toISOString() };
        await save();
        step.done("etcd: already bootstrapped");
        record({ id: "bootstrap", title: "etcd bootstrap", changed: false, detail: "already bootstrapped" });
      }
    }

    // 6. health
    step = out.step("waiting for the cluster to be healthy");
    const report = await client
      .waitForHealthy({
        controlPlaneNodes: controlPlanes.map((n) => n.address),
        workerNodes: workers.map((n) => n.address),
        timeoutMs: options.healthTimeoutMs ?? (target.kind === "lab" ? 60_000 : 15 * 60_000),
        signal,
        onProgress: (e) => step.update(e.message),
      })
      .catch((error: unknown) => {
        step.fail("the cluster did not become healthy");
        throw error;
      });
    step.done(`cluster healthy (${config.nodes.length} node(s), etcd members: ${report.etcdMembers.length})`);
    record({ id: "health", title: "cluster health", changed: false, detail: "healthy" });

    // 7. kubeconfig
    const existing = await readOptional(files.kubeconfig);
    let kubeconfig = existing;
    if (existing === undefined || target.kind === "lab") {
      kubeconfig = await client.kubeconfig({ node: first.address });
    }
    const kubeChanged = kubeconfig !== existing;
    if (kubeChanged) await writeFileAtomic(files.kubeconfig, kubeconfig as string, 0o600);
    record({
      id: "kubeconfig",
      title: "kubeconfig",
      changed: kubeChanged,
      detail: kubeChanged ? "wrote kubeconfig (0600)" : "kubeconfig exists",
    });
    out.info(
      `${kubeChanged ? "✓" : "·"} kubeconfig ${kubeChanged ? "written" : "kept"}: ${files.kubeconfig}`,
    );

    // 8. tunnel ingress, DNS and Access
    if (config.tunnel && cfLib && cfClient) {
      step = out.step("tunnel ingress, DNS and Access");
      const result = await cfLib.reconcile({
        client: cfClient,
        accountId: config.tunnel.accountId,
        zone: config.tunnel.zone,
        tunnelName: config.tunnel.name,
        routes: routesOf(config),
        onProgress: (e) => step.update(e.message),
        signal,
      });
      const changes = countPlanChanges(result.plan);
      step.done(`tunnel routes: ${changes === 0 ? "up to date" : `${changes} change(s) applied`}`);
      if (changes > 0 && out.flags.verbose) out.debug(cfLib.renderPlan(result.plan));
      record({
        id: "tunnel-routes",
        title: "tunnel, DNS and Access",
        changed: changes > 0,
        detail: changes === 0 ? "up to date" : `${changes} change(s)`,
      });
    }

    // 9. Argo CD and the root application
    if (config.argocd && argoLib && kubeconfig) {
      step = out.step(`Argo CD ${config.argocd.chartVersion}`);
      const helm = argoLib.createHelm({ run: target.helm, kubeconfigPath: files.kubeconfig });
      const settings = await argoSettings({
        argo: argoLib,
        loaded,
        env: options.env ?? {},
        placeholderSecrets: target.kind === "lab",
      });
      const result = await argoLib
        .bootstrapArgoCd({
          helm,
          kubeconfig,
          ...settings.bootstrap,
          timeoutMs: target.kind === "lab" ? 60_000 : 15 * 60_000,
          // the lab's emulated Argo CD moves in milliseconds: poll it often
          ...(target.kind === "lab" ? { pollIntervalMs: 50 } : {}),
          onProgress: (e) => step.update(e.message),
          signal,
        })
        .catch((error: unknown) => {
          step.fail();
          throw error;
        });
      const unchanged = result.unchanged === true;
      progress.argocd = { chartVersion: config.argocd.chartVersion, at: new Date().toISOString() };
      await save();
      step.done(
        `Argo CD ${config.argocd.chartVersion}: ${unchanged ? "up to date" : "installed"}, root app Synced + Healthy`,
      );
      record({
        id: "argocd",
        title: "Argo CD",
        changed: !unchanged,
        detail: unchanged ? "up to date" : `installed chart ${config.argocd.chartVersion}, root app synced`,
      });
    }
  } finally {
    client.close();
  }

  progress.completedAt = new Date().toISOString();
  await save();
  return {
    cluster: config.cluster.name,
    engine: "direct",
    simulated: target.kind === "lab",
    stateDir,
    changed: steps.filter((s) => s.changed).length,
    steps,
    files,
  };
}

/** A node's desired machine config: a hash of its inputs (cheap) and the full render (on demand). */
export function desiredNodeConfig(
  tc: TalosConfigModule,
  config: LoadedConfig["config"],
  node: NodeConfig,
  options: {
    bundle: SecretsBundle;
    secretsHash: string;
    schematicId: string;
    tunnelToken?: Secret | undefined;
  },
): { inputsHash: string; render(): string } {
  const machine = nodeMachineConfig(tc, config, node, options.bundle, {
    schematicId: options.schematicId,
    withTailscale: true,
    ...(options.tunnelToken ? { tunnelToken: options.tunnelToken.reveal() } : {}),
  });
  const patchText = tc.stringifyDocuments(machine.patches);
  const c = config.cluster;
  const inputsHash = sha(
    [
      options.secretsHash,
      node.role,
      nodeVersion(config, node),
      c.kubernetesVersion,
      c.endpoint,
      c.name,
      patchText,
    ].join("\n"),
  );
  return { inputsHash, render: machine.render };
}

/** sha256 of the secrets file text (part of every node's config inputs). */
export function secretsHashOf(text: string): string {
  return sha(text);
}

/**
 * "configured" when the node answers over mTLS with this cluster's CA; otherwise "unverified" with
 * the reason: it may be in maintenance mode, or another machine, which {@link verifyMaintenanceNode}
 * decides before anything is sent.
 */
async function probeNode(
  lib: TalosClientModule,
  talosconfig: string,
  endpoint: string,
  address: string,
  signal: AbortSignal,
): Promise<{ state: "configured" } | { state: "unverified"; reason: string }> {
  aborted(signal);
  const secure = lib.createTalosClient({
    talosconfig,
    endpoints: [endpoint],
    nodes: [address],
    timeoutMs: 10_000,
  });
  try {
    const [result] = await secure.version({ nodes: [address] });
    if (result?.ok) return { state: "configured" };
    return { state: "unverified", reason: describeCode(result?.error) };
  } catch (error) {
    return { state: "unverified", reason: describeCode(error) };
  } finally {
    secure.close();
  }
}

function describeCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : "no answer";
}

/**
 * Where `node` is known as configured, or undefined: the state recorded an apply, or (for a
 * control plane) another control plane's etcd lists it as a member.
 */
async function knownConfigured(
  node: NodeConfig,
  progress: Progress,
  lib: TalosClientModule,
  talosconfig: string,
  cpEndpoints: readonly string[],
  signal: AbortSignal,
): Promise<string | undefined> {
  const applied = progress.nodes[node.name];
  if (applied) return `the state recorded its config applied at ${applied.appliedAt}`;
  if (node.role !== "controlplane") return undefined;
  for (const endpoint of cpEndpoints) {
    aborted(signal);
    const client = lib.createTalosClient({ talosconfig, endpoints: [endpoint], timeoutMs: 5_000 });
    try {
      const [answer] = await client.version();
      if (!answer?.ok) continue;
      const members = await client.etcdMemberList();
      if (members.some((m) => m.hostname === node.name)) return "etcd lists it as a member";
      return undefined;
    } catch {
      // that control plane is not configured or not reachable: ask the next one
    } finally {
      client.close();
    }
  }
  return undefined;
}

/** True when etcd already has members (bootstrapped before). */
async function etcdHasMembers(client: TalosClient, node: string): Promise<boolean> {
  try {
    const members = await client.etcdMemberList({ node });
    return members.length > 0;
  } catch {
    return false;
  }
}

/** Number of changes in a cf-tunnel plan (tunnel ingress, DNS records, Access apps and policies). */
export function countPlanChanges(plan: Plan): number {
  const { access, ingress, dns } = plan;
  return (
    access.createPolicies.length +
    access.updatePolicies.length +
    access.createApps.length +
    access.updateApps.length +
    access.deleteApps.length +
    access.deletePolicies.length +
    ingress.add.length +
    ingress.update.length +
    ingress.remove.length +
    dns.create.length +
    dns.update.length +
    dns.delete.length
  );
}
