export type { ApplyPlanOptions, ApplyResult } from "./apply.js";
export { applyPlan } from "./apply.js";
export type { AuditConnector, AuditFinding, AuditOptions, AuditReport } from "./audit.js";
export { audit } from "./audit.js";
export type {
  AccessAppInfo,
  AccessPolicyInfo,
  CurrentState,
  DnsRecordInfo,
  ReadCurrentOptions,
} from "./current.js";
export {
  ACCESS_NAME_PREFIX,
  accessAppName,
  DNS_COMMENT_MARKER,
  readCurrent,
  tunnelTarget,
} from "./current.js";
export type { CfTunnelErrorOptions } from "./errors.js";
export { CfTunnelError, CfTunnelErrorCode, isCfTunnelError } from "./errors.js";
export type {
  AppWrite,
  DnsDelete,
  DnsWrite,
  Plan,
  PlanConflict,
  PlanOptions,
  PolicyCreate,
} from "./plan.js";
export { countChanges, plan, planToJson, policiesFor, renderPlan } from "./plan.js";
export type { ReconcileOptions, ReconcileResult } from "./reconcile.js";
export { reconcile } from "./reconcile.js";
export { CATCH_ALL_RULE, validateRoutes } from "./routes.js";
export type {
  EnsureTunnelOptions,
  EnsureTunnelResult,
  RotateTunnelTokenOptions,
  TunnelInfo,
} from "./tunnel.js";
export { ensureTunnel, rotateTunnelToken } from "./tunnel.js";
export type {
  AccessInput,
  AccessRequirements,
  ClientOptions,
  CommonOptions,
  DesiredRoute,
  DesiredState,
  IngressRule,
  OriginRequest,
  OriginRequestInput,
  ProgressEvent,
  RetryOptions,
  RouteInput,
} from "./types.js";
