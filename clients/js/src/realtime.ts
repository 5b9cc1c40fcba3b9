// A realtime connection to chatd's WebSocket (docs/websocket.md) that a chat
// app can leave running: it reconnects with exponential backoff and jitter,
// syncs from stored cursors on every connect, hands each event to the app
// once and in seq order per conversation, and keeps an outbox of sends that
// are retried with the same client_msg_id until acknowledged.
import { ChatdError } from "./errors.js";
import type {
  AttachmentId,
  ChatEvent,
  ConversationId,
  ConversationState,
  Message,
  SendExtras,
  Seq,
  UserId,
} from "./models.js";
import { type KeyValueStorage, MemoryStorage } from "./storage.js";

export type ConnectionState = "connecting" | "open" | "syncing" | "live" | "offline";

/** What the client needs of a WebSocket: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a socket. `authByFrame`: the token goes in a first `auth` frame (browsers). */
export type Connector = (url: string, token: string) => { socket: WebSocketLike; authByFrame: boolean };

/** The browser's WebSocket; the token in a first frame (browsers cannot set headers). */
export const browserConnector: Connector = (url) => ({
  socket: new (globalThis as unknown as { WebSocket: new (url: string) => WebSocketLike }).WebSocket(url),
  authByFrame: true,
});

export interface RealtimeOptions {
  /** ws:// or wss:// URL of /v1/ws. */
  url: string;
  token: string;
  /** Cursors and the outbox live here (MemoryStorage by default; LocalStorageStorage in browsers). */
  storage?: KeyValueStorage;
  connector?: Connector;
  /** Reconnect delays: initialMs doubling to maxMs, each drawn in [d/2, d]. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** An answer (ack, pong, synced) later than this counts the connection as dead. */
  ackTimeoutMs?: number;
  /** A ping goes out this often while live, to find a dead connection. */
  pingIntervalMs?: number;
}

export interface OutboxEntry {
  client_msg_id: string;
  conversation_id: ConversationId;
  body: string;
  reply_to?: Seq;
  attachments?: AttachmentId[];
  share?: SendExtras["share"];
}

type Listeners = {
  state: (state: ConnectionState) => void;
  event: (event: ChatEvent) => void;
  ack: (message: Message, entry: OutboxEntry) => void;
  sendFailed: (error: ChatdError, entry: OutboxEntry) => void;
  typing: (conversation: ConversationId, user: UserId) => void;
  read: (conversation: ConversationId, user: UserId, seq: Seq) => void;
  presence: (user: UserId, online: boolean) => void;
  /** The user's own standing in a conversation changed (accept, decline, mute, role), from any device. */
  conversationState: (state: ConversationState) => void;
  error: (error: ChatdError) => void;
};

interface Waiter {
  resolve: (frame: Record<string, unknown>) => void;
  reject: (error: ChatdError) => void;
  timer: ReturnType<typeof setTimeout>;
}

const CURSORS = "chatd.cursors";
const OUTBOX = "chatd.outbox";

function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

export class ChatdRealtime {
  private readonly opt: Required<Omit<RealtimeOptions, "storage" | "connector" | "backoff">> & {
    initialMs: number;
    maxMs: number;
  };
  private readonly storage: KeyValueStorage;
  private readonly connector: Connector;
  private readonly listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = {
    state: new Set(),
    event: new Set(),
    ack: new Set(),
    sendFailed: new Set(),
    typing: new Set(),
    read: new Set(),
    presence: new Set(),
    conversationState: new Set(),
    error: new Set(),
  };

  private socket: WebSocketLike | null = null;
  private running = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private cursors: Record<string, Seq>;
  private outbox: OutboxEntry[];
  /** Sends in flight on this connection, by client_msg_id. */
  private readonly inFlight = new Set<string>();
  /** Promises of send() calls made in this process. */
  private readonly sendPromises = new Map<string, { resolve: (m: Message) => void; reject: (e: ChatdError) => void }>();
  /** Events that arrived ahead of a gap, per conversation, until the gap fills. */
  private readonly ahead = new Map<ConversationId, Map<Seq, ChatEvent>>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _state: ConnectionState = "offline";

  constructor(options: RealtimeOptions) {
    this.opt = {
      url: options.url,
      token: options.token,
      ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      initialMs: options.backoff?.initialMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 30_000,
    };
    this.storage = options.storage ?? new MemoryStorage();
    this.connector = options.connector ?? browserConnector;
    this.cursors = JSON.parse(this.storage.get(CURSORS) ?? "{}") as Record<string, Seq>;
    this.outbox = JSON.parse(this.storage.get(OUTBOX) ?? "[]") as OutboxEntry[];
  }

  get state(): ConnectionState {
    return this._state;
  }

  on<K extends keyof Listeners>(type: K, fn: Listeners[K]): () => void {
    (this.listeners[type] as Set<Listeners[K]>).add(fn);
    return () => (this.listeners[type] as Set<Listeners[K]>).delete(fn);
  }

  /** The last seq of a conversation handed to the app (0: none). */
  cursor(conversation: ConversationId): Seq {
    return this.cursors[String(conversation)] ?? 0;
  }

  /**
   * Start conversations at these seqs instead of 0 (a new device that loaded
   * history by REST need not replay the whole log). Never moves a cursor back.
   */
  seedCursors(cursors: Record<ConversationId, Seq>): void {
    for (const [k, v] of Object.entries(cursors)) {
      if ((this.cursors[k] ?? 0) < v) this.cursors[k] = v;
    }
    this.saveCursors();
  }

  /** Sends not yet acknowledged, oldest first (they survive reconnects and, with persistent storage, restarts). */
  pending(): readonly OutboxEntry[] {
    return this.outbox;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.reconnectTimer = this.retryTimer = null;
    const s = this.socket;
    this.dropConnection();
    try {
      s?.close(1000, "client stopped");
    } catch {
      /* never opened */
    }
    this.setState("offline");
  }

  /**
   * Queues a message; it is sent now if live, otherwise after the next
   * connect, and retried with the same client_msg_id until the server
   * acknowledges it (the server stores it once). Resolves with the stored
   * message; rejects only when the server refuses it for good. With
   * attachments (ids from ChatdRest.uploadAttachment) or a share (v1.1),
   * `body` may be "".
   */
  send(
    conversation: ConversationId,
    body: string,
    options: { replyTo?: Seq; clientMsgId?: string } & SendExtras = {},
  ): Promise<Message> {
    const entry: OutboxEntry = {
      client_msg_id: options.clientMsgId ?? newClientMsgId(),
      conversation_id: conversation,
      body,
      ...(options.replyTo !== undefined ? { reply_to: options.replyTo } : {}),
      ...(options.attachments !== undefined ? { attachments: [...options.attachments] } : {}),
      ...(options.share !== undefined ? { share: { ...options.share } } : {}),
    };
    const promise = new Promise<Message>((resolve, reject) => {
      this.sendPromises.set(entry.client_msg_id, { resolve, reject });
    });
    if (!this.outbox.some((e) => e.client_msg_id === entry.client_msg_id)) {
      this.outbox.push(entry);
      this.saveOutbox();
    }
    if (this._state === "live") this.transmit(entry);
    return promise;
  }

  /** Moves the caller's read marker; needs a live connection. */
  async markRead(conversation: ConversationId, seq: Seq): Promise<Seq> {
    const answer = await this.request({ type: "read", conversation_id: conversation, seq });
    return answer["read_seq"] as Seq;
  }

  /** Tells the other members the user is typing (the server relays at most one per 2 s). */
  typing(conversation: ConversationId): void {
    if (this._state !== "live") return;
    this.write({ type: "typing", conversation_id: conversation });
  }

  // --- connection ---

  private connect(): void {
    if (!this.running) return;
    this.setState("connecting");
    let opened: { socket: WebSocketLike; authByFrame: boolean };
    try {
      opened = this.connector(this.opt.url, this.opt.token);
    } catch {
      this.scheduleReconnect();
      return;
    }
    const { socket, authByFrame } = opened;
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.setState("open");
      if (authByFrame) {
        this.request({ type: "auth", token: this.opt.token }, "authenticated").then(
          () => this.startSync(socket),
          () => undefined, // a refused token closes the socket: see onclose
        );
      } else {
        this.startSync(socket);
      }
    };
    socket.onmessage = (ev) => {
      if (socket !== this.socket) return;
      const text = typeof ev.data === "string" ? ev.data : String(ev.data);
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    socket.onerror = () => undefined; // onclose follows
    socket.onclose = (ev) => {
      if (socket !== this.socket) return;
      this.dropConnection();
      // 1008 with a token reason: the session is gone; reconnecting cannot help.
      if (ev.code === 1008 && /token|authenticat/i.test(ev.reason)) {
        this.running = false;
        this.setState("offline");
        this.emit("error", new ChatdError(0, "unauthenticated", ev.reason || "session refused"));
        return;
      }
      this.setState("offline");
      this.scheduleReconnect();
    };
  }

  private startSync(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.setState("syncing");
    this.request({ type: "sync", cursors: { ...this.cursors } }, "synced").then(
      () => {
        if (socket !== this.socket) return;
        this.attempt = 0;
        this.setState("live");
        this.resyncGaps();
        this.startPings(socket);
        for (const entry of this.outbox) this.transmit(entry);
      },
      () => undefined,
    );
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const base = Math.min(this.opt.maxMs, this.opt.initialMs * 2 ** Math.min(this.attempt, 20));
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /** Forgets the current socket and everything tied to it (its answers, its sends in flight). */
  private dropConnection(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      // No-ops, not null: the `ws` package throws an 'error' nobody listens to.
      s.onopen = s.onmessage = s.onclose = null;
      s.onerror = () => undefined;
    }
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(new ChatdError(0, "network", "connection closed"));
    }
    this.waiters.clear();
    this.inFlight.clear();
    this.ahead.clear();
  }

  /** The socket is presumed dead: close it and reconnect. */
  private abandon(): void {
    const s = this.socket;
    if (!s) return;
    this.dropConnection();
    try {
      s.close(4000, "no answer");
    } catch {
      /* already closed */
    }
    this.setState("offline");
    this.scheduleReconnect();
  }

  private startPings(socket: WebSocketLike): void {
    this.pingTimer = setInterval(() => {
      if (socket !== this.socket) return;
      this.request({ type: "ping" }, "pong").catch(() => undefined);
    }, this.opt.pingIntervalMs);
  }

  // --- frames ---

  private write(frame: Record<string, unknown>): void {
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      /* closing; onclose handles it */
    }
  }

  /** Sends a frame with an id and waits for its answer (an error frame rejects). */
  private request(frame: Record<string, unknown>, expect?: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (!this.socket) return reject(new ChatdError(0, "network", "not connected"));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new ChatdError(0, "network", `no answer to ${String(frame["type"])} within ${this.opt.ackTimeoutMs} ms`));
        this.abandon();
      }, this.opt.ackTimeoutMs);
      this.waiters.set(id, {
        resolve: (answer) => {
          if (expect && answer["type"] !== expect) {
            return reject(new ChatdError(0, "invalid_answer", `expected ${expect}, got ${String(answer["type"])}`));
          }
          resolve(answer);
        },
        reject,
        timer,
      });
      // The auth frame is answered without an id; the first answer after it is the one.
      this.write(frame["type"] === "auth" ? frame : { ...frame, id });
    });
  }

  private onFrame(frame: Record<string, unknown>): void {
    const type = frame["type"];
    if (type === "authenticated") {
      const w = [...this.waiters.entries()][0];
      if (w) {
        this.waiters.delete(w[0]);
        clearTimeout(w[1].timer);
        w[1].resolve(frame);
      }
      return;
    }
    if (type === "event") return this.onEvent(frame["event"] as ChatEvent);
    if (type === "typing") {
      return this.emit("typing", frame["conversation_id"] as ConversationId, frame["user_id"] as UserId);
    }
    if (type === "read" && frame["id"] === undefined) {
      return this.emit("read", frame["conversation_id"] as ConversationId, frame["user_id"] as UserId, frame["seq"] as Seq);
    }
    if (type === "presence") return this.emit("presence", frame["user_id"] as UserId, frame["online"] as boolean);
    if (type === "conversation_state") return this.emit("conversationState", frame as unknown as ConversationState);
    const id = frame["id"];
    if (typeof id === "number") {
      const w = this.waiters.get(id);
      if (!w) return;
      this.waiters.delete(id);
      clearTimeout(w.timer);
      if (type === "error") {
        const e = frame["error"] as { code?: string; message?: string } | undefined;
        const retry = frame["retry_after_ms"];
        w.reject(
          new ChatdError(0, e?.code ?? "unknown", e?.message ?? "error", typeof retry === "number" ? retry / 1000 : undefined),
        );
      } else {
        w.resolve(frame);
      }
    }
  }

  // --- events: once each, in seq order per conversation ---

  private onEvent(event: ChatEvent): void {
    const conv = event.conversation_id;
    const cur = this.cursor(conv);
    if (event.seq <= cur) return; // seen before (a replay after reconnect)
    if (event.seq > cur + 1) {
      // Ahead of a gap: kept until the gap fills (a sync's back-fill may
      // arrive after live events of the same connection).
      let m = this.ahead.get(conv);
      if (!m) this.ahead.set(conv, (m = new Map()));
      m.set(event.seq, event);
      return;
    }
    this.deliver(event);
    const m = this.ahead.get(conv);
    if (!m) return;
    for (let next = this.cursor(conv) + 1; m.has(next); next++) {
      const e = m.get(next)!;
      m.delete(next);
      this.deliver(e);
    }
    for (const seq of m.keys()) if (seq <= this.cursor(conv)) m.delete(seq);
    if (m.size === 0) this.ahead.delete(conv);
  }

  private deliver(event: ChatEvent): void {
    this.cursors[String(event.conversation_id)] = event.seq;
    this.saveCursors();
    this.emit("event", event);
  }

  /** After `synced`, a conversation still waiting on a gap asks for it again. */
  private resyncGaps(): void {
    if (this.ahead.size === 0) return;
    const cursors: Record<string, Seq> = {};
    for (const conv of this.ahead.keys()) cursors[String(conv)] = this.cursor(conv);
    this.request({ type: "sync", cursors }, "synced").catch(() => undefined);
  }

  // --- the outbox ---

  private transmit(entry: OutboxEntry): void {
    if (this.inFlight.has(entry.client_msg_id) || !this.socket) return;
    this.inFlight.add(entry.client_msg_id);
    const frame: Record<string, unknown> = {
      type: "send",
      conversation_id: entry.conversation_id,
      client_msg_id: entry.client_msg_id,
      body: entry.body,
    };
    if (entry.reply_to !== undefined) frame["reply_to"] = entry.reply_to;
    if (entry.attachments !== undefined) frame["attachments"] = entry.attachments;
    if (entry.share !== undefined) frame["share"] = entry.share;
    const socket = this.socket;
    this.request(frame, "ack").then(
      (answer) => {
        this.inFlight.delete(entry.client_msg_id);
        const message = answer["message"] as Message;
        this.settle(entry, message, null);
      },
      (error: ChatdError) => {
        this.inFlight.delete(entry.client_msg_id);
        if (error.code === "network") return; // resent after the next connect
        if (error.retryable) {
          // Overload: try again later on this connection (or the next).
          const wait = Math.max(250, (error.retryAfter ?? 1) * 1000);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            if (socket === this.socket && this._state === "live") this.transmit(entry);
          }, wait);
          return;
        }
        this.settle(entry, null, error);
      },
    );
  }

  private settle(entry: OutboxEntry, message: Message | null, error: ChatdError | null): void {
    this.outbox = this.outbox.filter((e) => e.client_msg_id !== entry.client_msg_id);
    this.saveOutbox();
    const p = this.sendPromises.get(entry.client_msg_id);
    this.sendPromises.delete(entry.client_msg_id);
    if (message) {
      this.emit("ack", message, entry);
      p?.resolve(message);
    } else if (error) {
      this.emit("sendFailed", error, entry);
      p?.reject(error);
    }
  }

  // --- plumbing ---

  private setState(state: ConnectionState): void {
    if (state === this._state) return;
    this._state = state;
    this.emit("state", state);
  }

  private emit<K extends keyof Listeners>(type: K, ...args: Parameters<Listeners[K]>): void {
    for (const fn of this.listeners[type]) {
      try {
        (fn as (...a: Parameters<Listeners[K]>) => void)(...args);
      } catch (e) {
        // An app's listener must not break the connection.
        console.error("chatd listener failed", e);
      }
    }
  }

  private saveCursors(): void {
    this.storage.set(CURSORS, JSON.stringify(this.cursors));
  }

  private saveOutbox(): void {
    this.storage.set(OUTBOX, JSON.stringify(this.outbox));
  }
}
