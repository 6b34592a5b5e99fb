export type { CfTunnelErrorOptions } from "./errors.js";
export { CfTunnelError, CfTunnelErrorCode, isCfTunnelError } from "./errors.js";
