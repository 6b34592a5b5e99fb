import { inspect } from "node:util";
import { ARGOCD_NAMESPACE, FIELD_MANAGER, REFRESH_ANNOTATION } from "./constants.js";
import { ArgoBootstrapError, isArgoBootstrapError } from "./errors.js";
import {
  deepEqual,
  isRecord,
  type ProgressEvent,
  realSleep,
  rec,
  type Sleep,
  throwIfAborted,
} from "./internal/util.js";
import { isTransientKubeError, type KubeClient, type KubeObject } from "./kube.js";
import { resolveKube } from "./rollout.js";

type Obj = Record<string, unknown>;

/** Where an Application stands, judged by the rules `argocd app wait` uses. */
export interface ApplicationWaitStatus {
  /** Synced and Healthy, no pending operation, reconciled after the last sync, status for the current spec. */
  done: boolean;
  sync: string;
  health: string;
  revision: string | undefined;
  /** Why it is not done yet (empty when done). */
  waitingFor: string[];
  /** A final failure: a failed sync with no retry left, or an `*Error` condition. */
  failure?: string;
}

/**
 * Judges an Application object: done when sync is `Synced`, health is `Healthy`, no `operation` is
 * pending, `status.operationState` is absent or finished with `reconciledAt` not before `finishedAt`,
 * and `status.sync.comparedTo` matches the current spec.
 */
export function applicationWaitStatus(application: Obj): ApplicationWaitStatus {
  const spec = rec(application.spec);
  const status = rec(application.status);
  const sync = rec(status.sync);
  const health = rec(status.health);
  const operationState = isRecord(status.operationState) ? status.operationState : undefined;
  const syncStatus = typeof sync.status === "string" ? sync.status : "Unknown";
  const healthStatus = typeof health.status === "string" ? health.status : "Unknown";
  const waitingFor: string[] = [];
  if (syncStatus !== "Synced") waitingFor.push(`sync status ${syncStatus}`);
  if (healthStatus !== "Healthy") waitingFor.push(`health status ${healthStatus}`);
  if (application.operation !== undefined && application.operation !== null)
    waitingFor.push("a pending operation");
  // argo-cd v3.5.1 server/application/application.go Get: a refresh is done once the controller removed the
  // annotation (controller/appcontroller.go persistReconciliationStatus); the status until then is older
  if (rec(rec(application.metadata).annotations)[REFRESH_ANNOTATION] !== undefined)
    waitingFor.push("the requested refresh");
  if (operationState !== undefined) {
    const finishedAt =
      typeof operationState.finishedAt === "string" ? Date.parse(operationState.finishedAt) : undefined;
    const reconciledAt =
      typeof status.reconciledAt === "string" ? Date.parse(status.reconciledAt) : undefined;
    if (finishedAt === undefined)
      waitingFor.push(`the running operation (${String(operationState.phase ?? "Running")})`);
    else if (reconciledAt === undefined || reconciledAt < finishedAt)
      waitingFor.push("a reconcile after the last sync");
  }
  const compared = rec(sync.comparedTo);
  const specSource = spec.sources ?? spec.source;
  const comparedSource = compared.sources ?? compared.source;
  if (!deepEqual(specSource, comparedSource)) waitingFor.push("a comparison against the current spec");

  let failure: string | undefined;
  const conditions = Array.isArray(status.conditions) ? status.conditions.map(rec) : [];
  // `argocd app wait` ignores conditions; a ComparisonError is often transient (repo-server restarting,
  // a CRD not served yet) so it is only waited on. A spec error will not fix itself.
  const comparisonError = conditions.find((c) => c.type === "ComparisonError");
  if (comparisonError !== undefined)
    waitingFor.push(
      `a comparison without errors (ComparisonError: ${String(comparisonError.message ?? "")})`,
    );
  const errorCondition = conditions.find((c) => c.type === "InvalidSpecError");
  if (errorCondition !== undefined) {
    failure = `${String(errorCondition.type)}: ${String(errorCondition.message ?? "")}`;
  } else if (
    operationState !== undefined &&
    (operationState.phase === "Failed" || operationState.phase === "Error")
  ) {
    const retry = rec(rec(spec.syncPolicy).retry);
    const limit = typeof retry.limit === "number" ? retry.limit : 0;
    const count = typeof operationState.retryCount === "number" ? operationState.retryCount : 0;
    if (limit >= 0 && count >= limit) {
      failure = `sync ${String(operationState.phase)}: ${String(operationState.message ?? "")}`;
    }
  }
  const revision = typeof sync.revision === "string" ? sync.revision : undefined;
  return {
    done: waitingFor.length === 0,
    sync: syncStatus,
    health: healthStatus,
    revision,
    waitingFor,
    ...(failure === undefined ? {} : { failure }),
  };
}

/** Options for {@link applyRootApplication}. */
export interface ApplyRootApplicationOptions {
  kubeconfig?: string;
  kube?: KubeClient;
  /** The root Application (see {@link buildRootApplication}). */
  application: KubeObject;
  /** Field manager for server-side apply (default `argo-bootstrap`). */
  fieldManager?: string;
  /** How long to wait for the Application CRD to be served (default 2 minutes). */
  crdTimeoutMs?: number;
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/** What {@link applyRootApplication} did. */
export interface ApplyRootApplicationResult {
  name: string;
  namespace: string;
  /** False when the apply changed nothing (same spec, labels and annotations as before). */
  changed: boolean;
  created: boolean;
}

/**
 * Server-side applies the root Application once the Application CRD is established, with the refresh
 * annotation `argocd.argoproj.io/refresh: normal` so Argo CD compares it with Git at once.
 *
 * @throws ArgoBootstrapError KUBE_API_ERROR, SYNC_TIMEOUT (CRD never established), ABORTED
 */
export async function applyRootApplication(
  options: ApplyRootApplicationOptions,
): Promise<ApplyRootApplicationResult> {
  const kube = resolveKube(options);
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const pollMs = options.pollIntervalMs ?? 2_000;
  const app = options.application;
  const namespace = app.metadata.namespace ?? ARGOCD_NAMESPACE;
  const deadline = now() + (options.crdTimeoutMs ?? 120_000);
  for (;;) {
    throwIfAborted(options.signal);
    const crd = await retrying(
      () =>
        kube.get({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          name: "applications.argoproj.io",
        }),
      options,
    );
    const conditions = Array.isArray(rec(crd?.status).conditions)
      ? (rec(crd?.status).conditions as unknown[])
      : [];
    if (conditions.some((c) => rec(c).type === "Established" && rec(c).status === "True")) break;
    if (now() >= deadline) {
      throw new ArgoBootstrapError(
        "SYNC_TIMEOUT",
        "CRD applications.argoproj.io is not established: was Argo CD installed with its CRDs (crds.install)?",
        { details: { crd: "applications.argoproj.io" } },
      );
    }
    options.onProgress?.({
      type: "crd-wait",
      message: "waiting for CRD applications.argoproj.io to be established",
    });
    await sleep(pollMs, options.signal);
  }
  const ref = { apiVersion: app.apiVersion, kind: app.kind, name: app.metadata.name, namespace };
  const before = await retrying(() => kube.get(ref), options);
  // with a refresh request, as `argocd app get --refresh` makes: an unchanged root is compared with Git now,
  // not at the next reconciliation (3 minutes by default)
  const metadata = { ...app.metadata, namespace } as KubeObject["metadata"] & { annotations?: Obj };
  metadata.annotations = { ...metadata.annotations, [REFRESH_ANNOTATION]: "normal" };
  const object: KubeObject = { ...app, metadata };
  const after = await retrying(
    () => kube.apply(object, { fieldManager: options.fieldManager ?? FIELD_MANAGER }),
    options,
  );
  // The Application CRD has no status subresource, so the controller's status writes move the generation
  // too: compare what the apply can change (spec, labels, annotations but the refresh request).
  const applied = (o: Obj | undefined) => {
    const metadata = rec(o?.metadata);
    const { [REFRESH_ANNOTATION]: _refresh, ...annotations } = rec(metadata.annotations);
    return [o?.spec, metadata.labels ?? {}, annotations];
  };
  const changed = before === undefined || !deepEqual(applied(before), applied(after));
  options.onProgress?.({
    type: "root-app-applied",
    message:
      before === undefined
        ? `created Application ${namespace}/${app.metadata.name}`
        : changed
          ? `updated Application ${namespace}/${app.metadata.name}`
          : `Application ${namespace}/${app.metadata.name} unchanged`,
    name: app.metadata.name,
    namespace,
    changed,
  });
  return { name: app.metadata.name, namespace, changed, created: before === undefined };
}

/** Options for {@link waitForApplication}. */
export interface WaitForApplicationOptions {
  kubeconfig?: string;
  kube?: KubeClient;
  name: string;
  namespace?: string;
  /** Overall limit (default 10 minutes). */
  timeoutMs?: number;
  /** How long Degraded may last before it is an error (default 30 s; 0 fails at once). */
  degradedGraceMs?: number;
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * Waits until the Application is Synced and Healthy by the `argocd app wait` rules
 * ({@link applicationWaitStatus}).
 *
 * @throws ArgoBootstrapError SYNC_TIMEOUT, SYNC_FAILED, APP_DEGRADED, NOT_FOUND (only at the deadline), KUBE_API_ERROR, ABORTED
 */
export async function waitForApplication(options: WaitForApplicationOptions): Promise<ApplicationWaitStatus> {
  const kube = resolveKube(options);
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const pollMs = options.pollIntervalMs ?? 2_000;
  const graceMs = options.degradedGraceMs ?? 30_000;
  const deadline = now() + timeoutMs;
  const label = `Application ${namespace}/${options.name}`;
  let degradedSince: number | undefined;
  let last: ApplicationWaitStatus | undefined;
  let lastMessage = "";
  for (;;) {
    throwIfAborted(options.signal);
    let app: Obj | undefined;
    try {
      app = await kube.get({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        namespace,
        name: options.name,
      });
    } catch (error) {
      if (!(isArgoBootstrapError(error) && isTransientKubeError(error))) throw error;
      options.onProgress?.({ type: "api-error", message: `retrying after: ${error.rawMessage}` });
    }
    if (app !== undefined) {
      last = applicationWaitStatus(app);
      const message = last.done
        ? `${label} is Synced and Healthy`
        : `${label}: ${last.sync}/${last.health}, waiting for ${last.waitingFor.join(", ")}`;
      if (message !== lastMessage) {
        options.onProgress?.({
          type: last.done ? "app-ready" : "app-progress",
          message,
          name: options.name,
          sync: last.sync,
          health: last.health,
        });
        lastMessage = message;
      }
      if (last.done) return last;
      if (last.failure !== undefined) {
        throw new ArgoBootstrapError(
          "SYNC_FAILED",
          `${label} failed: ${last.failure}. Inspect with: kubectl -n ${namespace} describe application ${options.name}`,
          {
            details: { name: options.name, sync: last.sync, health: last.health, failure: last.failure },
          },
        );
      }
      if (last.health === "Degraded") {
        degradedSince ??= now();
        if (now() - degradedSince >= graceMs) {
          const healthMessage = String(rec(rec(rec(app.status).health)).message ?? "");
          throw new ArgoBootstrapError(
            "APP_DEGRADED",
            `${label} is Degraded${healthMessage === "" ? "" : `: ${healthMessage}`}. Inspect with: kubectl -n ${namespace} get application ${options.name} -o yaml`,
            { details: { name: options.name, sync: last.sync, health: last.health } },
          );
        }
      } else {
        degradedSince = undefined;
      }
    }
    if (now() >= deadline) {
      if (last === undefined) {
        throw new ArgoBootstrapError("NOT_FOUND", `${label} does not exist`, {
          details: { name: options.name },
        });
      }
      throw new ArgoBootstrapError(
        "SYNC_TIMEOUT",
        `${label} not ready after ${Math.round(timeoutMs / 1000)}s: ${last.sync}/${last.health}, waiting for ${last.waitingFor.join(", ")}`,
        {
          details: { name: options.name, sync: last.sync, health: last.health, waitingFor: last.waitingFor },
        },
      );
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - now())), options.signal);
  }
}

/** A secret string that never shows in `toString`, `toJSON` or `util.inspect`. */
export class SecretText {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    Object.defineProperty(this, inspect.custom, { value: () => "SecretText [redacted]", enumerable: false });
  }
  /** The secret itself. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** The result of {@link readInitialAdminPassword}. */
export type InitialAdminPassword = { found: true; password: SecretText } | { found: false; reason: string };

/** Options for {@link readInitialAdminPassword}. */
export interface ReadInitialAdminPasswordOptions {
  kubeconfig?: string;
  kube?: KubeClient;
  namespace?: string;
  /** How long a missing secret counts as "not yet" (default 0: look once). */
  waitMs?: number;
  pollIntervalMs?: number;
  sleep?: Sleep;
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * Reads `argocd-initial-admin-secret` (key `password`). When it does not exist the result says so:
 * the password may be managed by values (`configs.secret.argocdServerAdminPassword`) or was deleted.
 *
 * @throws ArgoBootstrapError KUBE_API_ERROR, ABORTED
 */
export async function readInitialAdminPassword(
  options: ReadInitialAdminPasswordOptions,
): Promise<InitialAdminPassword> {
  const kube = resolveKube(options);
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const namespace = options.namespace ?? ARGOCD_NAMESPACE;
  const deadline = now() + (options.waitMs ?? 0);
  for (;;) {
    throwIfAborted(options.signal);
    const secret = await retrying(
      () => kube.get({ apiVersion: "v1", kind: "Secret", namespace, name: "argocd-initial-admin-secret" }),
      options,
    );
    const encoded = rec(secret?.data).password;
    if (typeof encoded === "string") {
      return { found: true, password: new SecretText(Buffer.from(encoded, "base64").toString("utf8")) };
    }
    // argocd-server writes the hash into argocd-secret and the initial secret together; a hash
    // without the initial secret means the password came from values or the secret was deleted.
    const argocdSecret =
      secret === undefined
        ? await retrying(
            () => kube.get({ apiVersion: "v1", kind: "Secret", namespace, name: "argocd-secret" }),
            options,
          )
        : undefined;
    const hasHash = typeof rec(argocdSecret?.data)["admin.password"] === "string";
    if (now() >= deadline || hasHash) {
      return {
        found: false,
        reason:
          secret === undefined
            ? `Secret ${namespace}/argocd-initial-admin-secret does not exist: the admin password is set through values (configs.secret.argocdServerAdminPassword), admin is disabled, or the secret was deleted after a password change`
            : `Secret ${namespace}/argocd-initial-admin-secret has no password key`,
      };
    }
    await sleep(options.pollIntervalMs ?? 2_000, options.signal);
  }
}

async function retrying<T>(
  call: () => Promise<T>,
  options: { sleep?: Sleep; signal?: AbortSignal; onProgress?: (event: ProgressEvent) => void },
  attempts = 4,
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (
        attempt >= attempts ||
        !(isArgoBootstrapError(error) && error.code === "KUBE_API_ERROR" && isTransientKubeError(error))
      ) {
        throw error;
      }
      options.onProgress?.({ type: "api-error", message: `retrying after: ${error.rawMessage}` });
      await sleep(200 * attempt, options.signal);
    }
  }
}
