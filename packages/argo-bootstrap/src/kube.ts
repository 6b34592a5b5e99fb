import type { KubernetesObjectApi } from "@kubernetes/client-node";
import { ArgoBootstrapError, isArgoBootstrapError } from "./errors.js";
import { isRecord } from "./internal/util.js";

/** A plain Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** Names one object. */
export interface KubeObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * The small slice of the Kubernetes API this package needs. {@link createKubeClient} builds one on
 * `@kubernetes/client-node`; tests or other callers may pass their own.
 */
export interface KubeClient {
  /** Reads one object; undefined when it (or its kind) does not exist. */
  get(ref: KubeObjectRef, options?: { signal?: AbortSignal }): Promise<Record<string, unknown> | undefined>;
  /** Server-side apply with the given field manager (conflicts forced). */
  apply(
    object: KubeObject,
    options: { fieldManager: string; signal?: AbortSignal },
  ): Promise<Record<string, unknown>>;
}

/** Options for {@link createKubeClient}. */
export interface CreateKubeClientOptions {
  /** kubeconfig YAML text (never a path). */
  kubeconfig: string;
  /** Context to use instead of the kubeconfig's current context. */
  context?: string;
}

/**
 * Builds a {@link KubeClient} from kubeconfig text.
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when the kubeconfig cannot be read; KUBE_API_ERROR from calls.
 */
export function createKubeClient(options: CreateKubeClientOptions): KubeClient {
  let client: Promise<KubernetesObjectApi> | undefined;
  // client-node is loaded on first use, so the builders and the validator work without it.
  const connect = (): Promise<KubernetesObjectApi> => {
    client ??= import("@kubernetes/client-node").then(({ KubeConfig, KubernetesObjectApi: ObjectApi }) => {
      const kc = new KubeConfig();
      try {
        kc.loadFromString(options.kubeconfig);
        if (options.context !== undefined) kc.setCurrentContext(options.context);
      } catch (error) {
        throw new ArgoBootstrapError("INVALID_OPTIONS", "the kubeconfig could not be parsed", {
          cause: error,
        });
      }
      if (kc.getCurrentCluster() === null) {
        throw new ArgoBootstrapError("INVALID_OPTIONS", "the kubeconfig has no current cluster");
      }
      return ObjectApi.makeApiClient(kc);
    });
    return client;
  };

  return {
    async get(ref) {
      try {
        const spec = {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) },
        };
        const result: unknown = await (await connect()).read(spec);
        return toPlain(result);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw kubeError(error, `reading ${describeRef(ref)}`);
      }
    },
    async apply(object, { fieldManager }) {
      const objects = await connect();
      try {
        const result: unknown = await objects.patch(
          object,
          undefined,
          undefined,
          fieldManager,
          true,
          "application/apply-patch+yaml",
        );
        return toPlain(result);
      } catch (error) {
        if (isUnknownKind(error)) {
          throw new ArgoBootstrapError(
            "KUBE_API_ERROR",
            `the cluster does not serve ${object.kind} (${object.apiVersion}): are its CRDs installed?`,
            { cause: error, details: { kind: object.kind, apiVersion: object.apiVersion } },
          );
        }
        throw kubeError(
          error,
          `applying ${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`,
        );
      }
    },
  };
}

/** True for an error that a retry may fix (5xx, 429, connection trouble). */
export function isTransientKubeError(error: unknown): boolean {
  const status = (error as { details?: { status?: unknown } }).details?.status;
  if (typeof status === "number") return status >= 500 || status === 429;
  return true;
}

function describeRef(ref: KubeObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? "" : `${ref.namespace}/`}${ref.name}`;
}

interface ApiExceptionLike {
  code: number;
  body: unknown;
}

function isApiException(error: unknown): error is Error & ApiExceptionLike {
  return (
    error instanceof Error && typeof (error as Partial<ApiExceptionLike>).code === "number" && "body" in error
  );
}

function isNotFound(error: unknown): boolean {
  if (isApiException(error) && error.code === 404) return true;
  return isUnknownKind(error);
}

function isUnknownKind(error: unknown): boolean {
  return error instanceof Error && /Unrecognized API version and kind/i.test(error.message);
}

function kubeError(error: unknown, what: string): ArgoBootstrapError {
  if (isArgoBootstrapError(error)) return error;
  if (isApiException(error)) {
    const reason = statusMessage(error.body);
    return new ArgoBootstrapError(
      "KUBE_API_ERROR",
      `Kubernetes API error while ${what}: HTTP ${error.code}${reason === "" ? "" : ` (${reason})`}`,
      { cause: error, details: { status: error.code } },
    );
  }
  return new ArgoBootstrapError(
    "KUBE_API_ERROR",
    `Kubernetes API error while ${what}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 200);
    }
  }
  return isRecord(parsed) && typeof parsed.message === "string" ? parsed.message : "";
}

function toPlain(value: unknown): Record<string, unknown> {
  // client-node turns known kinds into class instances with Date fields; a JSON round trip gives
  // plain objects with the same field names as the API.
  const plain: unknown = JSON.parse(JSON.stringify(value ?? {}));
  return isRecord(plain) ? plain : {};
}
