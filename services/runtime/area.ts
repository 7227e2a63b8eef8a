import type http from "node:http";
import type { DescService } from "@bufbuild/protobuf";
import type { Redis } from "ioredis";
import type { MeshConfig } from "./config.js";
import type { MethodScopes, Scope } from "./keys/scopes.js";
import type { ServiceImpl } from "./handler.js";
import type { MeshMetrics } from "./metrics.js";
import type { Database } from "./storage/database.js";

/** What the runtime gives each service area when the mesh starts. */
export interface AreaDeps {
  readonly config: MeshConfig;
  readonly db: Database;
  readonly redis: Redis;
  readonly metrics: MeshMetrics;
  /** Every area of the mesh, once all are built (a status page reports what the others have loaded). */
  readonly areas: () => readonly Area[];
}

/** A service area as the runtime sees it: a contract, its methods, and its readiness. */
export interface Area {
  readonly service: DescService;
  // biome-ignore lint/suspicious/noExplicitAny: a list of areas holds services of different contracts
  readonly impl: ServiceImpl<any>;
  /** Needs no API key (a health check, like grpc.health.v1). */
  readonly open?: boolean;
  /** The scope a key needs for each of its methods (keys/scopes.ts); undeclared, every method needs `admin`. */
  readonly scopes?: MethodScopes;
  /** The models the area serves now, with their versions (GET /health's models_loaded). */
  readonly loaded?: () => { name: string; version: string }[];
  /** Reasons the area cannot serve yet (models not loaded, not warmed); empty when ready. */
  readonly notReady?: () => Promise<string[]>;
  /**
   * Called once the mesh reports SERVING: warm-up that a correct answer does
   * not need (filling caches) starts here, so that it never delays readiness.
   */
  readonly serving?: () => void;
  /**
   * Pages for the admin port, served behind the API keys (the queue dashboard):
   * GET and HEAD need the `read` scope, any other method the `write` scope.
   */
  readonly admin?: readonly {
    prefix: string;
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
    scopes: { read: Scope; write: Scope };
  }[];
  readonly close?: () => Promise<void>;
}

export type AreaFactory = (deps: AreaDeps) => Promise<Area>;
