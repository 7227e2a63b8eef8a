import { ConfigError, readInt, type IntSetting } from "../../runtime/config.js";
import { CHANNELS, type ChannelName } from "../model/engagement.js";

/** The adapters a channel can be delivered through. */
export type AdapterName = "webhook" | "smtp";

/** Delivery settings (README, "Notification delivery"); read from the environment at start. */
export interface DeliveryConfig {
  /** Where the webhook adapter POSTs; undefined: no webhook adapter. */
  webhookUrl: string | undefined;
  /** The HMAC-SHA256 key of the webhook's signature header. */
  webhookSecret: string;
  /** smtp://user:pass@host:port or smtps://…; undefined: no email adapter. */
  smtpUrl: string | undefined;
  /** The From: of every email. */
  from: string;
  /** Which adapter each channel goes through; a channel missing here is recorded failed. */
  adapters: Partial<Record<ChannelName, AdapterName>>;
  /** Delivery attempts before a notification is dead-lettered. */
  attempts: number;
  /** First retry delay; each retry doubles it. */
  backoffMs: number;
  /** How long one attempt may take (the webhook's answer, the SMTP session). */
  attemptTimeoutMs: number;
}

export const DELIVERY_SETTINGS = {
  attempts: { name: "MLMESH_NOTIFY_ATTEMPTS", fallback: 5, min: 1, max: 50 },
  backoffMs: { name: "MLMESH_NOTIFY_BACKOFF_MS", fallback: 1000, min: 0, max: 3_600_000 },
  attemptTimeoutMs: { name: "MLMESH_NOTIFY_ATTEMPT_TIMEOUT_MS", fallback: 10_000, min: 100, max: 300_000 },
} as const satisfies Record<string, IntSetting>;

const DEFAULT_ADAPTERS = "push=webhook,sms=webhook,email=smtp";

/** Reads and checks the delivery settings; every bad value is named at once. */
export function loadDeliveryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryConfig {
  const problems: string[] = [];
  const webhookUrl = env.MLMESH_NOTIFY_WEBHOOK_URL?.trim() || undefined;
  if (webhookUrl && !isUrl(webhookUrl, ["http:", "https:"])) problems.push("MLMESH_NOTIFY_WEBHOOK_URL must be an http:// or https:// URL");
  const webhookSecret = env.MLMESH_NOTIFY_WEBHOOK_SECRET ?? "";
  if (webhookUrl && webhookSecret.length < 16)
    problems.push("MLMESH_NOTIFY_WEBHOOK_SECRET must be 16 or more characters when MLMESH_NOTIFY_WEBHOOK_URL is set");
  const smtpUrl = env.MLMESH_SMTP_URL?.trim() || undefined;
  if (smtpUrl && !isUrl(smtpUrl, ["smtp:", "smtps:"])) problems.push("MLMESH_SMTP_URL must be an smtp:// or smtps:// URL");
  const from = env.MLMESH_NOTIFY_FROM?.trim() ?? "";
  if (smtpUrl && !/^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(from))
    problems.push("MLMESH_NOTIFY_FROM must be an address (travel@example.com or Travel <travel@example.com>) when MLMESH_SMTP_URL is set");
  const adapters: Partial<Record<ChannelName, AdapterName>> = {};
  const raw = env.MLMESH_NOTIFY_CHANNELS?.trim() || DEFAULT_ADAPTERS;
  for (const pair of raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [channel, adapter] = pair.split("=").map((s) => s.trim());
    if (!(CHANNELS as readonly string[]).includes(channel) || (adapter !== "webhook" && adapter !== "smtp"))
      problems.push(`MLMESH_NOTIFY_CHANNELS: ${JSON.stringify(pair)} must be <push|email|sms>=<webhook|smtp>`);
    else adapters[channel as ChannelName] = adapter;
  }
  const config: DeliveryConfig = {
    webhookUrl,
    webhookSecret,
    smtpUrl,
    from,
    adapters,
    attempts: readInt(env, DELIVERY_SETTINGS.attempts, problems),
    backoffMs: readInt(env, DELIVERY_SETTINGS.backoffMs, problems),
    attemptTimeoutMs: readInt(env, DELIVERY_SETTINGS.attemptTimeoutMs, problems),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function isUrl(text: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
