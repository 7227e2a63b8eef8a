import nodemailer from "nodemailer";
import { DeliveryError, type DeliveryAdapter } from "./adapter.js";

/**
 * Sends each notification as a plain-text email over SMTP (nodemailer,
 * pooled connections): the title is the subject, the body the text. A
 * notification without an email address cannot go this way and fails at
 * once; a server that refuses or cannot be reached is tried again.
 */
export function smtpAdapter(url: string, from: string, timeoutMs: number): DeliveryAdapter {
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async deliver(n) {
      if (!n.emailAddress) throw new DeliveryError("no email_address was given for the email channel", true);
      try {
        await transport.sendMail({
          from,
          to: n.emailAddress,
          subject: n.title,
          text: n.body,
          headers: { "X-Mlmesh-Notification-Id": n.notificationId },
        });
      } catch (err) {
        throw new DeliveryError(`SMTP delivery failed: ${(err as Error).message}`);
      }
    },
    close: () => transport.close(),
  };
}
