import { create, createRegistry, toBinary, type DescFile, type DescService, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { Status } from "./status.js";

/**
 * Answers gRPC server reflection (what grpcurl and Postman use) from the
 * descriptors compiled into gen/, so reflection can never disagree with the
 * code that serves.
 */
export class ReflectionIndex {
  private readonly registry: Registry;
  private readonly files: Map<string, DescFile>;
  private readonly serviceNames: string[];

  constructor(services: readonly DescService[]) {
    this.files = new Map();
    const visit = (file: DescFile) => {
      if (this.files.has(`${file.name}.proto`)) return;
      this.files.set(`${file.name}.proto`, file);
      for (const dep of file.dependencies) visit(dep);
    };
    for (const s of services) visit(s.file);
    this.registry = createRegistry(...this.files.values());
    this.serviceNames = services.map((s) => s.typeName).sort();
  }

  get services(): readonly string[] {
    return this.serviceNames;
  }

  /**
   * The answer to one request, whatever it holds: an unknown name is
   * NOT_FOUND, a request with nothing in it INVALID_ARGUMENT. Never throws: a
   * throw here would end the stream for every later request on it.
   */
  answer(request: ServerReflectionRequest): ServerReflectionResponse {
    const base = { validHost: request.host, originalRequest: request };
    try {
      return this.lookup(request, base);
    } catch {
      return this.error(base, Status.INVALID_ARGUMENT, "malformed reflection request");
    }
  }

  private lookup(request: ServerReflectionRequest, base: object): ServerReflectionResponse {
    const r = request.messageRequest;
    switch (r.case) {
      case "listServices":
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "listServicesResponse",
            value: { service: this.serviceNames.map((name) => ({ name })) },
          },
        });
      case "fileByFilename": {
        const file = this.files.get(r.value);
        return file ? this.fileResponse(base, file) : this.error(base, Status.NOT_FOUND, `file not found: ${shown(r.value)}`);
      }
      case "fileContainingSymbol": {
        const file = this.fileOfSymbol(r.value);
        return file ? this.fileResponse(base, file) : this.error(base, Status.NOT_FOUND, `symbol not found: ${shown(r.value)}`);
      }
      case "fileContainingExtension": {
        const containing = this.registry.getMessage(r.value.containingType);
        if (!containing) return this.error(base, Status.NOT_FOUND, `type not found: ${shown(r.value.containingType)}`);
        const ext = this.registry.getExtensionFor(containing, r.value.extensionNumber);
        return ext
          ? this.fileResponse(base, ext.file)
          : this.error(base, Status.NOT_FOUND, `extension ${r.value.extensionNumber} of ${shown(r.value.containingType)} not found`);
      }
      case "allExtensionNumbersOfType": {
        const message = this.registry.getMessage(r.value);
        if (!message) return this.error(base, Status.NOT_FOUND, `type not found: ${shown(r.value)}`);
        const numbers: number[] = [];
        for (const file of this.files.values()) {
          for (const ext of file.extensions) if (ext.extendee.typeName === r.value) numbers.push(ext.number);
        }
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value, extensionNumber: numbers } },
        });
      }
      default:
        return this.error(base, Status.INVALID_ARGUMENT, "empty reflection request");
    }
  }

  private fileOfSymbol(symbol: string): DescFile | undefined {
    const direct = this.registry.get(symbol);
    if (direct) return direct.file;
    // Methods and fields are not registry entries: look up their parent.
    const parent = symbol.slice(0, symbol.lastIndexOf("."));
    const owner = parent ? this.registry.get(parent) : undefined;
    if (owner?.kind === "service" && owner.methods.some((m) => `${parent}.${m.name}` === symbol)) return owner.file;
    if (owner?.kind === "message" && owner.fields.some((f) => `${parent}.${f.name}` === symbol)) return owner.file;
    return undefined;
  }

  private fileResponse(base: object, file: DescFile): ServerReflectionResponse {
    // The file first, then everything it imports, so one round trip suffices.
    const ordered: DescFile[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      ordered.push(f);
      for (const d of f.dependencies) visit(d);
    };
    visit(file);
    return create(ServerReflectionResponseSchema, {
      ...base,
      messageResponse: {
        case: "fileDescriptorResponse",
        value: { fileDescriptorProto: ordered.map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) },
      },
    });
  }

  private error(base: object, code: Status, message: string): ServerReflectionResponse {
    return create(ServerReflectionResponseSchema, {
      ...base,
      messageResponse: { case: "errorResponse", value: { errorCode: code, errorMessage: message } },
    });
  }
}

/** A client's name as an error message shows it: short, so a huge name cannot make a huge answer. */
function shown(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}
