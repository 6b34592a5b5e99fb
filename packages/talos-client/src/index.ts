export type { TalosClientErrorOptions } from "./errors.js";
export { isTalosClientError, TalosClientError, TalosClientErrorCode } from "./errors.js";
