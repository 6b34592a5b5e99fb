export type { MainOptions } from "./main.js";
export { main, version } from "./main.js";
