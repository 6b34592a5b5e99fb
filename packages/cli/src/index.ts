export type {
  Clock,
  Context,
  CreateContextOptions,
  Exec,
  ExecOptions,
  ExecResult,
  TextSink,
} from "./context.js";
export { createContext } from "./context.js";
// ---- errors ----
export type { ConfigIssue, HomelabErrorOptions } from "./errors.js";
export { HomelabError, HomelabErrorCode, isHomelabError } from "./errors.js";
export type { HomelabConfig, LoadConfigOptions, LoadedConfig } from "./internal/config/load.js";
export { loadConfig, parseConfig } from "./internal/config/load.js";
export type { HomelabFile } from "./internal/config/schema.js";
export { homelabJsonSchema, homelabSchema } from "./internal/config/schema.js";
export type { MainOptions } from "./main.js";
export { main, version } from "./main.js";
export { checkNodeVersion, MIN_NODE_VERSION } from "./node-version.js";
export { isSecretReference, Secret } from "./secret.js";
