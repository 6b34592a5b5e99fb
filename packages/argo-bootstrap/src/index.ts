export type { AddAppOptions, AddAppResult } from "./add-app.js";
export { addApp } from "./add-app.js";
export type {
  ApplicationWaitStatus,
  ApplyRootApplicationOptions,
  ApplyRootApplicationResult,
  InitialAdminPassword,
  ReadInitialAdminPasswordOptions,
  WaitForApplicationOptions,
} from "./application.js";
export {
  applicationWaitStatus,
  applyRootApplication,
  readInitialAdminPassword,
  SecretText,
  waitForApplication,
} from "./application.js";
export type {
  ArgoCdPlan,
  BootstrapArgoCdOptions,
  BootstrapResult,
  ClusterSecret,
  InstallArgoCdOptions,
  InstallArgoCdResult,
  UpgradeArgoCdOptions,
  UpgradeArgoCdResult,
} from "./bootstrap.js";
export {
  bootstrapArgoCd,
  DEFAULT_CHART_SOURCE,
  installArgoCd,
  planArgoCd,
  upgradeArgoCd,
} from "./bootstrap.js";
export { ARGOCD_CHART_REPO_URL, ARGOCD_NAMESPACE, ARGOCD_RELEASE_NAME } from "./constants.js";
export type { ArgoBootstrapErrorOptions } from "./errors.js";
export { ArgoBootstrapError, ArgoBootstrapErrorCode, isArgoBootstrapError } from "./errors.js";
export type { GitOpsTree, ReadGitOpsTreeOptions } from "./gitops-tree.js";
export { readGitOpsTree } from "./gitops-tree.js";
export type { ChartSource, CreateHelmOptions, Helm, HelmRelease, HelmUpgradeInstallOptions } from "./helm.js";
export { createHelm } from "./helm.js";
export type { ProgressEvent, Sleep } from "./internal/util.js";
export type { CreateKubeClientOptions, KubeClient, KubeObject, KubeObjectRef } from "./kube.js";
export { createKubeClient } from "./kube.js";
export type {
  Application,
  AppProject,
  AppProjectOptions,
  GitApplicationOptions,
  HelmApplicationOptions,
  Kustomization,
  RootApplicationOptions,
} from "./manifests.js";
export {
  APPLICATION_HEALTH_KEY,
  APPLICATION_HEALTH_LUA,
  bootstrapYamlText,
  buildAppProject,
  buildGitApplication,
  buildHelmApplication,
  buildKustomization,
  buildRootApplication,
  parseManifests,
  toYaml,
  usesSyncWaves,
  withApplicationHealthCheck,
} from "./manifests.js";
export type {
  CreateProcessRunnerOptions,
  ProcessResult,
  ProcessRunner,
  ProcessRunOptions,
} from "./process-runner.js";
export { createProcessRunner } from "./process-runner.js";
export type { RolloutReport, RolloutStatus, WaitForRolloutsOptions } from "./rollout.js";
export { deploymentRolloutStatus, statefulSetRolloutStatus, waitForRollouts } from "./rollout.js";
export type {
  ManifestFile,
  ManifestInput,
  ManifestValidator,
  ValidateManifestsOptions,
  ValidationFinding,
  ValidationPolicyOptions,
} from "./validate.js";
export { assertValid, createManifestValidator, formatFindings, validateManifests } from "./validate.js";
