import { isRecord } from "../internal/util.js";

/**
 * What each pinned chart renders that an AppProject must permit: the namespace of every namespaced
 * object (`release` = the Application's destination namespace) and every cluster-scoped kind.
 * Listed from the charts' sources at the pinned tags (no helm here to render them):
 *   cert-manager v1.18.2            cert-manager/cert-manager deploy/charts/cert-manager/templates/*.yaml, values.yaml
 *   traefik 39.0.5                  traefik/traefik-helm-chart v39.0.5 traefik/templates/**, traefik/crds/
 *   external-dns 1.19.0             kubernetes-sigs/external-dns external-dns-helm-chart-1.19.0 charts/external-dns/templates/*.yaml
 *   kube-prometheus-stack 77.12.0   prometheus-community/helm-charts kube-prometheus-stack-77.12.0
 *                                   charts/kube-prometheus-stack/templates/**, Chart.yaml dependencies
 * `serviceType` is a Service's spec.type (a LoadBalancer needs a load balancer implementation).
 * `when` makes an entry depend on a value (dotted path, with the chart's default); `namespace.value`
 * takes the namespace from a value with the chart's default.
 */
export interface ChartInventoryObject {
  group: string;
  kind: string;
  /** `release` = the Application's destination namespace; absent = cluster-scoped. */
  namespace?: string | { value: string; default: string };
  serviceType?: { value: string; default: string };
  when?: Record<string, unknown>;
  from: string;
}

/** One pinned chart and what it renders. */
export interface ChartInventoryEntry {
  chart: string;
  version: string;
  objects: ChartInventoryObject[];
}

/** The pinned charts of cluster/, listed from their sources (see above). */
export const CHART_INVENTORY: readonly ChartInventoryEntry[] = [
  {
    chart: "cert-manager",
    version: "v1.18.2",
    objects: [
      {
        group: "apps",
        kind: "Deployment",
        namespace: "release",
        from: "deployment.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "release",
        from: "service.yaml",
      },
      {
        group: "",
        kind: "ServiceAccount",
        namespace: "release",
        from: "serviceaccount.yaml",
      },
      {
        group: "",
        kind: "ConfigMap",
        namespace: "release",
        from: "webhook-config.yaml",
      },
      {
        group: "batch",
        kind: "Job",
        namespace: "release",
        from: "startupapicheck-job.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "Role",
        namespace: "release",
        from: "webhook-rbac.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "Role",
        namespace: {
          value: "global.leaderElection.namespace",
          default: "kube-system",
        },
        from: "rbac.yaml, cainjector-rbac.yaml (leader election)",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "RoleBinding",
        namespace: {
          value: "global.leaderElection.namespace",
          default: "kube-system",
        },
        from: "rbac.yaml, cainjector-rbac.yaml (leader election)",
      },
      {
        group: "policy",
        kind: "PodDisruptionBudget",
        namespace: "release",
        when: {
          "podDisruptionBudget.enabled": true,
        },
        from: "poddisruptionbudget.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        from: "rbac.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        from: "rbac.yaml",
      },
      {
        group: "admissionregistration.k8s.io",
        kind: "MutatingWebhookConfiguration",
        from: "webhook-mutating-webhook.yaml",
      },
      {
        group: "admissionregistration.k8s.io",
        kind: "ValidatingWebhookConfiguration",
        from: "webhook-validating-webhook.yaml",
      },
      {
        group: "apiextensions.k8s.io",
        kind: "CustomResourceDefinition",
        when: {
          "crds.enabled": true,
        },
        from: "crd-*.yaml (generated into templates at release)",
      },
      {
        group: "monitoring.coreos.com",
        kind: "ServiceMonitor",
        namespace: "release",
        when: {
          "prometheus.servicemonitor.enabled": true,
        },
        from: "servicemonitor.yaml",
      },
    ],
  },
  {
    chart: "traefik",
    version: "39.0.5",
    objects: [
      {
        group: "apps",
        kind: "Deployment",
        namespace: "release",
        from: "deployment.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "release",
        serviceType: {
          value: "service.type",
          default: "LoadBalancer",
        },
        from: "service.yaml, _service.tpl",
      },
      {
        group: "",
        kind: "ServiceAccount",
        namespace: "release",
        from: "rbac/serviceaccount.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        from: "rbac/clusterrole.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        from: "rbac/clusterrolebinding.yaml",
      },
      {
        group: "networking.k8s.io",
        kind: "IngressClass",
        when: {
          "ingressClass.enabled": true,
        },
        from: "ingressclass.yaml",
      },
      {
        group: "apiextensions.k8s.io",
        kind: "CustomResourceDefinition",
        from: "crds/",
      },
      {
        group: "gateway.networking.k8s.io",
        kind: "GatewayClass",
        when: {
          "providers.kubernetesGateway.enabled": true,
        },
        from: "gatewayclass.yaml",
      },
    ],
  },
  {
    chart: "external-dns",
    version: "1.19.0",
    objects: [
      {
        group: "apps",
        kind: "Deployment",
        namespace: "release",
        from: "deployment.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "release",
        from: "service.yaml",
      },
      {
        group: "",
        kind: "ServiceAccount",
        namespace: "release",
        from: "serviceaccount.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        when: {
          namespaced: false,
        },
        from: "clusterrole.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        when: {
          namespaced: false,
        },
        from: "clusterrolebinding.yaml",
      },
    ],
  },
  {
    chart: "kube-prometheus-stack",
    version: "77.12.0",
    objects: [
      {
        group: "apps",
        kind: "Deployment",
        namespace: "release",
        from: "prometheus-operator/deployment.yaml",
      },
      {
        group: "apps",
        kind: "DaemonSet",
        namespace: "release",
        when: {
          "nodeExporter.enabled": true,
        },
        from: "prometheus-node-exporter dependency",
      },
      {
        group: "monitoring.coreos.com",
        kind: "Prometheus",
        namespace: "release",
        from: "prometheus/prometheus.yaml",
      },
      {
        group: "monitoring.coreos.com",
        kind: "Alertmanager",
        namespace: "release",
        from: "alertmanager/alertmanager.yaml",
      },
      {
        group: "monitoring.coreos.com",
        kind: "PrometheusRule",
        namespace: "release",
        from: "prometheus/rules-1.14/",
      },
      {
        group: "monitoring.coreos.com",
        kind: "ServiceMonitor",
        namespace: "release",
        from: "exporters/*/servicemonitor.yaml",
      },
      {
        group: "",
        kind: "Secret",
        namespace: "release",
        from: "alertmanager/secret.yaml",
      },
      {
        group: "batch",
        kind: "Job",
        namespace: "release",
        from: "prometheus-operator/admission-webhooks/job-patch/",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "Role",
        namespace: "release",
        from: "prometheus-operator/admission-webhooks/job-patch/role.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "kube-system",
        when: {
          "coreDns.enabled": true,
        },
        from: "exporters/core-dns/service.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "kube-system",
        when: {
          "kubeControllerManager.enabled": true,
        },
        from: "exporters/kube-controller-manager/service.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "kube-system",
        when: {
          "kubeEtcd.enabled": true,
        },
        from: "exporters/kube-etcd/service.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "kube-system",
        when: {
          "kubeScheduler.enabled": true,
        },
        from: "exporters/kube-scheduler/service.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "kube-system",
        when: {
          "kubeProxy.enabled": true,
        },
        from: "exporters/kube-proxy/service.yaml",
      },
      {
        group: "",
        kind: "Service",
        namespace: "kube-system",
        when: {
          "kubeDns.enabled": true,
        },
        from: "exporters/kube-dns/service.yaml",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        from: "prometheus-operator/clusterrole.yaml; grafana and kube-state-metrics dependencies",
      },
      {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        from: "prometheus-operator/clusterrolebinding.yaml",
      },
      {
        group: "admissionregistration.k8s.io",
        kind: "MutatingWebhookConfiguration",
        from: "prometheus-operator/admission-webhooks/mutatingWebhookConfiguration.yaml",
      },
      {
        group: "admissionregistration.k8s.io",
        kind: "ValidatingWebhookConfiguration",
        from: "prometheus-operator/admission-webhooks/validatingWebhookConfiguration.yaml",
      },
      {
        group: "apiextensions.k8s.io",
        kind: "CustomResourceDefinition",
        when: {
          "crds.enabled": true,
        },
        from: "charts/crds dependency",
      },
    ],
  },
];

/** Each chart's defaults for the `when` paths (from its values.yaml at the pinned tag). */
export const CHART_DEFAULTS: Readonly<Record<string, Record<string, unknown>>> = {
  "cert-manager": {
    "crds.enabled": false,
    "podDisruptionBudget.enabled": false,
    "prometheus.servicemonitor.enabled": false,
  },
  traefik: {
    "ingressClass.enabled": true,
    "providers.kubernetesGateway.enabled": false,
  },
  "external-dns": {
    namespaced: false,
  },
  "kube-prometheus-stack": {
    "nodeExporter.enabled": true,
    "crds.enabled": true,
    "coreDns.enabled": true,
    "kubeControllerManager.enabled": true,
    "kubeEtcd.enabled": true,
    "kubeScheduler.enabled": true,
    "kubeProxy.enabled": true,
    "kubeDns.enabled": false,
  },
};

function valueAt(values: unknown, path: string): unknown {
  let current = values;
  for (const part of path.split(".")) current = isRecord(current) ? current[part] : undefined;
  return current;
}

/** A rendered object's identity: namespace set for namespaced objects, `serviceType` for Services. */
export interface RenderedObject {
  group: string;
  kind: string;
  namespace?: string;
  serviceType?: string;
}

/** What a pinned chart renders with these values; undefined for a chart the inventory does not know. */
export function inventoryRender(
  chart: string,
  version: string,
  values: unknown,
  releaseNamespace: string,
): RenderedObject[] | undefined {
  const entry = CHART_INVENTORY.find((c) => c.chart === chart && c.version === version);
  if (entry === undefined) return undefined;
  const defaults = CHART_DEFAULTS[chart] ?? {};
  const pick = (path: string, fallback: unknown): unknown => valueAt(values, path) ?? fallback;
  return entry.objects
    .filter((o) => Object.entries(o.when ?? {}).every(([path, want]) => pick(path, defaults[path]) === want))
    .map((o) => {
      const namespace =
        o.namespace === undefined
          ? undefined
          : o.namespace === "release"
            ? releaseNamespace
            : typeof o.namespace === "string"
              ? o.namespace
              : String(pick(o.namespace.value, o.namespace.default));
      return {
        group: o.group,
        kind: o.kind,
        ...(namespace === undefined ? {} : { namespace }),
        ...(o.serviceType === undefined
          ? {}
          : { serviceType: String(pick(o.serviceType.value, o.serviceType.default)) }),
      };
    });
}

const GROUP_VERSIONS: Record<string, string> = {
  "": "v1",
  apps: "apps/v1",
  batch: "batch/v1",
  policy: "policy/v1",
  "rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
  "admissionregistration.k8s.io": "admissionregistration.k8s.io/v1",
  "apiextensions.k8s.io": "apiextensions.k8s.io/v1",
  "networking.k8s.io": "networking.k8s.io/v1",
  "monitoring.coreos.com": "monitoring.coreos.com/v1",
  "gateway.networking.k8s.io": "gateway.networking.k8s.io/v1",
};

/**
 * Stand-in objects for a known chart (one per inventory entry, named after the release): Services carry
 * their type, Deployments the chart's `env` value (so a Secret they read is checked). Unknown charts
 * render nothing.
 */
export function chartObjects(
  chart: string,
  version: string,
  values: unknown,
  releaseNamespace: string,
  releaseName: string,
): Record<string, unknown>[] {
  const rendered = inventoryRender(chart, version, values, releaseNamespace) ?? [];
  return rendered.map((o, index) => {
    const metadata: Record<string, unknown> = {
      name: `${releaseName}-${o.kind.toLowerCase()}-${index}`,
      labels: { "app.kubernetes.io/instance": releaseName },
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
    };
    const object: Record<string, unknown> = {
      apiVersion: GROUP_VERSIONS[o.group] ?? `${o.group}/v1`,
      kind: o.kind,
      metadata,
    };
    if (o.kind === "Service") object.spec = { type: o.serviceType ?? "ClusterIP", ports: [{ port: 80 }] };
    if (o.kind === "Deployment") {
      const env = valueAt(values, "env");
      object.spec = {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/instance": releaseName } },
        template: {
          metadata: { labels: { "app.kubernetes.io/instance": releaseName } },
          spec: {
            containers: [
              { name: chart, image: `${chart}:${version}`, ...(Array.isArray(env) ? { env } : {}) },
            ],
          },
        },
      };
    }
    return object;
  });
}
