export type { TalosConfigErrorOptions } from "./errors.js";
export { isTalosConfigError, TalosConfigError, TalosConfigErrorCode } from "./errors.js";
