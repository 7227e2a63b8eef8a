import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request the receiver got, as it judged it. */
export interface WebhookDelivery {
  /** The body parsed, when it was JSON. */
  body: Record<string, unknown>;
  /** Whether the signature header matched the HMAC-SHA256 of "<timestamp>.<raw body>" under the secret. */
  verified: boolean;
  /** When it arrived (epoch ms). */
  receivedAt: number;
  /** The HTTP status it was answered with. */
  status: number;
}

/**
 * A real HTTP server standing in for the app's push gateway: it checks each
 * request's signature as a receiver must (the raw body, constant-time) and
 * answers with whatever `answer` decides for it (200 by default).
 */
export async function startWebhookReceiver(
  secret: string,
  answer: (body: Record<string, unknown>, earlier: readonly WebhookDelivery[]) => number = () => 200,
): Promise<{ url: string; deliveries: WebhookDelivery[]; close(): Promise<void> }> {
  const deliveries: WebhookDelivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const timestamp = String(req.headers["x-mlmesh-timestamp"] ?? "");
      const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${timestamp}.${raw}`).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-mlmesh-signature"] ?? ""));
      const verified = given.length === expected.length && timingSafeEqual(given, expected);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw);
      } catch {}
      const earlier = deliveries.filter((d) => d.body.notification_id === body.notification_id);
      const status = verified ? answer(body, earlier) : 401;
      deliveries.push({ body, verified, receivedAt: Date.now(), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/notifications`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
