import type { RouteInput } from "../adapters/cf-tunnel.js";
import type { HomelabConfig } from "../config/load.js";

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** homelab.yaml tunnel routes as cf-tunnel RouteInput (undefined keys dropped). */
export function routesOf(config: HomelabConfig): RouteInput[] {
  return (config.tunnel?.routes ?? []).map((r) => {
    const route = defined({ ...r }) as RouteInput;
    if (r.access) route.access = defined({ ...r.access }) as NonNullable<RouteInput["access"]>;
    return route;
  });
}
