import { isIP } from "node:net";
import { HomelabError } from "../../errors.js";
import type { Secret } from "../../secret.js";
import type { ProcessRunner } from "../adapters/argo-bootstrap.js";
import type { LabInfo } from "../lab/lab.js";

// The public Image Factory (talos-config's IMAGE_FACTORY_HOST); kept here so this module loads nothing lazy.
const IMAGE_FACTORY_HOST = "factory.talos.dev";

/** How the pipeline reaches nodes, Cloudflare and helm: real hardware or the simulated lab. */
export interface Target {
  kind: "real" | "lab";
  /** The Talos API endpoint of a node (real: its address, port 50000; lab: 127.0.0.1:PORT). */
  talosEndpoint(node: { name: string; address: string }): string;
  /** Cloudflare API base URL and token (real: CLOUDFLARE_API_TOKEN or homelab.yaml's tunnel.apiToken). */
  cloudflare: { baseURL?: string; apiToken?: string };
  /** The helm runner. */
  helm: ProcessRunner;
  /** The maintenance-mode certificate fingerprint the target itself vouches for (the simulated lab only). */
  maintenanceFingerprint?(node: { name: string }): string | undefined;
  /** The Image Factory the schematic is registered with before the installer is used (absent: offline). */
  imageFactory?: { baseURL: string; fetch?: typeof fetch };
}

/** A target that reaches the simulated lab described by `info`. */
export function labTarget(info: LabInfo, helm: ProcessRunner): Target {
  const byName = new Map(info.nodes.map((n) => [n.name, n]));
  return {
    kind: "lab",
    talosEndpoint: (node) => byName.get(node.name)?.endpoint ?? node.address,
    maintenanceFingerprint: (node) => byName.get(node.name)?.fingerprint,
    cloudflare: { baseURL: info.cloudflare.url, apiToken: info.cloudflare.apiToken },
    helm,
    ...(info.imageFactory ? { imageFactory: { baseURL: info.imageFactory.url } } : {}),
  };
}

/** The variable that allows an API endpoint override (`CLOUDFLARE_BASE_URL`) in a real run. */
export const ALLOW_ENDPOINT_OVERRIDE = "HOMELAB_ALLOW_ENDPOINT_OVERRIDE";

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/**
 * The Cloudflare API base URL to use, or undefined for Cloudflare's own. `CLOUDFLARE_BASE_URL`
 * would send the API token elsewhere, so it is refused unless it is https (plain http only to
 * this machine's loopback, where the simulated lab listens) and {@link ALLOW_ENDPOINT_OVERRIDE}=1
 * allows it explicitly.
 * @throws HomelabError UNSAFE_ENDPOINT
 */
export function cloudflareBaseURL(env: Record<string, string | undefined>): string | undefined {
  const value = env.CLOUDFLARE_BASE_URL;
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HomelabError("UNSAFE_ENDPOINT", "CLOUDFLARE_BASE_URL is not a URL", {
      hint: "unset CLOUDFLARE_BASE_URL to talk to Cloudflare's API",
    });
  }
  const where = `${url.protocol}//${url.host}`;
  if (url.username !== "" || url.password !== "")
    throw new HomelabError(
      "UNSAFE_ENDPOINT",
      `CLOUDFLARE_BASE_URL (${where}) carries credentials in the URL`,
    );
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
    throw new HomelabError(
      "UNSAFE_ENDPOINT",
      `CLOUDFLARE_BASE_URL (${where}) is not https: the API token would travel in clear`,
      { hint: "use an https URL (plain http is allowed only to 127.0.0.1/localhost), or unset it" },
    );
  if (env[ALLOW_ENDPOINT_OVERRIDE] !== "1")
    throw new HomelabError(
      "UNSAFE_ENDPOINT",
      `CLOUDFLARE_BASE_URL is set: the Cloudflare API token would be sent to ${where} instead of Cloudflare`,
      {
        hint: `set ${ALLOW_ENDPOINT_OVERRIDE}=1 if you mean it (e.g. the lab's cloudflare.env), or unset CLOUDFLARE_BASE_URL`,
      },
    );
  return value;
}

/**
 * A target for real hardware: the Cloudflare token from `cloudflareApiToken` (the environment or
 * homelab.yaml's tunnel.apiToken), the endpoints from the environment.
 */
export function realTarget(
  env: Record<string, string | undefined>,
  helm: ProcessRunner,
  apiToken: Secret | undefined,
): Target {
  const cloudflare: Target["cloudflare"] = {};
  if (apiToken) cloudflare.apiToken = apiToken.reveal();
  const baseURL = cloudflareBaseURL(env);
  if (baseURL) cloudflare.baseURL = baseURL;
  return {
    kind: "real",
    talosEndpoint: (node) => node.address,
    cloudflare,
    helm,
    imageFactory: { baseURL: imageFactoryBaseURL(env) },
  };
}

/**
 * The Image Factory base URL: `HOMELAB_IMAGE_FACTORY_URL` (a self-hosted factory; https, or plain http to
 * this machine's loopback) or the public one.
 * @throws HomelabError UNSAFE_ENDPOINT
 */
export function imageFactoryBaseURL(env: Record<string, string | undefined>): string {
  const value = env.HOMELAB_IMAGE_FACTORY_URL;
  if (value === undefined || value === "") return `https://${IMAGE_FACTORY_HOST}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HomelabError("UNSAFE_ENDPOINT", "HOMELAB_IMAGE_FACTORY_URL is not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
    throw new HomelabError(
      "UNSAFE_ENDPOINT",
      `HOMELAB_IMAGE_FACTORY_URL (${url.protocol}//${url.host}) is not https (plain http only to 127.0.0.1/localhost)`,
    );
  return value;
}
