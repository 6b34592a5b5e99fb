/**
 * The argo-cd Helm chart version this package installs by default (chart 10.4.0 ships Argo CD v3.5.1).
 * Check it before a release with `helm search repo argo/argo-cd --versions`.
 */
export const ARGOCD_CHART_VERSION = "10.4.0";

/** The namespace Argo CD is installed into and its Applications live in. */
export const ARGOCD_NAMESPACE = "argocd";

/**
 * The Helm release name. Forced to `argocd` so the chart's object names are `argocd-server`,
 * `argocd-repo-server` and `argocd-application-controller`.
 */
export const ARGOCD_RELEASE_NAME = "argocd";

/** The official argo-helm chart repository. */
export const ARGOCD_CHART_REPO_URL = "https://argoproj.github.io/argo-helm";

/** The OCI location the argo-helm charts are also published to. */
export const ARGOCD_CHART_OCI_REF = "oci://ghcr.io/argoproj/argo-helm/argo-cd";

/** The field manager this package uses for server-side apply. */
export const FIELD_MANAGER = "argo-bootstrap";

/** The in-cluster API server address Argo CD uses for its own cluster. */
export const IN_CLUSTER_SERVER = "https://kubernetes.default.svc";

/** The annotation that orders resources inside one sync. */
export const SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave";

/** The finalizer that makes deleting an Application delete what it deployed. */
export const RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io";

/**
 * Asks Argo CD's controller to compare an Application with Git now (value `normal` or `hard`); the
 * controller removes it once the status is refreshed (argo-cd util/argo/argo.go RefreshApp).
 */
export const REFRESH_ANNOTATION = "argocd.argoproj.io/refresh";
