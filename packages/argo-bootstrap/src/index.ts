export type { ArgoBootstrapErrorOptions } from "./errors.js";
export { ArgoBootstrapError, ArgoBootstrapErrorCode, isArgoBootstrapError } from "./errors.js";
