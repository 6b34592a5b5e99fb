import { methodPath } from "../../internal/rpc.js";
import { cosiRoutes } from "./handlers/cosi.js";
import { credentialRoutes } from "./handlers/credentials.js";
import { etcdRoutes } from "./handlers/etcd.js";
import { lifecycleRoutes } from "./handlers/lifecycle.js";
import { logRoutes } from "./handlers/logs.js";
import { machineRoutes } from "./handlers/machine.js";
import { platformRoutes } from "./handlers/platform.js";
import type { Route } from "./route.js";

/**
 * The route table: gRPC path (`/machine.MachineService/Version`) → route. A method without an entry
 * answers UNIMPLEMENTED. Every route runs behind the same middleware chain (chain.ts).
 */
export const ROUTES: ReadonlyMap<string, Route> = new Map(
  [
    ...machineRoutes,
    ...lifecycleRoutes,
    ...etcdRoutes,
    ...logRoutes,
    ...credentialRoutes,
    ...platformRoutes,
    ...cosiRoutes,
  ].map((route) => [methodPath(route.method), route]),
);
