import type { ConnectOptions, StoreConnection } from "../adapters/contracts.ts";
import { connect } from "../adapters/url.ts";

/** Opens each distinct URL once and closes them all together. */
export class Connections {
  private readonly open = new Map<string, Promise<StoreConnection>>();

  constructor(private readonly options: ConnectOptions = {}) {}

  get(url: string): Promise<StoreConnection> {
    let connection = this.open.get(url);
    if (!connection) {
      connection = connect(url, this.options);
      this.open.set(url, connection);
      // A failed open is not cached, so a later call can retry.
      connection.catch(() => this.open.delete(url));
    }
    return connection;
  }

  /** Adds an already open connection under its URL (e.g. an in-memory one). */
  adopt(connection: StoreConnection): void {
    this.open.set(connection.url, Promise.resolve(connection));
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      all.map(async (pending) => {
        const connection = await pending.catch(() => null);
        await connection?.close();
      }),
    );
  }
}
