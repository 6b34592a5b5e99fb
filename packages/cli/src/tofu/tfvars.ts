import { TofuError } from "./errors.js";

/** File name `homelab render` writes in the infrastructure directory; tofu loads it automatically. */
export const TFVARS_FILE_NAME = "homelab.auto.tfvars.json";

/** One network interface of a node (homelab.yaml `nodes[].interfaces[]`); other keys are ignored. */
export interface TfvarsInterface {
  name?: string | undefined;
  addresses?: string[] | undefined;
  gateway?: string | undefined;
  dhcp?: boolean | undefined;
  mtu?: number | undefined;
  vip?: string | undefined;
}

/** Access rule of a route (homelab.yaml `tunnel.routes[].access`). */
export interface TfvarsRouteAccess {
  emails?: string[] | undefined;
  emailDomains?: string[] | undefined;
  groups?: string[] | undefined;
  serviceTokens?: string[] | undefined;
}

/**
 * The core keys of homelab.yaml, as the CLI has parsed them (camelCase, as in the YAML file).
 * Secret references (`tailscale.authKey`) may be present; they are never written to tfvars.
 */
export interface TfvarsInput {
  cluster: {
    name: string;
    talosVersion: string;
    kubernetesVersion?: string | undefined;
    endpoint: string;
    network?: { podSubnets?: string[] | undefined; serviceSubnets?: string[] | undefined } | undefined;
    allowSchedulingOnControlPlanes?: boolean | undefined;
    /** May contain the token `coredns` (service subnet base + 10); written resolved. */
    nameservers?: string[] | undefined;
    extensions?: string[] | undefined;
    /** Image Factory installer image (computed by the CLI from the schematic). */
    installerImage?: string | undefined;
  };
  nodes: {
    name: string;
    role: "controlplane" | "worker";
    address: string;
    installDisk?: string | undefined;
    /** false: the node gets no cloudflared configuration. Default true. */
    tunnel?: boolean | undefined;
    /** false: no tailscale on this node; or per-node hostname and extra arguments. */
    tailscale?: false | { hostname?: string | undefined; extraArgs?: string[] | undefined } | undefined;
    interfaces?: TfvarsInterface[] | undefined;
  }[];
  tunnel?:
    | {
        name: string;
        accountId: string;
        zone: string;
        routes: {
          hostname: string;
          service: string;
          path?: string | undefined;
          public?: boolean | undefined;
          access?: TfvarsRouteAccess | undefined;
          /**
           * cloudflared origin settings in the API's camelCase (`noTLSVerify`, `httpHostHeader`,
           * `connectTimeout`...); written in the provider's snake_case, durations ("30s") as seconds.
           */
          originRequest?: Record<string, unknown> | undefined;
          /** Adopting existing DNS records is a direct-engine feature; ignored here. */
          adopt?: boolean | undefined;
        }[];
      }
    | undefined;
  tailscale?:
    | {
        /** A reference such as `env:TS_AUTHKEY`; ignored here (see {@link tofuSecretEnv}). */
        authKey?: unknown;
        routes?: string[] | undefined;
        hostname?: string | undefined;
        extraArgs?: string[] | undefined;
      }
    | undefined;
  argocd?:
    | {
        chartVersion: string;
        repoURL: string;
        path: string;
        targetRevision?: string | undefined;
        namespace?: string | undefined;
      }
    | undefined;
}

/** Resolved secret values for the tofu run (the CLI resolves homelab.yaml's references). */
export interface TofuSecretInput {
  tailscaleAuthKey?: string | undefined;
  /** Read by the Cloudflare provider itself as CLOUDFLARE_API_TOKEN. */
  cloudflareApiToken?: string | undefined;
}

const DEFAULT_POD_SUBNETS = ["10.244.0.0/16"];
const DEFAULT_SERVICE_SUBNETS = ["10.96.0.0/12"];

const ORIGIN_REQUEST_KEYS: Record<string, "string" | "number" | "bool" | "access"> = {
  ca_pool: "string",
  connect_timeout: "number",
  disable_chunked_encoding: "bool",
  http2_origin: "bool",
  http_host_header: "string",
  keep_alive_connections: "number",
  keep_alive_timeout: "number",
  match_sn_ito_host: "bool",
  no_happy_eyeballs: "bool",
  no_tls_verify: "bool",
  origin_server_name: "string",
  proxy_type: "string",
  tcp_keep_alive: "number",
  tls_timeout: "number",
  access: "access",
};
const ACCESS_KEYS = new Set(["aud_tag", "required", "team_name"]);

/** camelCase (with acronyms, e.g. noTLSVerify, matchSNItoHost) to snake_case as the provider names it. */
function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

function seconds(value: unknown, where: string): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new TofuError("INVALID_TFVARS_INPUT", `${where}: ${value} is not a whole number of seconds`);
    }
    return value;
  }
  const m = typeof value === "string" ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim()) : null;
  if (m === null)
    throw new TofuError("INVALID_TFVARS_INPUT", `${where}: expected seconds or a duration like "30s"`);
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? "s"] ?? 1;
  const total = Number(m[1]) * factor;
  // cloudflared's origin durations are whole seconds (variables.tf refuses anything else).
  if (!Number.isInteger(total)) {
    throw new TofuError(
      "INVALID_TFVARS_INPUT",
      `${where}: ${JSON.stringify(value)} is not a whole number of seconds`,
    );
  }
  return total;
}

function originRequest(raw: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = snakeCase(key);
    const kind = ORIGIN_REQUEST_KEYS[name];
    const at = `${where}.${key}`;
    if (kind === undefined) {
      throw new TofuError(
        "INVALID_TFVARS_INPUT",
        `${at}: not an origin request setting the tofu engine supports`,
      );
    }
    if (kind === "number") {
      out[name] = seconds(value, at);
    } else if (kind === "access") {
      const access: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        const n = snakeCase(k);
        if (!ACCESS_KEYS.has(n))
          throw new TofuError("INVALID_TFVARS_INPUT", `${at}.${k}: not an origin access setting`);
        access[n] = v;
      }
      // The provider requires both when origin access is set (variables.tf makes them required).
      for (const required of ["aud_tag", "team_name"]) {
        if (access[required] === undefined) {
          throw new TofuError(
            "INVALID_TFVARS_INPUT",
            `${at}: ${required === "aud_tag" ? "audTag" : "teamName"} is required`,
          );
        }
      }
      out[name] = access;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/**
 * Renders `homelab.auto.tfvars.json` (the exact shape `infrastructure/variables.tf` accepts) from
 * the core keys of homelab.yaml. Every key is written (null when absent) so the file is explicit.
 * Secrets are not written: pass them to tofu with {@link tofuSecretEnv}.
 *
 * @throws TofuError INVALID_TFVARS_INPUT for duplicate node names, an unusable service subnet or an
 * origin request setting the provider does not have.
 */
export function renderTfvars(input: TfvarsInput): string {
  const seen = new Set<string>();
  for (const [i, node] of input.nodes.entries()) {
    if (seen.has(node.name)) {
      throw new TofuError("INVALID_TFVARS_INPUT", `nodes[${i}].name: duplicate node name ${node.name}`);
    }
    seen.add(node.name);
  }
  const c = input.cluster;
  const podSubnets = c.network?.podSubnets ?? DEFAULT_POD_SUBNETS;
  const serviceSubnets = c.network?.serviceSubnets ?? DEFAULT_SERVICE_SUBNETS;
  // `coredns` stays a token: infrastructure/ gives it to cloudflared alone, as the direct engine does
  const nameservers = [...(c.nameservers ?? [])];
  const tfvars = {
    cluster: {
      name: c.name,
      talos_version: c.talosVersion,
      kubernetes_version: c.kubernetesVersion ?? null,
      endpoint: c.endpoint,
      pod_subnets: podSubnets,
      service_subnets: serviceSubnets,
      allow_scheduling_on_control_planes: c.allowSchedulingOnControlPlanes ?? false,
      nameservers,
      extensions: c.extensions ?? [],
      installer_image: c.installerImage ?? null,
    },
    nodes: input.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      address: n.address,
      install_disk: n.installDisk ?? null,
      tunnel: n.tunnel ?? true,
      tailscale: {
        enabled: n.tailscale !== false,
        hostname: n.tailscale === false ? null : (n.tailscale?.hostname ?? null),
        extra_args: n.tailscale === false ? [] : (n.tailscale?.extraArgs ?? []),
      },
      interfaces: (n.interfaces ?? []).map((i) => ({
        name: i.name ?? null,
        addresses: i.addresses ?? [],
        gateway: i.gateway ?? null,
        dhcp: i.dhcp ?? false,
        mtu: i.mtu ?? null,
        vip: i.vip ?? null,
      })),
    })),
    tunnel:
      input.tunnel === undefined
        ? null
        : {
            name: input.tunnel.name,
            account_id: input.tunnel.accountId,
            zone: input.tunnel.zone,
            routes: input.tunnel.routes.map((r, i) => ({
              hostname: r.hostname,
              service: r.service,
              path: r.path ?? null,
              public: r.public ?? false,
              origin_request:
                r.originRequest === undefined
                  ? null
                  : originRequest(r.originRequest, `tunnel.routes[${i}].originRequest`),
              access:
                r.access === undefined
                  ? null
                  : {
                      emails: r.access.emails ?? [],
                      email_domains: r.access.emailDomains ?? [],
                      groups: r.access.groups ?? [],
                      service_tokens: r.access.serviceTokens ?? [],
                    },
            })),
          },
    tailscale:
      input.tailscale === undefined
        ? null
        : {
            routes: input.tailscale.routes ?? [],
            hostname: input.tailscale.hostname ?? null,
            extra_args: input.tailscale.extraArgs ?? [],
          },
  };
  return `${JSON.stringify(tfvars, null, 2)}\n`;
}

/**
 * The environment variables that carry resolved secrets to tofu (`TF_VAR_*` for the sensitive
 * variables of variables.tf). Pass them as the runner's `env`; never write them to a file.
 */
export function tofuSecretEnv(secrets: TofuSecretInput): Record<string, string> {
  const env: Record<string, string> = {};
  if (secrets.tailscaleAuthKey !== undefined) env.TF_VAR_tailscale_auth_key = secrets.tailscaleAuthKey;
  if (secrets.cloudflareApiToken !== undefined) env.CLOUDFLARE_API_TOKEN = secrets.cloudflareApiToken;
  return env;
}
