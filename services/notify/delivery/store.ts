import { randomUUID } from "node:crypto";
import { DynamicBatcher } from "../../runtime/batcher.js";
import type { Sql } from "../../runtime/storage/database.js";
import type { ChannelName, NotificationTypeName } from "../model/engagement.js";
import type { UrgencyName } from "../model/decide.js";

export type DeliveryStatus = "scheduled" | "sent" | "failed" | "cancelled" | "dead_lettered";

/** One notification as PostgreSQL holds it. */
export interface NotificationRecord {
  notificationId: string;
  userId: string;
  notificationType: NotificationTypeName;
  urgency: UrgencyName;
  channel: ChannelName;
  status: DeliveryStatus;
  title: string;
  body: string;
  data: Record<string, unknown>;
  emailAddress: string;
  reason: string;
  attempts: number;
  error: string;
  sendAt: Date;
  sentAt: Date | null;
  openedAt: Date | null;
  clickedAt: Date | null;
  createdAt: Date;
}

export type NewNotification = Pick<
  NotificationRecord,
  "userId" | "notificationType" | "urgency" | "channel" | "title" | "body" | "data" | "emailAddress" | "reason" | "sendAt"
> & { idempotencyKey: string | undefined };

interface Outcome {
  id: string;
  status: Exclude<DeliveryStatus, "scheduled" | "cancelled">;
  error: string;
}

interface Row {
  notification_id: string;
  user_id: string;
  notification_type: NotificationTypeName;
  urgency: UrgencyName;
  channel: ChannelName;
  status: DeliveryStatus;
  title: string;
  body: string;
  data: Record<string, unknown>;
  email_address: string;
  reason: string;
  attempts: number;
  error: string;
  send_at: Date;
  sent_at: Date | null;
  opened_at: Date | null;
  clicked_at: Date | null;
  created_at: Date;
}

/**
 * Notifications in PostgreSQL. Every change of status is guarded by the
 * status it leaves (only a scheduled notification is sent, failed or
 * cancelled), so a cancel and a delivery racing each other leave one outcome.
 */
export class DeliveryStore {
  // A worker starts and ends many deliveries at once: one statement each way for all of them, not one per notification.
  private readonly starts = new DynamicBatcher<string, NotificationRecord | undefined>({
    maxBatch: 128,
    maxWaitMs: 2,
    run: (ids) => this.beginMany(ids),
  });
  private readonly outcomes = new DynamicBatcher<Outcome, NotificationRecord | undefined>({
    maxBatch: 128,
    maxWaitMs: 2,
    run: (items) => this.finishMany(items),
  });

  constructor(private readonly sql: Sql) {}

  /** Records a notification, or answers the one an earlier submit with the same key recorded. */
  async create(n: NewNotification): Promise<{ record: NotificationRecord; created: boolean }> {
    const sql = this.sql;
    const [row] = await sql<Row[]>`
      insert into notifications ${sql({
        notification_id: randomUUID(),
        user_id: n.userId,
        notification_type: n.notificationType,
        urgency: n.urgency,
        channel: n.channel,
        title: n.title,
        body: n.body,
        data: sql.json(n.data as never),
        email_address: n.emailAddress,
        reason: n.reason,
        idempotency_key: n.idempotencyKey ?? null,
        send_at: n.sendAt,
      })}
      on conflict (idempotency_key) where idempotency_key is not null do nothing
      returning *`;
    if (row) return { record: fromRow(row), created: true };
    const [first] = await sql<Row[]>`select * from notifications where idempotency_key = ${n.idempotencyKey ?? ""}`;
    return { record: fromRow(first), created: false };
  }

  /** Removes a notification that could not be queued, so nothing looks scheduled that is not. */
  async discard(id: string): Promise<void> {
    await this.sql`delete from notifications where notification_id = ${id} and status = 'scheduled' and attempts = 0`;
  }

  async get(id: string): Promise<NotificationRecord | undefined> {
    const [row] = await this.sql<Row[]>`select * from notifications where notification_id = ${id}`;
    return row && fromRow(row);
  }

  /** Counts an attempt at a scheduled notification; undefined when it is no longer scheduled (cancelled). */
  beginAttempt(id: string): Promise<NotificationRecord | undefined> {
    return this.starts.submit(id);
  }

  private async beginMany(ids: string[]): Promise<(NotificationRecord | undefined)[]> {
    const rows = await this.sql<Row[]>`
      update notifications set attempts = attempts + 1, delivering = true, updated_at = clock_timestamp()
      where notification_id = any(${[...new Set(ids)]}::uuid[]) and status = 'scheduled' returning *`;
    const byId = new Map(rows.map((r) => [r.notification_id, fromRow(r)]));
    return ids.map((id) => byId.get(id));
  }

  /** Moves a scheduled notification to its outcome; undefined when it had left 'scheduled' already. */
  finish(id: string, status: Outcome["status"], error = ""): Promise<NotificationRecord | undefined> {
    return this.outcomes.submit({ id, status, error });
  }

  private async finishMany(items: Outcome[]): Promise<(NotificationRecord | undefined)[]> {
    const sql = this.sql;
    const rows = await sql<Row[]>`
      update notifications n
      set status = v.status, error = v.error, delivering = false, updated_at = clock_timestamp(),
          sent_at = case when v.status = 'sent' then clock_timestamp() else n.sent_at end
      from (values ${sql(items.map((o) => [o.id, o.status, o.error]))}) as v (id, status, error)
      where n.notification_id = v.id::uuid and n.status = 'scheduled' returning n.*`;
    const byId = new Map(rows.map((r) => [r.notification_id, fromRow(r)]));
    return items.map((o) => byId.get(o.id));
  }

  /** Notes an attempt's error on a notification that will be tried again (and may be cancelled meanwhile). */
  async noteError(id: string, error: string): Promise<void> {
    await this.sql`update notifications set error = ${error}, delivering = false, updated_at = clock_timestamp()
                   where notification_id = ${id} and status = 'scheduled'`;
  }

  /**
   * Cancels a scheduled notification no attempt is delivering. Undefined when
   * there is no such notification; else the record, cancelled or as it stands.
   */
  async cancel(id: string): Promise<{ record: NotificationRecord; cancelled: boolean } | undefined> {
    const [row] = await this.sql<Row[]>`
      update notifications set status = 'cancelled', updated_at = clock_timestamp()
      where notification_id = ${id} and status = 'scheduled' and not delivering returning *`;
    if (row) return { record: fromRow(row), cancelled: true };
    const found = await this.get(id);
    return found && { record: found, cancelled: false };
  }

  /**
   * Records an open or a click of a sent notification once (a repeated report
   * changes nothing) and, in the same transaction, the activity the timing
   * model learns from: the first open (a click implies one) as a
   * notification_open on its channel and type, a click as a notification_click.
   * Undefined when no such notification exists; the record as it stands when it was not sent.
   */
  async engage(id: string, kind: "open" | "click"): Promise<NotificationRecord | undefined> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<Row[]>`select * from notifications where notification_id = ${id} for update`;
      if (row?.status !== "sent") return row && fromRow(row);
      const events: string[] = [];
      if (row.opened_at === null) events.push("notification_open");
      if (kind === "click" && row.clicked_at === null) events.push("notification_click");
      if (events.length === 0) return fromRow(row);
      const [updated] = await tx<Row[]>`
        update notifications
        set opened_at = coalesce(opened_at, clock_timestamp()),
            clicked_at = case when ${kind} = 'click' then coalesce(clicked_at, clock_timestamp()) else clicked_at end,
            updated_at = clock_timestamp()
        where notification_id = ${id} returning *`;
      for (const event of events)
        await tx`insert into activity_events (user_id, kind, channel, notification_type, occurred_at)
                 values (${row.user_id}, ${event}, ${row.channel}, ${row.notification_type}, clock_timestamp())`;
      return fromRow(updated);
    }) as Promise<NotificationRecord | undefined>;
  }
}

function fromRow(r: Row): NotificationRecord {
  return {
    notificationId: r.notification_id,
    userId: r.user_id,
    notificationType: r.notification_type,
    urgency: r.urgency,
    channel: r.channel,
    status: r.status,
    title: r.title,
    body: r.body,
    data: r.data,
    emailAddress: r.email_address,
    reason: r.reason,
    attempts: r.attempts,
    error: r.error,
    sendAt: r.send_at,
    sentAt: r.sent_at,
    openedAt: r.opened_at,
    clickedAt: r.clicked_at,
    createdAt: r.created_at,
  };
}
