import { describe, expect, it } from "vitest";
import { loadDeliveryConfig } from "../../services/notify/delivery/config.js";

describe("notification delivery settings", () => {
  it("default to push and sms by webhook, email by SMTP, with no adapter configured", () => {
    const c = loadDeliveryConfig({});
    expect(c.adapters).toEqual({ push: "webhook", sms: "webhook", email: "smtp" });
    expect([c.webhookUrl, c.smtpUrl, c.attempts, c.backoffMs]).toEqual([undefined, undefined, 5, 1000]);
  });

  it("name every bad value at once", () => {
    expect(() =>
      loadDeliveryConfig({
        MLMESH_NOTIFY_WEBHOOK_URL: "ftp://hooks.example",
        MLMESH_SMTP_URL: "mail.example:25",
        MLMESH_NOTIFY_CHANNELS: "push=webhook,fax=smtp",
        MLMESH_NOTIFY_ATTEMPTS: "0",
      }),
    ).toThrow(
      /MLMESH_NOTIFY_WEBHOOK_URL must be an http.*MLMESH_NOTIFY_WEBHOOK_SECRET must be 16.*MLMESH_SMTP_URL must be an smtp.*MLMESH_NOTIFY_FROM must be an address.*MLMESH_NOTIFY_CHANNELS: "fax=smtp".*MLMESH_NOTIFY_ATTEMPTS/s,
    );
  });

  it("take a channel map that leaves a channel out", () => {
    const c = loadDeliveryConfig({
      MLMESH_NOTIFY_CHANNELS: "email=smtp",
      MLMESH_SMTP_URL: "smtps://u:p@mail.example:465",
      MLMESH_NOTIFY_FROM: "Travel <t@travel.example>",
    });
    expect(c.adapters).toEqual({ email: "smtp" });
  });
});
