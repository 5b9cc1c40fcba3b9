// Where a realtime client keeps what must outlive a connection (and, with a
// persistent store, a page reload or an app restart): the last seq seen per
// conversation and the sends not yet acknowledged.

export interface KeyValueStorage {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export class MemoryStorage implements KeyValueStorage {
  private readonly map = new Map<string, string>();
  get(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.map.set(key, value);
  }
  remove(key: string): void {
    this.map.delete(key);
  }
}

/** Browser storage (window.localStorage), under a prefix per user. */
export class LocalStorageStorage implements KeyValueStorage {
  constructor(
    private readonly prefix: string,
    private readonly store: Storage = globalThis.localStorage,
  ) {}
  get(key: string): string | null {
    return this.store.getItem(this.prefix + key);
  }
  set(key: string, value: string): void {
    this.store.setItem(this.prefix + key, value);
  }
  remove(key: string): void {
    this.store.removeItem(this.prefix + key);
  }
}
