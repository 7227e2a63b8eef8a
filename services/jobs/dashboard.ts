import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import express from "express";
import type http from "node:http";
import type { JobQueues } from "./queues.js";

/** Bull Board over every queue, for the admin port (which puts it behind the API keys). */
export function queueDashboard(basePath: string, queues: JobQueues): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({ queues: [...queues.queues.values()].map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  const app = express();
  app.use(basePath, adapter.getRouter());
  return (req, res) => app(req, res);
}
