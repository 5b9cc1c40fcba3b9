// Typed calls for every REST route of chatd (docs/api.md).
import { ChatdError, errorFrom } from "./errors.js";
import type {
  Attachment,
  AttachmentId,
  Block,
  ChatEvent,
  Conversation,
  ConversationId,
  Folder,
  Message,
  Page,
  Role,
  SearchPage,
  SendExtras,
  Seq,
  Settings,
  User,
  UserId,
} from "./models.js";

export interface RestOptions {
  /** The server's base URL, e.g. "https://chat.example.com". */
  baseUrl: string;
  /** A session token (from login), sent as a bearer token. */
  token?: string;
  /** fetch to use; defaults to the global one (browsers, Node 18+). */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

/** Options of a REST send: a reply, attachments, a share (v1.1). */
export interface SendOptions extends SendExtras {
  replyTo?: Seq;
}

/** A downloaded attachment (all of it, or the range asked for). */
export interface Download {
  data: ArrayBuffer;
  mime: string;
  /** The strong ETag (the quoted sha256). */
  etag: string | null;
  /** With a range answered 206: which bytes these are (inclusive) and the file's size. */
  range?: { start: number; end: number; size: number };
}

export class ChatdRest {
  private readonly baseUrl: string;
  private readonly doFetch: typeof fetch;
  token: string | undefined;

  constructor(options: RestOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    this.doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  // Accounts
  register(username: string, password: string, displayName?: string): Promise<User> {
    return this.call<{ user: User }>("POST", "/v1/users", {
      username,
      password,
      ...(displayName !== undefined ? { display_name: displayName } : {}),
    }).then((r) => r.user);
  }
  /** Logs in and keeps the token for later calls. */
  async login(username: string, password: string): Promise<{ token: string; user: User }> {
    const r = await this.call<{ token: string; user: User }>("POST", "/v1/sessions", { username, password });
    this.token = r.token;
    return r;
  }
  async logout(): Promise<void> {
    await this.call("DELETE", "/v1/sessions/current");
    this.token = undefined;
  }
  me(): Promise<User> {
    return this.call<{ user: User }>("GET", "/v1/users/me").then((r) => r.user);
  }
  user(id: UserId): Promise<User> {
    return this.call<{ user: User }>("GET", `/v1/users/${id}`).then((r) => r.user);
  }
  searchUsers(prefix: string, limit?: number): Promise<User[]> {
    return this.call<{ users: User[] }>("GET", "/v1/users", undefined, { prefix, limit }).then((r) => r.users);
  }
  blocks(): Promise<Block[]> {
    return this.call<{ blocks: Block[] }>("GET", "/v1/users/me/blocks").then((r) => r.blocks);
  }
  block(user: UserId): Promise<void> {
    return this.call<void>("PUT", `/v1/users/me/blocks/${user}`);
  }
  unblock(user: UserId): Promise<void> {
    return this.call<void>("DELETE", `/v1/users/me/blocks/${user}`);
  }
  settings(): Promise<Settings> {
    return this.call<{ settings: Settings }>("GET", "/v1/users/me/settings").then((r) => r.settings);
  }
  /** Changes the given fields only; resolves with the settings after the change. */
  updateSettings(change: Partial<Settings>): Promise<Settings> {
    return this.call<{ settings: Settings }>("PATCH", "/v1/users/me/settings", change).then((r) => r.settings);
  }

  // Conversations
  openDirect(peer: UserId): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("POST", "/v1/conversations", {
      kind: "direct",
      peer_id: peer,
    }).then((r) => r.conversation);
  }
  createGroup(title: string, memberIds: UserId[] = []): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("POST", "/v1/conversations", {
      kind: "group",
      title,
      member_ids: memberIds,
    }).then((r) => r.conversation);
  }
  /** One page of the caller's conversations; `folder` "requests" lists message requests. */
  conversations(options: { folder?: Folder; limit?: number; cursor?: string } = {}): Promise<{
    conversations: Conversation[];
    next_cursor: string | null;
  }> {
    return this.call("GET", "/v1/conversations", undefined, options);
  }
  conversation(id: ConversationId): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("GET", `/v1/conversations/${id}`).then((r) => r.conversation);
  }
  rename(id: ConversationId, title: string): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("PATCH", `/v1/conversations/${id}`, { title }).then(
      (r) => r.conversation,
    );
  }
  addMember(id: ConversationId, user: UserId): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("POST", `/v1/conversations/${id}/members`, {
      user_id: user,
    }).then((r) => r.conversation);
  }
  /** Owner only: "admin" or "member"; "owner" hands ownership over. */
  setRole(id: ConversationId, user: UserId, role: Role): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("PATCH", `/v1/conversations/${id}/members/${user}`, {
      role,
    }).then((r) => r.conversation);
  }
  /** Mutes for the caller until `until` (RFC 3339), or until unmuted. */
  mute(id: ConversationId, until?: string): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>(
      "PUT",
      `/v1/conversations/${id}/mute`,
      until !== undefined ? { until } : undefined,
    ).then((r) => r.conversation);
  }
  unmute(id: ConversationId): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("DELETE", `/v1/conversations/${id}/mute`).then(
      (r) => r.conversation,
    );
  }
  /** Moves a message request (declined or not) to the inbox. */
  accept(id: ConversationId): Promise<Conversation> {
    return this.call<{ conversation: Conversation }>("POST", `/v1/conversations/${id}/accept`).then(
      (r) => r.conversation,
    );
  }
  /** Declines a message request (409 `not_a_request` on an inbox conversation). */
  decline(id: ConversationId): Promise<void> {
    return this.call<void>("POST", `/v1/conversations/${id}/decline`);
  }
  removeMember(id: ConversationId, user: UserId): Promise<void> {
    return this.call<void>("DELETE", `/v1/conversations/${id}/members/${user}`);
  }
  markRead(id: ConversationId, seq: Seq): Promise<Seq> {
    return this.call<{ read_seq: Seq }>("POST", `/v1/conversations/${id}/read`, { seq }).then((r) => r.read_seq);
  }

  // Messages and the log
  /**
   * Safe to retry with the same clientMsgId: the server stores it once. The
   * fourth argument is the seq replied to, or the options (v1.1: attachments
   * and a share; with either, `body` may be "").
   */
  send(
    id: ConversationId,
    clientMsgId: string,
    body: string,
    options?: Seq | SendOptions,
  ): Promise<{ message: Message; created: boolean }> {
    const o: SendOptions = typeof options === "number" ? { replyTo: options } : (options ?? {});
    return this.callWithStatus<{ message: Message }>("POST", `/v1/conversations/${id}/messages`, {
      client_msg_id: clientMsgId,
      body,
      ...(o.replyTo !== undefined ? { reply_to: o.replyTo } : {}),
      ...(o.attachments !== undefined ? { attachments: o.attachments } : {}),
      ...(o.share !== undefined ? { share: o.share } : {}),
    }).then(([status, r]) => ({ message: r.message, created: status === 201 }));
  }
  /** Without bounds the newest page; `before` pages back, `after` forward. */
  history(id: ConversationId, options: { before?: Seq; after?: Seq; limit?: number } = {}): Promise<Page<Message>> {
    return this.call<{ messages: Message[]; has_more: boolean }>(
      "GET",
      `/v1/conversations/${id}/messages`,
      undefined,
      options,
    ).then((r) => ({ items: r.messages, has_more: r.has_more }));
  }
  edit(id: ConversationId, seq: Seq, body: string): Promise<Message> {
    return this.call<{ message: Message }>("PATCH", `/v1/conversations/${id}/messages/${seq}`, { body }).then(
      (r) => r.message,
    );
  }
  remove(id: ConversationId, seq: Seq): Promise<Message> {
    return this.call<{ message: Message }>("DELETE", `/v1/conversations/${id}/messages/${seq}`).then((r) => r.message);
  }
  react(id: ConversationId, seq: Seq, emoji: string, add = true): Promise<Message> {
    const path = `/v1/conversations/${id}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`;
    return this.call<{ message: Message }>(add ? "PUT" : "DELETE", path).then((r) => r.message);
  }
  events(id: ConversationId, after: Seq = 0, limit?: number): Promise<Page<ChatEvent>> {
    return this.call<{ events: ChatEvent[]; has_more: boolean }>(
      "GET",
      `/v1/conversations/${id}/events`,
      undefined,
      { after, limit },
    ).then((r) => ({ items: r.events, has_more: r.has_more }));
  }

  // Attachments (v1.1)
  /**
   * Uploads a file (at most the server's --attachment-limit, 25 MiB by
   * default) as `mime`, one of AttachmentMime; the bytes must match it (a PNG
   * starts with the PNG signature...), else 415 `unsupported_media_type`.
   * Send its id in a message's `attachments` within 24 hours.
   */
  uploadAttachment(data: Blob | ArrayBuffer | Uint8Array, mime: string): Promise<Attachment> {
    // (TypeScript types a Uint8Array as possibly shared memory, which Blob refuses; ordinary ones are fine.)
    const body = data instanceof Blob ? data : new Blob([data as BlobPart]);
    return this.fetchOk("POST", "/v1/attachments", { body, contentType: mime })
      .then((res) => this.parse<{ attachment: Attachment }>(res))
      .then((r) => r.attachment);
  }
  /**
   * The bytes of an attachment the caller may read (404 otherwise).
   * `range: [start, end?]` asks for bytes start..end inclusive (to the end
   * without `end`), as HTTP ranges do; 416 `range_not_satisfiable` past the end.
   */
  async downloadAttachment(id: AttachmentId, options: { range?: [number, number?] } = {}): Promise<Download> {
    const headers: Record<string, string> = {};
    if (options.range) {
      const [start, end] = options.range;
      headers["Range"] = `bytes=${start}-${end ?? ""}`;
    }
    const res = await this.fetchOk("GET", `/v1/attachments/${id}`, { headers });
    let data: ArrayBuffer;
    try {
      data = await res.arrayBuffer();
    } catch (e) {
      throw new ChatdError(0, "network", `download cut off: ${(e as Error).message}`);
    }
    const out: Download = {
      data,
      mime: res.headers.get("Content-Type") ?? "application/octet-stream",
      etag: res.headers.get("ETag"),
    };
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("Content-Range") ?? "");
    if (res.status === 206 && m) out.range = { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) };
    return out;
  }

  // Search (v1.1)
  /**
   * Messages of the caller's conversations (or of `conversationId` only) that
   * match every term of `q` (1..200 characters, at most 8 terms split at white
   * space), newest first. A term starting with a Latin letter or digit matches
   * a word's beginning, any other term (CJK, emoji, punctuation) a substring;
   * case never matters. Pass `next_cursor` back as `cursor` for the next page.
   */
  searchMessages(options: {
    q: string;
    conversationId?: ConversationId;
    limit?: number;
    cursor?: string;
  }): Promise<SearchPage> {
    return this.call<SearchPage>("GET", "/v1/search/messages", undefined, {
      q: options.q,
      conversation_id: options.conversationId,
      limit: options.limit,
      cursor: options.cursor,
    });
  }

  // Ops
  health(): Promise<{ status: string }> {
    return this.call("GET", "/healthz");
  }

  async call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    return (await this.callWithStatus<T>(method, path, body, query))[1];
  }

  private async callWithStatus<T>(method: string, path: string, body?: unknown, query?: Query): Promise<[number, T]> {
    const res = await this.fetchOk(
      method,
      path,
      body === undefined ? {} : { body: JSON.stringify(body), contentType: "application/json" },
      query,
    );
    return [res.status, await this.parse<T>(res)];
  }

  /** One request with the bearer token; a non-2xx answer throws its ChatdError. */
  private async fetchOk(
    method: string,
    path: string,
    init: { body?: string | Blob; contentType?: string; headers?: Record<string, string> },
    query?: Query,
  ): Promise<Response> {
    let url = this.baseUrl + path;
    const q = Object.entries(query ?? {}).filter(([, v]) => v !== undefined);
    if (q.length) url += "?" + new URLSearchParams(q.map(([k, v]) => [k, String(v)])).toString();
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers["Authorization"] = `Bearer ${this.token}`;
    if (init.contentType !== undefined) headers["Content-Type"] = init.contentType;
    let res: Response;
    try {
      res = await this.doFetch(url, { method, headers, body: init.body });
    } catch (e) {
      throw new ChatdError(0, "network", `cannot reach chatd: ${(e as Error).message}`);
    }
    if (!res.ok) {
      const ra = res.headers.get("Retry-After");
      const body = await this.parse(res).catch(() => undefined);
      throw errorFrom(res.status, body, ra !== null && ra !== "" ? Number(ra) : undefined);
    }
    return res;
  }

  /** The answer's JSON, or undefined for an empty or non-JSON body. */
  private async parse<T>(res: Response): Promise<T> {
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new ChatdError(0, "network", `answer cut off: ${(e as Error).message}`);
    }
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return parsed as T;
  }
}
