export { isSecret, Secret } from "../secret.js";
export type { TofuErrorCode, TofuErrorOptions } from "./errors.js";
export { isTofuError, TofuError } from "./errors.js";
export type {
  TofuAction,
  TofuChangeSummary,
  TofuDiagnostic,
  TofuEvent,
} from "./events.js";
export { formatDiagnostic, parseTofuLine } from "./events.js";
export type { TofuExec, TofuExecOptions, TofuExecResult } from "./exec.js";
export { spawnTofu } from "./exec.js";
export type {
  ProvidersSchema,
  TofuApplyOptions,
  TofuApplyResult,
  TofuCommandOptions,
  TofuFmtOptions,
  TofuFmtResult,
  TofuInitOptions,
  TofuOutput,
  TofuPlannedChange,
  TofuPlanOptions,
  TofuPlanResult,
  TofuRunner,
  TofuRunnerOptions,
  TofuRunResult,
  TofuStateOptions,
  TofuValidateResult,
  TofuVersion,
} from "./runner.js";
export { createTofuRunner } from "./runner.js";
export type {
  TfvarsInput,
  TfvarsInterface,
  TfvarsRouteAccess,
  TofuSecretInput,
} from "./tfvars.js";
export { renderTfvars, TFVARS_FILE_NAME, tofuSecretEnv } from "./tfvars.js";
