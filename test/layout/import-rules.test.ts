import { describe, expect, it } from "vitest";
import { importViolations, packageViolation, violation } from "../../scripts/check-imports.js";

describe("import rules (make check-imports)", () => {
  it("hold for every import under services/", () => {
    expect(importViolations()).toEqual([]);
  });

  it("let an area use the shared folders, its own contract and another area's index.ts", () => {
    expect(violation("services/recommend/catalogue.ts", "services/travellers/index.ts")).toBeUndefined();
    expect(violation("services/match/jobs.ts", "services/jobs/index.ts")).toBeUndefined();
    expect(violation("services/match/handlers.ts", "services/runtime/storage/database.ts")).toBeUndefined();
    expect(violation("services/recommend/filters.ts", "services/numeric/geography.ts")).toBeUndefined();
    expect(violation("services/match/service.ts", "gen/mlmesh/match/v1/match_scoring_service_pb.ts")).toBeUndefined();
    expect(violation("services/areas.ts", "services/match/service.ts")).toBeUndefined();
    expect(violation("services/job-handlers.ts", "services/forecast/jobs.ts")).toBeUndefined();
  });

  it("refuse an area reaching into another's files", () => {
    expect(violation("services/recommend/seed.ts", "services/match/store/copy-format.ts")).toMatch(/through what that one hands out/);
    expect(violation("services/notify/activity.ts", "services/travellers/population.ts")).toMatch(/services\/travellers\/index\.ts/);
    expect(violation("services/jobs/service.ts", "services/match/training.ts")).toBeDefined();
  });

  it("refuse runtime/ importing an area or its contract, and numeric/ importing anything else", () => {
    expect(violation("services/runtime/pipeline.ts", "services/match/service.ts")).toMatch(/runtime\/ imports no area/);
    expect(violation("services/runtime/mesh.ts", "services/areas.ts")).toMatch(/runtime\/ imports no area/);
    expect(violation("services/runtime/health.ts", "gen/mlmesh/jobs/v1/job_queue_service_pb.ts")).toMatch(/contract/);
    expect(violation("services/runtime/health.ts", "gen/grpc/health/v1/health_pb.ts")).toBeUndefined();
    expect(violation("services/numeric/random.ts", "services/runtime/log.ts")).toMatch(/numeric\//);
  });

  it("refuse another area's contract, an area importing the gathering files, and those reaching past the entries", () => {
    expect(violation("services/jobs/handler.ts", "gen/mlmesh/forecast/v1/forecast_service_pb.ts")).toMatch(/own contract/);
    expect(violation("services/match/service.ts", "services/areas.ts")).toMatch(/gather/);
    expect(violation("services/areas.ts", "services/match/handlers.ts")).toMatch(/entry files/);
  });

  it("keep a client package to gen/ and its own files, and the web client off Node's built-ins", () => {
    expect(violation("clients/node/src/client.ts", "gen/mlmesh/jobs/v1/job_queue_service_pb.ts")).toBeUndefined();
    expect(violation("clients/web/src/client.ts", "gen/grpc/health/v1/health_pb.ts")).toBeUndefined();
    expect(violation("clients/node/src/client.ts", "clients/node/src/middleware/retry.ts")).toBeUndefined();
    expect(violation("clients/node/src/client.ts", "services/runtime/auth.ts")).toMatch(/client package imports only gen\//);
    expect(violation("clients/web/src/client.ts", "clients/node/src/idempotency.ts")).toMatch(/its own files/);
    expect(violation("clients/web/src/client.ts", "test/support/mesh.ts")).toBeDefined();
    expect(packageViolation("clients/web/src/client.ts", "node:http")).toMatch(/no Node built-in/);
    expect(packageViolation("clients/web/src/client.ts", "buffer")).toMatch(/no Node built-in/);
    expect(packageViolation("clients/web/src/client.ts", "@connectrpc/connect-web")).toBeUndefined();
    expect(packageViolation("clients/node/src/client.ts", "node:http")).toBeUndefined();
  });
});
