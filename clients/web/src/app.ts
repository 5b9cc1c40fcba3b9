// The chat page: everything it knows comes from chatd through the SDK. The
// API's address comes from `?api=` (or the page's own origin).
import {
  ChatdError,
  ChatdRealtime,
  ChatdRest,
  LocalStorageStorage,
  type Attachment,
  type AttachmentId,
  type ChatEvent,
  type Conversation,
  type ConversationId,
  type Message,
  type Seq,
  type Share,
  type User,
  type UserId,
} from "@chatd/client";

const api = new URLSearchParams(location.search).get("api") ?? location.origin;
const wsUrl = api.replace(/^http/, "ws") + "/v1/ws";
const SESSION = "chatd.session";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function el(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; // never innerHTML: names and bodies are user text
  return e;
}

function errorText(e: unknown): string {
  return e instanceof ChatdError ? e.message : String(e);
}

/** What the conversation list shows of a message. */
function previewOf(m: Message): string {
  if (m.deleted) return "Message deleted";
  if (m.body) return m.body;
  if (m.attachments.length) return m.attachments[0]!.mime.startsWith("image/") ? "Photo" : "Attachment";
  if (m.share) return m.share.title || m.share.ref;
  return "";
}

const SHARE_KINDS: Record<Share["kind"], string> = { video: "Shared video", profile: "Shared profile", link: "Link" };

interface ConvState {
  conv: Conversation;
  title: string;
  peer: UserId | null; // direct conversations
  preview: string;
  unread: number;
  lastSeq: Seq;
  peerRead: Seq; // the other members' highest read marker
}

class App {
  rest = new ChatdRest({ baseUrl: api });
  rt: ChatdRealtime | null = null;
  me: User | null = null;
  users = new Map<UserId, User>();
  online = new Set<UserId>();
  convs = new Map<ConversationId, ConvState>();
  open: ConversationId | null = null;
  messages = new Map<Seq, Message>(); // of the open conversation
  pending = new Map<string, HTMLElement>(); // client_msg_id → bubble awaiting its ack
  blobUrls = new Map<AttachmentId, Promise<string>>(); // downloads need the bearer token: kept as blob: URLs
  oldest: Seq | null = null;
  typingTimer: ReturnType<typeof setTimeout> | null = null;
  lastTypingSent = 0;
  everLive = false;

  async boot(): Promise<void> {
    this.bindForms();
    const saved = localStorage.getItem(SESSION);
    if (saved) {
      const s = JSON.parse(saved) as { token: string; user: User };
      this.rest.token = s.token;
      try {
        await this.enter(await this.rest.me());
        return;
      } catch {
        localStorage.removeItem(SESSION);
        this.rest.token = undefined;
      }
    }
    $("auth").hidden = false;
  }

  bindForms(): void {
    const username = () => $<HTMLInputElement>("auth-username").value.trim();
    const password = () => $<HTMLInputElement>("auth-password").value;
    const signIn = async () => {
      $("auth-error").textContent = "";
      try {
        const { user } = await this.rest.login(username(), password());
        await this.enter(user);
      } catch (e) {
        $("auth-error").textContent = errorText(e);
      }
    };
    $("auth-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void signIn();
    });
    $("sign-up").addEventListener("click", async () => {
      $("auth-error").textContent = "";
      try {
        await this.rest.register(username(), password());
        await signIn();
      } catch (e) {
        $("auth-error").textContent = errorText(e);
      }
    });
    $("sign-out").addEventListener("click", async () => {
      this.rt?.stop();
      try {
        await this.rest.logout();
      } catch {
        /* gone already */
      }
      localStorage.removeItem(SESSION);
      location.reload();
    });
    $("new-direct").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = $<HTMLInputElement>("direct-username");
      try {
        const peer = await this.userByName(input.value.trim());
        const conv = await this.rest.openDirect(peer.id);
        input.value = "";
        await this.addConversation(conv);
        await this.openConversation(conv.id);
      } catch (e) {
        $("sidebar-error").textContent = errorText(e);
      }
    });
    $("new-group").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const title = $<HTMLInputElement>("group-title");
      const members = $<HTMLInputElement>("group-members");
      try {
        const names = members.value.split(",").map((s) => s.trim()).filter(Boolean);
        const ids = await Promise.all(names.map(async (n) => (await this.userByName(n)).id));
        const conv = await this.rest.createGroup(title.value.trim(), ids);
        title.value = members.value = "";
        await this.addConversation(conv);
        await this.openConversation(conv.id);
      } catch (e) {
        $("sidebar-error").textContent = errorText(e);
      }
    });
    const fileInput = $<HTMLInputElement>("composer-file");
    const clearFile = () => {
      fileInput.value = "";
      $("composer-attachment").hidden = true;
    };
    fileInput.addEventListener("change", () => {
      const file = fileInput.files?.[0];
      if (!file) return clearFile();
      $("composer-file-name").textContent = file.name;
      $("composer-attachment").hidden = false;
      $<HTMLInputElement>("composer-input").focus();
    });
    $("composer-file-clear").addEventListener("click", clearFile);
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = $<HTMLInputElement>("composer-input");
      const body = input.value;
      const file = fileInput.files?.[0];
      if ((!body.trim() && !file) || this.open === null) return;
      input.value = "";
      clearFile();
      if (file) void this.sendPhoto(this.open, body.trim() ? body : "", file);
      else this.sendMessage(this.open, body);
    });
    $("composer-input").addEventListener("input", () => {
      if (this.open === null || Date.now() - this.lastTypingSent < 1500) return;
      this.lastTypingSent = Date.now();
      this.rt?.typing(this.open);
    });
    $("load-older").addEventListener("click", () => void this.loadOlder());
  }

  async userByName(name: string): Promise<User> {
    const found = (await this.rest.searchUsers(name, 5)).find((u) => u.username === name);
    if (!found) throw new Error(`no user named ${name}`);
    this.users.set(found.id, found);
    return found;
  }

  async user(id: UserId): Promise<User> {
    let u = this.users.get(id);
    if (!u) {
      u = await this.rest.user(id);
      this.users.set(id, u);
    }
    return u;
  }

  async enter(me: User): Promise<void> {
    this.me = me;
    this.users.set(me.id, me);
    localStorage.setItem(SESSION, JSON.stringify({ token: this.rest.token, user: me }));
    $("auth").hidden = true;
    $("chat").hidden = false;
    $("me-name").textContent = me.display_name;
    $("me-avatar").textContent = me.display_name.slice(0, 1).toUpperCase();

    const rt = new ChatdRealtime({
      url: wsUrl,
      token: this.rest.token!,
      storage: new LocalStorageStorage(`chatd:${me.id}:`),
    });
    this.rt = rt;
    rt.on("state", (s) => this.onState(s));
    rt.on("event", (e) => void this.onEvent(e));
    rt.on("typing", (c, u) => this.onTyping(c, u));
    rt.on("read", (c, u, seq) => this.onRead(c, u, seq));
    rt.on("presence", (u, on) => {
      if (on) this.online.add(u);
      else this.online.delete(u);
      this.renderList();
      this.renderHeader();
    });
    rt.on("ack", (m) => this.onAck(m));
    rt.on("sendFailed", (e, entry) => {
      this.pending.get(entry.client_msg_id)?.querySelector(".info")?.replaceChildren(`Not sent: ${e.message}`);
    });
    rt.on("error", (e) => {
      if (e.code === "unauthenticated") {
        localStorage.removeItem(SESSION);
        location.reload();
      }
    });

    const page = await this.rest.conversations({ limit: 100 });
    // History comes by REST: the socket need only bring what is new.
    const seeds: Record<number, Seq> = {};
    for (const c of page.conversations) seeds[c.id] = c.last_seq;
    rt.seedCursors(seeds);
    for (const c of page.conversations) await this.addConversation(c);
    rt.start();
  }

  onState(s: string): void {
    const banner = $("banner");
    if (s === "live") {
      this.everLive = true;
      banner.hidden = true;
    } else if (this.everLive) {
      banner.textContent = s === "syncing" ? "Catching up…" : "Reconnecting…";
      banner.hidden = false;
    }
    $("chat").dataset["state"] = s;
  }

  async addConversation(conv: Conversation): Promise<ConvState> {
    const known = this.convs.get(conv.id);
    if (known) return known;
    const full = conv.members ? conv : await this.rest.conversation(conv.id);
    let title = full.title ?? "";
    let peer: UserId | null = null;
    if (full.kind === "direct") {
      peer = full.members?.find((m) => m.user_id !== this.me!.id)?.user_id ?? null;
      title = peer !== null ? (await this.user(peer)).display_name : "Direct";
    }
    const peerRead = Math.max(0, ...(full.members ?? []).filter((m) => m.user_id !== this.me!.id).map((m) => m.read_seq ?? 0));
    const state: ConvState = {
      conv: full,
      title,
      peer,
      preview: full.last_message ? previewOf(full.last_message) : "",
      unread: full.unread_count,
      lastSeq: full.last_seq,
      peerRead,
    };
    this.convs.set(conv.id, state);
    this.renderList();
    return state;
  }

  listItems = new Map<ConversationId, HTMLElement>();

  /** Updates the list in place (one element per conversation, moved into order), so a click never lands on a node that was just replaced. */
  renderList(): void {
    const list = $("conversations");
    const items = [...this.convs.values()].sort((a, b) => b.lastSeq - a.lastSeq || b.conv.id - a.conv.id);
    items.forEach((c, index) => {
      let li = this.listItems.get(c.conv.id);
      if (!li) {
        li = el("li", "conv");
        li.dataset["id"] = String(c.conv.id);
        const id = c.conv.id;
        li.addEventListener("click", () => void this.openConversation(id));
        this.listItems.set(id, li);
      }
      li.className = "conv" + (c.conv.id === this.open ? " active" : "");
      li.dataset["title"] = c.title;
      const avatar = el("span", "avatar", c.title.slice(0, 1).toUpperCase());
      if (c.peer !== null) {
        const dot = el("span", "dot" + (this.online.has(c.peer) ? " online" : ""));
        dot.title = this.online.has(c.peer) ? "online" : "offline";
        avatar.append(dot);
      }
      const meta = el("div", "meta");
      meta.append(el("div", "name", c.title), el("div", "preview", c.preview));
      const children: HTMLElement[] = [avatar, meta];
      if (c.unread > 0) children.push(el("span", "badge", String(c.unread)));
      li.replaceChildren(...children);
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    });
  }

  renderHeader(): void {
    const c = this.open !== null ? this.convs.get(this.open) : undefined;
    if (!c) return;
    $("thread-title").textContent = c.title;
    const avatar = $("thread-avatar");
    avatar.replaceChildren(c.title.slice(0, 1).toUpperCase());
    let status = c.conv.kind === "group" ? `${c.conv.members?.length ?? 0} members` : "";
    if (c.peer !== null) {
      const on = this.online.has(c.peer);
      const dot = el("span", "dot" + (on ? " online" : ""));
      avatar.append(dot);
      status = on ? "Online" : "Offline";
    }
    $("thread-status").textContent = status;
  }

  async openConversation(id: ConversationId): Promise<void> {
    this.open = id;
    this.messages.clear();
    this.pending.clear();
    this.oldest = null;
    $("message-list").replaceChildren();
    $("typing").textContent = "";
    $("composer").hidden = false;
    this.renderHeader();
    const page = await this.rest.history(id, { limit: 30 });
    if (this.open !== id) return;
    for (const m of page.items) this.placeMessage(m);
    this.oldest = page.items[0]?.seq ?? null;
    $("load-older").hidden = !page.has_more;
    this.scrollToEnd();
    await this.markRead();
    $<HTMLInputElement>("composer-input").focus();
  }

  async loadOlder(): Promise<void> {
    if (this.open === null || this.oldest === null) return;
    const id = this.open;
    const box = $("messages");
    const before = box.scrollHeight;
    const page = await this.rest.history(id, { before: this.oldest, limit: 30 });
    if (this.open !== id) return;
    for (const m of page.items) this.placeMessage(m);
    this.oldest = page.items[0]?.seq ?? this.oldest;
    $("load-older").hidden = !page.has_more;
    box.scrollTop += box.scrollHeight - before; // keep the reader's place
  }

  /** Puts a message where its seq says, replacing an earlier copy. */
  placeMessage(m: Message): void {
    this.messages.set(m.seq, m);
    const node = this.renderMessage(m);
    const list = $("message-list");
    const existing = list.querySelector(`[data-seq="${m.seq}"]`);
    if (existing) return existing.replaceWith(node);
    const pendingNode = this.pending.get(m.client_msg_id);
    if (pendingNode && m.sender_id === this.me!.id) {
      this.pending.delete(m.client_msg_id);
      pendingNode.remove();
    }
    const after = [...list.querySelectorAll<HTMLElement>("[data-seq]")].find((n) => Number(n.dataset["seq"]) > m.seq);
    if (after) after.before(node);
    else {
      const firstPending = list.querySelector(".msg.pending");
      if (firstPending) firstPending.before(node);
      else list.append(node);
    }
  }

  renderMessage(m: Message): HTMLElement {
    const mine = m.sender_id === this.me!.id;
    const node = el("div", "msg " + (mine ? "mine" : "theirs") + (m.deleted ? " deleted" : ""));
    node.dataset["seq"] = String(m.seq);
    const conv = this.convs.get(m.conversation_id);
    if (!mine && conv?.conv.kind === "group") node.append(el("div", "sender", this.users.get(m.sender_id)?.display_name ?? "…"));
    if (!m.deleted) {
      for (const a of m.attachments) node.append(this.renderAttachment(a));
      if (m.share) node.append(this.renderShare(m.share));
    }
    if (m.deleted || m.body || (!m.attachments.length && !m.share)) {
      node.append(el("div", "bubble", m.deleted ? "Message deleted" : m.body));
    }
    const time = new Date(m.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const info = el("div", "info", time + (m.edited_at ? " · edited" : ""));
    if (mine) {
      const seen = (conv?.peerRead ?? 0) >= m.seq;
      const receipt = el("span", "receipt", seen ? " · Seen" : " · Sent");
      receipt.dataset["seen"] = String(seen);
      info.append(receipt);
    }
    node.append(info);
    return node;
  }

  /** An image inline (fetched with the token into a blob: URL); any other type as a download link. */
  renderAttachment(a: Attachment): HTMLElement {
    if (a.mime.startsWith("image/")) {
      const img = document.createElement("img");
      img.className = "photo";
      img.alt = "Photo";
      img.dataset["attachment"] = String(a.id);
      this.attachmentUrl(a.id).then(
        (url) => (img.src = url),
        () => img.replaceWith(el("div", "file muted", "Photo unavailable")),
      );
      return img;
    }
    const link = el("a", "file", `Download ${a.mime.split("/")[1] ?? "file"} (${Math.ceil(a.size / 1024)} KB)`) as HTMLAnchorElement;
    link.href = "#";
    link.download = `attachment-${a.id}.${a.mime === "audio/mpeg" ? "mp3" : (a.mime.split("/")[1] ?? "bin")}`;
    link.addEventListener("click", async (ev) => {
      if (link.href.startsWith("blob:")) return;
      ev.preventDefault();
      try {
        link.href = await this.attachmentUrl(a.id);
        link.click();
      } catch (e) {
        link.textContent = `Download failed: ${errorText(e)}`;
      }
    });
    return link;
  }

  renderShare(share: Share): HTMLElement {
    const card = el("div", "share");
    card.append(el("div", "kind", SHARE_KINDS[share.kind] ?? share.kind));
    const title = share.title || share.ref;
    if (share.kind === "link" && /^https:\/\//i.test(share.ref)) {
      const a = el("a", "", title) as HTMLAnchorElement;
      a.href = share.ref;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      card.append(a);
    } else {
      card.append(el("div", "", title));
    }
    return card;
  }

  attachmentUrl(id: AttachmentId): Promise<string> {
    let url = this.blobUrls.get(id);
    if (!url) {
      url = this.rest.downloadAttachment(id).then((d) => URL.createObjectURL(new Blob([d.data], { type: d.mime })));
      url.catch(() => this.blobUrls.delete(id)); // tried again on the next render
      this.blobUrls.set(id, url);
    }
    return url;
  }

  /** Shows the photo at once (from the file itself), uploads it, then sends it like any message. */
  async sendPhoto(conv: ConversationId, body: string, file: File): Promise<void> {
    const local = URL.createObjectURL(file);
    const node = el("div", "msg mine pending");
    const img = document.createElement("img");
    img.className = "photo";
    img.alt = "Photo";
    img.src = local;
    node.append(img);
    if (body) node.append(el("div", "bubble", body));
    node.append(el("div", "info", "Uploading…"));
    $("message-list").append(node);
    this.scrollToEnd();
    let attachment: Attachment;
    try {
      attachment = await this.rest.uploadAttachment(file, file.type);
    } catch (e) {
      node.querySelector(".info")!.textContent = `Not sent: ${errorText(e)}`;
      URL.revokeObjectURL(local);
      return;
    }
    this.blobUrls.set(attachment.id, Promise.resolve(local)); // no need to download what we have
    this.sendMessage(conv, body, [attachment.id], node);
  }

  sendMessage(conv: ConversationId, body: string, attachments: AttachmentId[] = [], node?: HTMLElement): void {
    const rt = this.rt!;
    const promise = rt.send(conv, body, attachments.length ? { attachments } : {});
    const entry = rt.pending()[rt.pending().length - 1]!;
    if (!node) {
      node = el("div", "msg mine pending");
      node.append(el("div", "bubble", body), el("div", "info", "Sending…"));
    } else {
      node.querySelector(".info")!.textContent = "Sending…";
    }
    if (conv !== this.open) return void promise.catch(() => undefined); // the user moved on during an upload
    this.pending.set(entry.client_msg_id, node);
    if (!node.isConnected) $("message-list").append(node);
    this.scrollToEnd();
    promise.catch(() => undefined);
  }

  onAck(m: Message): void {
    if (m.conversation_id === this.open) this.placeMessage(m);
  }

  async onEvent(e: ChatEvent): Promise<void> {
    let c = this.convs.get(e.conversation_id);
    if (!c) {
      // A conversation that began while we were away, or someone added us.
      c = await this.addConversation(await this.rest.conversation(e.conversation_id));
    }
    c.lastSeq = Math.max(c.lastSeq, e.seq);
    const isOpen = e.conversation_id === this.open;
    if (e.kind === "message.created") {
      const m = e.data as unknown as Message;
      if (!this.users.has(m.sender_id)) await this.user(m.sender_id);
      c.preview = previewOf(m);
      if (isOpen) {
        this.placeMessage(m);
        this.scrollToEnd();
        if (m.sender_id !== this.me!.id) {
          $("typing").textContent = "";
          if (document.visibilityState !== "hidden") await this.markRead();
        }
      } else if (m.sender_id !== this.me!.id) {
        c.unread += 1;
      }
    } else if (e.kind === "message.edited" || e.kind === "message.deleted") {
      const seq = Number(e.data["seq"]);
      const old = this.messages.get(seq);
      if (isOpen && old) {
        const deleted = e.kind === "message.deleted";
        const body = deleted ? "" : String(e.data["body"]);
        this.placeMessage({
          ...old,
          body,
          deleted,
          edited_at: old.edited_at ?? e.created_at,
          ...(deleted ? { attachments: [], share: null } : {}),
        });
      }
    } else if (e.kind === "conversation.updated" && typeof e.data["title"] === "string") {
      c.title = e.data["title"];
      if (isOpen) this.renderHeader();
    }
    this.renderList();
  }

  async markRead(): Promise<void> {
    if (this.open === null) return;
    const c = this.convs.get(this.open);
    if (!c) return;
    const last = Math.max(0, ...this.messages.keys());
    if (last === 0) return;
    c.unread = 0;
    this.renderList();
    try {
      await this.rest.markRead(c.conv.id, last);
    } catch {
      /* retried on the next message */
    }
  }

  onTyping(conv: ConversationId, user: UserId): void {
    if (conv !== this.open || user === this.me!.id) return;
    const name = this.users.get(user)?.display_name ?? "Someone";
    $("typing").textContent = `${name} is typing…`;
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => ($("typing").textContent = ""), 4000);
  }

  onRead(conv: ConversationId, user: UserId, seq: Seq): void {
    const c = this.convs.get(conv);
    if (!c || user === this.me!.id) return;
    c.peerRead = Math.max(c.peerRead, seq);
    if (conv !== this.open) return;
    for (const m of this.messages.values()) {
      if (m.sender_id === this.me!.id && m.seq <= c.peerRead) this.placeMessage(m);
    }
  }

  scrollToEnd(): void {
    const box = $("messages");
    box.scrollTop = box.scrollHeight;
  }
}

void new App().boot();
