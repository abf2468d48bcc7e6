import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { DatabaseConnection } from './database-connection';

/** What a subscriber to a channel hears. */
export interface ChannelSubscriber {
  /** A change named by `payload` committed (on any replica, or on this one: `publishLocally`). */
  changed(payload: string): void;
  /**
   * Changes may have been missed (the listening session dropped, or is not up yet): whatever was derived from earlier
   * reads is suspect. Called whenever `live` turns false, and once more when it turns true again.
   */
  gap(): void;
}

/** How often the listening session proves it is alive; a silent one is given up after the same time again. */
export const HEARTBEAT_MS = 1000;
const RECONNECT_MIN_MS = 100;
/** How the listening session shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'capa-onboarding:listener';
const RECONNECT_MAX_MS = 2000;

/**
 * PostgreSQL LISTEN/NOTIFY on a session of its own (outside the pool, which a NOTIFY could not reach). A NOTIFY sent
 * inside a changing transaction reaches every replica at commit. While the session is up and proven alive (a
 * heartbeat every HEARTBEAT_MS), `live` is true; when it drops, is terminated or goes silent, `live` turns false at
 * once, every subscriber hears `gap()`, and the session is opened again. A change can therefore be missed only while
 * `live` is false, and a missed change is noticed within 2 x HEARTBEAT_MS at worst (a session that died silently).
 *
 * The listener needs a direct session: PgBouncer in transaction pooling mode does not keep LISTEN (README).
 * The embedded database serves a single process, whose writers all publish locally: no session is needed there.
 */
@Injectable()
export class DatabaseNotifications implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseNotifications.name);
  private readonly channels = new Map<string, ChannelSubscriber[]>();
  private client: Client | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private reconnectMs = RECONNECT_MIN_MS;
  private stopped = false;
  private isLive = false;
  /** Times the session was (re)established: for the metrics and tests. */
  sessions = 0;

  constructor(private readonly connection: DatabaseConnection) {}

  /** Whether no change can have been missed since the last `gap()`. */
  get live(): boolean {
    return this.isLive;
  }

  /** Registers a subscriber; channels subscribed after boot are listened to on the next session. */
  subscribe(channel: string, subscriber: ChannelSubscriber): void {
    const subscribers = this.channels.get(channel) ?? [];
    subscribers.push(subscriber);
    this.channels.set(channel, subscribers);
    if (this.isLive && this.client !== undefined) {
      this.client.query(`LISTEN ${quoted(channel)}`).catch((error: unknown) => this.lost(error));
    }
  }

  /** The same as a notification from the database, heard at once by this replica (the one that made the change). */
  publishLocally(channel: string, payload: string): void {
    for (const subscriber of this.channels.get(channel) ?? []) subscriber.changed(payload);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.connection.embedded) {
      this.isLive = true;
      return;
    }
    await this.open();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearInterval(this.heartbeat);
    this.isLive = false;
    await this.client?.end().catch(() => undefined);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.connection.connectionString, keepAlive: true, application_name: LISTENER_APPLICATION_NAME });
    this.client = client;
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(undefined, client));
    client.on('notification', ({ channel, payload }) => {
      if (client === this.client) this.publishLocally(channel, payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${quoted(channel)}`);
    } catch (error) {
      this.lost(error, client);
      return;
    }
    if (client !== this.client || this.stopped) return;
    this.sessions += 1;
    this.reconnectMs = RECONNECT_MIN_MS;
    // Listening from here on: what was read before may be stale (missed while no session listened).
    this.isLive = true;
    this.notifyGap();
    this.heartbeat = setInterval(() => this.beat(client), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** A round trip on the listening session; one that does not come back within HEARTBEAT_MS gives the session up. */
  private beat(client: Client): void {
    const timer = setTimeout(() => this.lost(new Error(`no answer within ${HEARTBEAT_MS} ms`), client), HEARTBEAT_MS);
    timer.unref();
    client.query('SELECT 1').then(
      () => clearTimeout(timer),
      (error: unknown) => {
        clearTimeout(timer);
        this.lost(error, client);
      },
    );
  }

  private lost(error: unknown, client = this.client): void {
    if (client !== this.client || client === undefined) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    const wasLive = this.isLive;
    this.isLive = false;
    this.notifyGap();
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasLive) this.logger.warn({ err: error }, 'The database notification session was lost; reads go to the database until it is back');
    const delay = this.reconnectMs;
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
    this.reconnect = setTimeout(() => void this.open(), delay);
    this.reconnect.unref();
  }

  private notifyGap(): void {
    for (const subscribers of this.channels.values()) for (const subscriber of subscribers) subscriber.gap();
  }
}

function quoted(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}
