// A stand-in for a Terraform provider plugin, for offline runs of `terraform validate` and
// `terraform test` with mock providers. It serves one provider's schema over plugin protocol 6 and
// answers the validation and configuration calls with no diagnostics; it plans and applies
// nothing (mock_provider blocks do that in terraform test).
//
// Usage (from a wrapper named terraform-provider-<name>, see src/terraform-offline.ts):
//   node provider.mjs <schema.json>
// where schema.json is the plugin-schema JSON written by `pluginSchemaDocument`.
//
// Wire facts, from hashicorp/terraform docs/plugin-protocol/tfplugin6.8.proto and
// hashicorp/go-plugin: the handshake line `1|6|tcp|<host:port>|grpc`; message field numbers below.
// Plugin TLS is off (TF_DISABLE_PLUGIN_TLS=1 in terraform's environment).

import { readFileSync } from "node:fs";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";

const document = JSON.parse(readFileSync(process.argv[2], "utf8"));

/** Schema.Attribute: 1 name, 2 type (JSON bytes), 3 description, 4 required, 5 optional, 6 computed, 7 sensitive, 9 deprecated, 10 nested_type, 11 write_only. */
function attribute(w, a) {
  w.tag(1, WireType.LengthDelimited).string(a.name);
  if (a.type !== undefined) w.tag(2, WireType.LengthDelimited).bytes(Buffer.from(JSON.stringify(a.type)));
  if (a.description) w.tag(3, WireType.LengthDelimited).string(a.description);
  if (a.required) w.tag(4, WireType.Varint).bool(true);
  if (a.optional) w.tag(5, WireType.Varint).bool(true);
  if (a.computed) w.tag(6, WireType.Varint).bool(true);
  if (a.sensitive) w.tag(7, WireType.Varint).bool(true);
  if (a.deprecated) w.tag(9, WireType.Varint).bool(true);
  if (a.nested_type !== undefined) {
    // Schema.Object: 1 attributes, 3 nesting (1 single, 2 list, 3 set, 4 map).
    w.tag(10, WireType.LengthDelimited).fork();
    for (const inner of a.nested_type.attributes) {
      w.tag(1, WireType.LengthDelimited).fork();
      attribute(w, inner);
      w.join();
    }
    w.tag(3, WireType.Varint).int32(a.nested_type.nesting);
    w.join();
  }
  if (a.write_only) w.tag(11, WireType.Varint).bool(true);
}

/** Schema.Block: 1 version, 2 attributes, 3 block_types (NestedBlock: 1 type_name, 2 block, 3 nesting, 4 min_items, 5 max_items), 6 deprecated. */
function block(w, b) {
  for (const a of b.attributes) {
    w.tag(2, WireType.LengthDelimited).fork();
    attribute(w, a);
    w.join();
  }
  for (const nb of b.block_types) {
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(nb.type_name);
    w.tag(2, WireType.LengthDelimited).fork();
    block(w, nb.block);
    w.join();
    w.tag(3, WireType.Varint).int32(nb.nesting);
    if (nb.min_items) w.tag(4, WireType.Varint).int64(nb.min_items);
    if (nb.max_items) w.tag(5, WireType.Varint).int64(nb.max_items);
    w.join();
  }
  if (b.deprecated) w.tag(6, WireType.Varint).bool(true);
}

/** Schema: 1 version, 2 block. */
function schema(w, s) {
  if (s.version) w.tag(1, WireType.Varint).int64(s.version);
  w.tag(2, WireType.LengthDelimited).fork();
  block(w, s.block);
  w.join();
}

/** GetProviderSchema.Response: 1 provider, 2 resource_schemas, 3 data_source_schemas, 8 ephemeral_resource_schemas (maps: entry key 1, value 2). */
function providerSchemaResponse() {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork();
  schema(w, document.provider);
  w.join();
  const maps = [
    [2, document.resource_schemas],
    [3, document.data_source_schemas],
    [8, document.ephemeral_resource_schemas],
  ];
  for (const [field, entries] of maps) {
    for (const [name, s] of Object.entries(entries)) {
      w.tag(field, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).string(name);
      w.tag(2, WireType.LengthDelimited).fork();
      schema(w, s);
      w.join();
      w.join();
    }
  }
  return Buffer.from(w.finish());
}

const schemaBytes = providerSchemaResponse();
const EMPTY = Buffer.alloc(0);

const unary = (path) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (b) => b,
  requestDeserialize: (b) => b,
  responseSerialize: (b) => b,
  responseDeserialize: (b) => b,
});

const provider = {
  GetProviderSchema: () => schemaBytes,
  // Empty responses: no diagnostics.
  ValidateProviderConfig: () => EMPTY,
  ValidateResourceConfig: () => EMPTY,
  ValidateDataResourceConfig: () => EMPTY,
  ValidateEphemeralResourceConfig: () => EMPTY,
  ConfigureProvider: () => EMPTY,
  StopProvider: () => EMPTY,
};

const server = new grpc.Server();
server.addService(
  Object.fromEntries(Object.keys(provider).map((name) => [name, unary(`/tfplugin6.Provider/${name}`)])),
  Object.fromEntries(
    Object.entries(provider).map(([name, answer]) => [
      name,
      (call, callback) => callback(null, answer(call)),
    ]),
  ),
);
// go-plugin's health check (HealthCheckResponse status 1 = SERVING) and graceful shutdown.
server.addService(
  { Check: unary("/grpc.health.v1.Health/Check") },
  { Check: (_call, callback) => callback(null, Buffer.from([0x08, 0x01])) },
);
server.addService(
  { Shutdown: unary("/plugin.GRPCController/Shutdown") },
  {
    Shutdown: (_call, callback) => {
      callback(null, EMPTY);
      setImmediate(() => server.tryShutdown(() => process.exit(0)));
    },
  },
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`stub provider: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`1|6|tcp|127.0.0.1:${port}|grpc\n`);
});
