// @kubernetes/client-node's declarations import "ws" (through isomorphic-ws) without depending on
// @types/ws. With skipLibCheck false that breaks the typecheck, so this declares the two type names
// those declarations use. The CLI never touches WebSockets (same shim as argo-bootstrap).
declare module "ws" {
  export interface ClientOptions {
    [key: string]: unknown;
  }
  export interface WebSocket {
    [key: string]: unknown;
  }
}
