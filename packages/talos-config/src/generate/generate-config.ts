import { fail, multiDoc } from "../builders/util.js";
import type { ConfigDocument } from "../model/document.js";
import { tryParseIp } from "../net.js";
import { applyPatches, type ConfigPatch } from "../patch/apply-patches.js";
import type { SecretsBundle } from "../secrets/secrets-bundle.js";
import { pemBase64 } from "../secrets/x509.js";
import { parseTalosVersion } from "../version.js";
import {
  API_SERVER_IMAGE,
  auditPolicy,
  authenticationConfiguration,
  CONTROLLER_MANAGER_IMAGE,
  DEFAULT_DISCOVERY_ENDPOINT,
  DEFAULT_DNS_DOMAIN,
  DEFAULT_IPV4_POD_CIDR,
  DEFAULT_IPV4_SERVICE_CIDR,
  DEFAULT_IPV6_POD_CIDR,
  DEFAULT_IPV6_SERVICE_CIDR,
  DEFAULT_KUBEPRISM_PORT,
  FILESYSTEM_TRIM_INTERVAL,
  FLANNEL_BACKEND,
  FLANNEL_BACKEND_PORT,
  KUBELET_IMAGE,
  LABEL_CONTROL_PLANE,
  LABEL_EXCLUDE_FROM_EXTERNAL_LB,
  PROXY_IMAGE,
  podSecurityConfiguration,
  SCHEDULER_IMAGE,
} from "./defaults.js";

/** Options for {@link generateConfig}. */
export interface GenerateConfigOptions {
  /** The cluster's secrets bundle (from {@link generateSecrets} or {@link secretsFromYaml}). */
  secrets: SecretsBundle;
  /** The machine type to generate for. */
  role: "controlplane" | "worker";
  /** The cluster name (non-empty). */
  clusterName: string;
  /** The Kubernetes API endpoint URL, with scheme, e.g. `https://192.168.50.200:6443`. */
  endpoint: string;
  /** The target Talos version (v1.11 .. v1.15); decides which documents are emitted. */
  target: string;
  /** The Kubernetes version, e.g. `1.34.1` (a leading `v` is accepted). */
  kubernetesVersion: string;
  /** Patches applied after generation with {@link applyPatches}, in order. */
  patches?: readonly ConfigPatch[];
  /** Install disk (`--install-disk`); on 1.14+ it becomes an UnattendedInstallConfig document. */
  installDisk?: string;
  /** Installer image (`--install-image`). */
  installImage?: string;
  /** Extra SANs for the API server and apid certificates (`--additional-sans`). */
  additionalSANs?: readonly string[];
  /** Kubernetes DNS domain (`--dns-domain`), default `cluster.local`. */
  dnsDomain?: string;
  /** Allow workloads on control-plane nodes (`--config-patch` equivalent of the generator option). */
  allowSchedulingOnControlPlanes?: boolean;
}

const DNS_LABELS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function parseEndpoint(endpoint: string): URL {
  if (typeof endpoint !== "string" || endpoint.trim() === "")
    fail("endpoint", "must be a URL like https://10.0.0.1:6443");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) {
    fail("endpoint", `"${endpoint}" has no scheme; use a URL like https://${endpoint}`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    fail("endpoint", `"${endpoint}" is not a valid URL`);
  }
  if (url.protocol !== "https:") fail("endpoint", `"${endpoint}" must use https://`);
  if (url.hostname === "") fail("endpoint", `"${endpoint}" has no host`);
  return url;
}

function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

interface Context {
  readonly minor: number;
  readonly controlPlane: boolean;
  readonly secrets: SecretsBundle;
  readonly clusterName: string;
  readonly endpoint: string;
  readonly endpointHost: string;
  readonly kubernetesVersion: string;
  readonly podSubnets: string[];
  readonly serviceSubnets: string[];
  readonly dnsDomain: string;
  readonly sans: string[];
  readonly installDisk: string | undefined;
  readonly installImage: string | undefined;
  readonly allowScheduling: boolean;
}

/**
 * Generates the complete machine config a target Talos version's own generator (`talosctl gen config`)
 * emits for a role, then applies `patches` with {@link applyPatches}. The documents follow the target's
 * format: everything in the v1alpha1 document up to 1.11; a HostnameConfig document from 1.12; the
 * discovery, resolver, volume, trim, security-profile and Kubernetes documents (and no Kubernetes
 * settings in v1alpha1) from 1.14. Stringify the result with `stringifyDocuments`.
 *
 * @throws TalosConfigError `UNSUPPORTED_VERSION` (field `target`), `INVALID_INPUT` naming the field
 * (`clusterName`, `endpoint`, `kubernetesVersion`, `role`, `secrets`), `INVALID_PATCH` from a patch.
 */
export function generateConfig(options: GenerateConfigOptions): ConfigDocument[] {
  const version = parseTalosVersion(options.target);
  if (options.role !== "controlplane" && options.role !== "worker") {
    fail("role", `must be "controlplane" or "worker"`);
  }
  if (typeof options.clusterName !== "string" || options.clusterName.trim() === "") {
    fail("clusterName", "must not be empty");
  }
  if (!CLUSTER_NAME.test(options.clusterName)) {
    fail("clusterName", `"${options.clusterName}" may only hold letters, digits, '.', '_' and '-'`);
  }
  const url = parseEndpoint(options.endpoint);
  const kubernetesVersion = String(options.kubernetesVersion ?? "").replace(/^v/, "");
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(kubernetesVersion)) {
    fail("kubernetesVersion", `"${options.kubernetesVersion}" is not a version like 1.34.1`);
  }
  if (options.secrets?.certs?.os?.crt === undefined || options.secrets?.trustdInfo?.token === undefined) {
    fail("secrets", "is not a secrets bundle (use generateSecrets or secretsFromYaml)");
  }
  const dnsDomain = options.dnsDomain ?? DEFAULT_DNS_DOMAIN;
  if (dnsDomain === "" || !DNS_LABELS.test(dnsDomain))
    fail("dnsDomain", `"${dnsDomain}" is not a DNS domain`);
  const endpointHost = hostOf(url);
  const ipv6 = tryParseIp(endpointHost)?.family === 6;
  const ctx: Context = {
    minor: version.minor,
    controlPlane: options.role === "controlplane",
    secrets: options.secrets,
    clusterName: options.clusterName,
    endpoint: options.endpoint,
    endpointHost,
    kubernetesVersion,
    podSubnets: [ipv6 ? DEFAULT_IPV6_POD_CIDR : DEFAULT_IPV4_POD_CIDR],
    serviceSubnets: [ipv6 ? DEFAULT_IPV6_SERVICE_CIDR : DEFAULT_IPV4_SERVICE_CIDR],
    dnsDomain,
    sans: [...(options.additionalSANs ?? [])],
    installDisk: options.installDisk,
    installImage: options.installImage,
    allowScheduling: options.allowSchedulingOnControlPlanes ?? false,
  };
  const docs = ctx.minor >= 14 ? multiDocumentConfig(ctx) : legacyConfig(ctx);
  return options.patches === undefined || options.patches.length === 0
    ? docs
    : applyPatches(docs, options.patches);
}

function image(name: string, ctx: Context): string {
  return `${name}:v${ctx.kubernetesVersion}`;
}

function osCA(ctx: Context): Record<string, string> {
  return {
    crt: pemBase64(ctx.secrets.certs.os.crt),
    key: ctx.controlPlane ? pemBase64(ctx.secrets.certs.os.key) : "",
  };
}

/** Talos 1.11 .. 1.13: Kubernetes, install and cluster identity live in the v1alpha1 document. */
function legacyConfig(ctx: Context): ConfigDocument[] {
  const { minor, controlPlane, secrets } = ctx;
  const install: Record<string, unknown> = {};
  if (ctx.installDisk !== undefined) install.disk = ctx.installDisk;
  if (ctx.installImage !== undefined) install.image = ctx.installImage;
  install.wipe = false;
  if (minor >= 12) install.grubUseUKICmdline = true;

  const features: Record<string, unknown> = {};
  if (minor <= 11) {
    features.rbac = true;
    features.stableHostname = true;
    features.apidCheckExtKeyUsage = true;
  }
  features.diskQuotaSupport = true;
  features.kubePrism = { enabled: true, port: DEFAULT_KUBEPRISM_PORT };
  features.hostDNS = { enabled: true, forwardKubeDNSToHost: true };

  const machine: Record<string, unknown> = {
    type: controlPlane ? "controlplane" : "worker",
    token: secrets.trustdInfo.token,
    ca: osCA(ctx),
    certSANs: [...ctx.sans],
    kubelet: {
      image: image(KUBELET_IMAGE, ctx),
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
    },
  };
  if (minor <= 12) machine.network = {};
  machine.install = install;
  machine.features = features;
  if (controlPlane) machine.nodeLabels = { [LABEL_EXCLUDE_FROM_EXTERNAL_LB]: "" };

  const cluster: Record<string, unknown> = {
    id: secrets.cluster.id,
    secret: secrets.cluster.secret,
    controlPlane: { endpoint: ctx.endpoint },
    clusterName: ctx.clusterName,
    network: {
      dnsDomain: ctx.dnsDomain,
      podSubnets: [...ctx.podSubnets],
      serviceSubnets: [...ctx.serviceSubnets],
    },
    token: secrets.secrets.bootstrapToken,
  };
  if (controlPlane) {
    if (secrets.secrets.secretboxEncryptionSecret !== undefined) {
      cluster.secretboxEncryptionSecret = secrets.secrets.secretboxEncryptionSecret;
    } else if (secrets.secrets.aescbcEncryptionSecret !== undefined) {
      cluster.aescbcEncryptionSecret = secrets.secrets.aescbcEncryptionSecret;
    }
    cluster.ca = { crt: pemBase64(secrets.certs.k8s.crt), key: pemBase64(secrets.certs.k8s.key) };
    cluster.aggregatorCA = {
      crt: pemBase64(secrets.certs.k8sAggregator.crt),
      key: pemBase64(secrets.certs.k8sAggregator.key),
    };
    cluster.serviceAccount = { key: pemBase64(secrets.certs.k8sServiceAccount.key) };
    const apiServer: Record<string, unknown> = { image: image(API_SERVER_IMAGE, ctx) };
    const apiSANs = minor <= 11 ? [ctx.endpointHost, ...ctx.sans] : [...ctx.sans];
    if (apiSANs.length > 0) apiServer.certSANs = apiSANs;
    if (minor <= 11) apiServer.disablePodSecurityPolicy = true;
    apiServer.admissionControl = [{ name: "PodSecurity", configuration: podSecurityConfiguration() }];
    apiServer.auditPolicy = auditPolicy();
    cluster.apiServer = apiServer;
    cluster.controllerManager = { image: image(CONTROLLER_MANAGER_IMAGE, ctx) };
    cluster.proxy = { image: image(PROXY_IMAGE, ctx) };
    cluster.scheduler = { image: image(SCHEDULER_IMAGE, ctx) };
  } else {
    cluster.ca = { crt: pemBase64(secrets.certs.k8s.crt), key: "" };
  }
  cluster.discovery = { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } };
  if (controlPlane) {
    cluster.etcd = { ca: { crt: pemBase64(secrets.certs.etcd.crt), key: pemBase64(secrets.certs.etcd.key) } };
    if (ctx.allowScheduling) cluster.allowSchedulingOnControlPlanes = true;
  }

  const docs: ConfigDocument[] = [{ version: "v1alpha1", debug: false, machine, cluster }];
  if (minor >= 12) docs.push(multiDoc("HostnameConfig", { auto: "stable" }));
  return docs;
}

/** Talos 1.14 and 1.15: a slim v1alpha1 document plus the discovery, network and Kubernetes documents. */
function multiDocumentConfig(ctx: Context): ConfigDocument[] {
  const { controlPlane, secrets } = ctx;
  const cluster: Record<string, unknown> = { token: secrets.secrets.bootstrapToken };
  if (controlPlane)
    cluster.etcd = { ca: { crt: pemBase64(secrets.certs.etcd.crt), key: pemBase64(secrets.certs.etcd.key) } };
  const docs: ConfigDocument[] = [
    {
      version: "v1alpha1",
      debug: false,
      machine: {
        type: controlPlane ? "controlplane" : "worker",
        token: secrets.trustdInfo.token,
        ca: osCA(ctx),
        certSANs: [...ctx.sans],
        features: { diskQuotaSupport: true },
      },
      cluster,
    },
    multiDoc("DiscoveryServiceConfig", { name: "default", endpoint: DEFAULT_DISCOVERY_ENDPOINT }),
    multiDoc("DiscoveryIdentityConfig", {
      clusterID: secrets.cluster.id,
      clusterSecret: secrets.cluster.secret,
    }),
  ];
  if (ctx.installDisk !== undefined) {
    docs.push(
      multiDoc("UnattendedInstallConfig", {
        installer: ctx.installImage === undefined ? {} : { image: ctx.installImage },
        provisioning: {
          diskSelector: { match: `disk.dev_path == ${JSON.stringify(ctx.installDisk)}` },
          wipe: false,
        },
      }),
    );
  }
  docs.push(
    multiDoc("ResolverConfig", { hostDNS: { enabled: true, forwardKubeDNSToHost: true } }),
    multiDoc("VolumeConfig", { name: "EPHEMERAL", mount: { secure: true } }),
    multiDoc("FilesystemTrimConfig", { interval: FILESYSTEM_TRIM_INTERVAL }),
    multiDoc("SecurityProfileConfig", { workloadIsolation: true }),
    multiDoc("HostnameConfig", { auto: "stable" }),
    multiDoc("KubeClusterConfig", { clusterName: ctx.clusterName, endpoint: ctx.endpoint }),
  );
  const node: Record<string, unknown> = { nodeIP: {} };
  if (controlPlane) {
    node.labels = { [LABEL_CONTROL_PLANE]: "", [LABEL_EXCLUDE_FROM_EXTERNAL_LB]: "" };
    if (!ctx.allowScheduling) node.taints = { [LABEL_CONTROL_PLANE]: "NoSchedule" };
  }
  docs.push(
    multiDoc("KubeNodeConfig", node),
    multiDoc("KubeletConfig", {
      image: image(KUBELET_IMAGE, ctx),
      config: {},
      defaultRuntimeSeccompProfileEnabled: true,
    }),
    multiDoc("KubeNetworkConfig", {
      dnsDomain: ctx.dnsDomain,
      podSubnets: [...ctx.podSubnets],
      serviceSubnets: [...ctx.serviceSubnets],
    }),
    multiDoc(
      "KubeAPIServerCAConfig",
      controlPlane
        ? { issuingCA: { cert: secrets.certs.k8s.crt, key: secrets.certs.k8s.key } }
        : { acceptedCAs: [secrets.certs.k8s.crt] },
    ),
    multiDoc("KubePrismConfig", { port: DEFAULT_KUBEPRISM_PORT }),
  );
  if (!controlPlane) return docs;

  const providers: unknown[] = [];
  if (secrets.secrets.secretboxEncryptionSecret !== undefined) {
    providers.push({
      secretbox: { keys: [{ name: "key2", secret: secrets.secrets.secretboxEncryptionSecret }] },
    });
  }
  if (secrets.secrets.aescbcEncryptionSecret !== undefined) {
    providers.push({
      secretbox: { keys: [{ name: "key1", secret: secrets.secrets.aescbcEncryptionSecret }] },
    });
  }
  const apiServer: Record<string, unknown> = { image: image(API_SERVER_IMAGE, ctx) };
  if (ctx.sans.length > 0) apiServer.certExtraSANs = [...ctx.sans];
  docs.push(
    multiDoc("KubeAggregatorCAConfig", {
      issuingCA: { cert: secrets.certs.k8sAggregator.crt, key: secrets.certs.k8sAggregator.key },
    }),
    multiDoc("KubeAdmissionControlConfig", {
      name: "PodSecurity",
      configuration: podSecurityConfiguration(),
    }),
    multiDoc("KubeAuditPolicyConfig", { configuration: auditPolicy() }),
    multiDoc("KubeAuthenticationConfig", { configuration: authenticationConfiguration() }),
    multiDoc("KubeAuthorizerConfig", { name: "node", type: "Node" }),
    multiDoc("KubeAuthorizerConfig", { name: "rbac", type: "RBAC" }),
    multiDoc("KubeEtcdEncryptionConfig", { config: { resources: [{ providers, resources: ["secrets"] }] } }),
    multiDoc("KubeServiceAccountConfig", {
      issuer: { privateKey: secrets.certs.k8sServiceAccount.key, issuerURL: ctx.endpoint },
    }),
    multiDoc("KubeAPIServerConfig", apiServer),
    multiDoc("KubeControllerManagerConfig", { image: image(CONTROLLER_MANAGER_IMAGE, ctx) }),
    multiDoc("KubeSchedulerConfig", { image: image(SCHEDULER_IMAGE, ctx), config: {} }),
    multiDoc("KubeProxyConfig", { image: image(PROXY_IMAGE, ctx), config: {} }),
    multiDoc("KubeFlannelCNIConfig", { backendType: FLANNEL_BACKEND, backendPort: FLANNEL_BACKEND_PORT }),
    multiDoc("KubeCoreDNSConfig", { enabled: true }),
  );
  return docs;
}
