import { describe, it } from "vitest";
import { type CfTunnelError, type RouteInput, validateRoutes } from "../src/index.js";

const zone = "example.com";
const ok: RouteInput = {
  hostname: "app.example.com",
  service: "http://app.apps.svc.cluster.local:80",
  public: true,
};

function errorOf(routes: RouteInput[]): CfTunnelError {
  try {
    validateRoutes({ zone, routes });
  } catch (error) {
    return error as CfTunnelError;
  }
  throw new Error("expected validateRoutes to throw");
}

describe("validateRoutes", () => {
  it("orders exact hostnames before wildcards and appends the catch-all when routes are valid", ({
    expect,
  }) => {
    const state = validateRoutes({
      zone,
      routes: [
        { hostname: "*.example.com", service: "https://traefik.kube-system:443", public: true },
        { hostname: "b.example.com", service: "http://b:80", public: true },
        { hostname: "*.lab.example.com", service: "http://lab:80", public: true },
        { hostname: "A.Example.com.", service: "http://a:8080", access: { emails: ["me@example.org"] } },
      ],
    });
    expect(state.ingress.map((r) => r.hostname ?? "<catch-all>")).toEqual([
      "a.example.com",
      "b.example.com",
      "*.lab.example.com",
      "*.example.com",
      "<catch-all>",
    ]);
    expect(state.ingress.at(-1)).toEqual({ service: "http_status:404" });
    expect(state.routes[0]?.access).toEqual({
      emails: ["me@example.org"],
      emailDomains: [],
      groups: [],
      serviceTokens: [],
      sessionDuration: "24h",
    });
  });

  it("converts duration strings to whole seconds when originRequest uses them", ({ expect }) => {
    const state = validateRoutes({
      zone,
      routes: [
        {
          ...ok,
          originRequest: {
            connectTimeout: "30s",
            keepAliveTimeout: "1m30s",
            tlsTimeout: 10,
            noTLSVerify: true,
            httpHostHeader: "app",
          },
        },
      ],
    });
    expect(state.ingress[0]?.originRequest).toEqual({
      connectTimeout: 30,
      keepAliveTimeout: 90,
      tlsTimeout: 10,
      noTLSVerify: true,
      httpHostHeader: "app",
    });
  });

  it.for([
    ["a port in the hostname", { ...ok, hostname: "app.example.com:443" }, "routes[0].hostname", /port/],
    ["two wildcards", { ...ok, hostname: "*.*.example.com" }, "routes[0].hostname", /wildcard/],
    ["a wildcard inside", { ...ok, hostname: "a*.example.com" }, "routes[0].hostname", /wildcard/],
    ["a bare *", { ...ok, hostname: "*" }, "routes[0].hostname", /every hostname/],
    [
      "a hostname outside the zone",
      { ...ok, hostname: "app.example.org" },
      "routes[0].hostname",
      /outside the zone/,
    ],
    ["a path in the service", { ...ok, service: "http://app:80/api" }, "routes[0].service", /different path/],
    [
      "a trailing slash in the service",
      { ...ok, service: "http://app:80/" },
      "routes[0].service",
      /different path/,
    ],
    ["an unsupported scheme", { ...ok, service: "ftp://app:21" }, "routes[0].service", /not supported/],
    ["no scheme", { ...ok, service: "app:80" }, "routes[0].service", /scheme/],
    ["a bad http_status", { ...ok, service: "http_status:42" }, "routes[0].service", /http_status/],
    [
      "fractional seconds",
      { ...ok, originRequest: { connectTimeout: 1.5 } },
      "routes[0].originRequest.connectTimeout",
      /whole/,
    ],
    [
      "a fractional duration string",
      { ...ok, originRequest: { tlsTimeout: "1.5s" } },
      "routes[0].originRequest.tlsTimeout",
      /whole seconds/,
    ],
    [
      "an unknown origin option",
      { ...ok, originRequest: { bogus: 1 } as never },
      "routes[0].originRequest.bogus",
      /origin option/,
    ],
    [
      "audTag without teamName",
      { ...ok, originRequest: { access: { audTag: ["x"] } } as never },
      "routes[0].originRequest.access.teamName",
      /teamName|set/,
    ],
    ["a bad path regex", { ...ok, path: "(" }, "routes[0].path", /regular expression/],
    ["a lookahead in the path", { ...ok, path: "^/(?!admin)" }, "routes[0].path", /RE2/],
    ["public together with access", { ...ok, access: { emails: ["a@b.co"] } }, "routes[0].access", /public/],
  ] as const)("rejects %s with INVALID_ROUTE naming the field", ([, route, field, message], { expect }) => {
    const error = errorOf([route as RouteInput]);
    expect(error.code).toBe("INVALID_ROUTE");
    expect(error.details?.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it("rejects duplicate hostnames naming both routes when two routes share one", ({ expect }) => {
    const error = errorOf([ok, { ...ok, hostname: "APP.example.com" }]);
    expect(error.code).toBe("INVALID_ROUTE");
    expect(error.message).toContain("routes[1].hostname: duplicates routes[0].hostname");
  });

  it("throws UNPROTECTED_ROUTE when a route has neither access nor public: true", ({ expect }) => {
    const error = errorOf([ok, { hostname: "admin.example.com", service: "http://admin:80" }]);
    expect(error.code).toBe("UNPROTECTED_ROUTE");
    expect(error.details?.field).toBe("routes[1].access");
    expect(error.message).toContain("admin.example.com");
  });

  it("throws UNPROTECTED_ROUTE when access names nobody", ({ expect }) => {
    const error = errorOf([
      { hostname: "admin.example.com", service: "http://admin:80", access: { emails: [] } },
    ]);
    expect(error.code).toBe("UNPROTECTED_ROUTE");
  });

  it("accepts the named services and unix sockets cloudflared knows when routes use them", ({ expect }) => {
    const services = [
      "hello_world",
      "bastion",
      "unix:/run/app.sock",
      "unix+tls:/run/app.sock",
      "ssh://nas:22",
      "tcp://db:5432",
      "http_status:418",
    ];
    const state = validateRoutes({
      zone,
      routes: services.map((service, i) => ({ hostname: `s${i}.example.com`, service, public: true })),
    });
    expect(state.routes.map((r) => r.service)).toEqual(services);
  });
});
