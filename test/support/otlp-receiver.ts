import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createFileRegistry, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** One span as a collector received it, with the resource of the process that sent it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** A request the receiver refused: not POST /v1/traces with application/x-protobuf, or a body that does not decode. */
export interface RefusedRequest {
  method: string;
  path: string;
  contentType: string;
  reason: string;
}

// The shapes of the decoded OTLP messages this receiver reads (field names as @bufbuild/protobuf gives them).
interface AnyValue {
  value: { case: string | undefined; value?: unknown };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface ExportRequest {
  resourceSpans: {
    resource?: { attributes: KeyValue[] };
    scopeSpans: {
      spans: {
        traceId: Uint8Array;
        spanId: Uint8Array;
        parentSpanId: Uint8Array;
        name: string;
        kind: number;
        attributes: KeyValue[];
      }[];
    }[];
  }[];
}

let exportRequestSchema: DescMessage | undefined;

/**
 * ExportTraceServiceRequest from the OTLP protos in test/fixtures/otlp-proto,
 * compiled by buf: the receiver decodes with the specification's own schema,
 * not with the exporter's encoder.
 */
function exportRequest(): DescMessage {
  if (exportRequestSchema) return exportRequestSchema;
  const dir = mkdtempSync(join(tmpdir(), "otlp-proto-"));
  try {
    const out = join(dir, "otlp.binpb");
    execFileSync("node_modules/.bin/buf", ["build", "test/fixtures/otlp-proto", "-o", out], { stdio: ["ignore", "ignore", "inherit"] });
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
    const schema = registry.getMessage("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
    if (!schema) throw new Error("the OTLP protos have no ExportTraceServiceRequest");
    exportRequestSchema = schema;
    return schema;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function attributeMap(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value?.value.value;
    // int64 values decode as bigint; the attributes here are small.
    out[kv.key] = typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/**
 * An OTLP/HTTP receiver, as a collector's otlp receiver on port 4318 is: POST
 * /v1/traces with an application/x-protobuf ExportTraceServiceRequest,
 * answered 200 with an empty ExportTraceServiceResponse.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly refused: RefusedRequest[] = [];
  /** Export requests taken (each holds one batch). */
  requests = 0;
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private schema: DescMessage | undefined;

  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url = "";

  async start(): Promise<this> {
    this.schema = exportRequest();
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** Spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** Spans sent by the process whose service.name is this. */
  from(serviceName: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.resource["service.name"] === serviceName);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      const refuse = (status: number, reason: string) => {
        this.refused.push({ method: req.method ?? "", path: req.url ?? "", contentType, reason });
        res.writeHead(status, { "content-type": "text/plain" }).end(reason);
      };
      if (req.method !== "POST" || req.url !== "/v1/traces") return refuse(404, "only POST /v1/traces");
      if (contentType !== "application/x-protobuf") return refuse(415, "only application/x-protobuf");
      let body = Buffer.concat(chunks);
      let decoded: ExportRequest;
      try {
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        decoded = fromBinary(this.schema!, body) as unknown as ExportRequest;
      } catch (err) {
        return refuse(400, `not an ExportTraceServiceRequest: ${(err as Error).message}`);
      }
      this.requests++;
      for (const rs of decoded.resourceSpans) {
        const resource = attributeMap(rs.resource?.attributes);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            this.spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind,
              attributes: attributeMap(s.attributes),
              resource,
            });
          }
        }
      }
      // An empty ExportTraceServiceResponse: every span accepted.
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  }
}
