// The SDK against a real chatd: REST calls and typed errors; realtime
// delivery once and in order through kill -9 and restart; an offline send
// delivered once after reconnect; the outbox surviving a client restart;
// attachments uploaded, sent, received and downloaded whole and by range.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";

import {
  ChatdError,
  ChatdRealtime,
  ChatdRest,
  MemoryStorage,
  type ChatEvent,
  type ConnectionState,
  type Message,
} from "../src/index.js";
import { nodeConnector } from "../src/node.js";
import { Chatd, createDatabase, freePort, haveServer, pngBytes, until } from "./harness.js";

const skip = haveServer();

async function account(base: string, name: string): Promise<ChatdRest> {
  const rest = new ChatdRest({ baseUrl: base });
  await rest.register(name, `password-${name}`);
  await rest.login(name, `password-${name}`);
  return rest;
}

function realtime(server: Chatd, rest: ChatdRest, storage = new MemoryStorage()): ChatdRealtime {
  return new ChatdRealtime({
    url: server.wsUrl,
    token: rest.token!,
    storage,
    connector: nodeConnector,
    backoff: { initialMs: 100, maxMs: 1000 },
    ackTimeoutMs: 5000,
  });
}

/** Collects a client's message events per conversation, checking order and uniqueness on the way. */
function recorder(rt: ChatdRealtime): { bodies: string[]; seqs: Map<number, number[]> } {
  const out = { bodies: [] as string[], seqs: new Map<number, number[]>() };
  rt.on("event", (e: ChatEvent) => {
    const list = out.seqs.get(e.conversation_id) ?? [];
    const last = list[list.length - 1] ?? 0;
    assert.equal(e.seq, last + 1, `events of ${e.conversation_id} in seq order, none twice`);
    list.push(e.seq);
    out.seqs.set(e.conversation_id, list);
    if (e.kind === "message.created") out.bodies.push(String(e.data["body"]));
  });
  return out;
}

describe("chatd SDK", { skip, timeout: 120_000 }, () => {
  let server: Chatd;

  before(async () => {
    server = new Chatd(createDatabase(), await freePort());
    await server.start();
  });
  after(async () => {
    await server?.stop();
  });

  it("calls every kind of route and turns errors into typed ChatdErrors", { timeout: 60_000 }, async () => {
    const ann = await account(server.baseUrl, "sdk_ann");
    const bob = await account(server.baseUrl, "sdk_bob");
    const bobUser = await bob.me();
    assert.equal(bobUser.username, "sdk_bob");

    const conv = await ann.openDirect(bobUser.id);
    assert.equal(conv.kind, "direct");
    const first = await ann.send(conv.id, "c-1", "hello bob");
    assert.equal(first.created, true);
    const again = await ann.send(conv.id, "c-1", "hello bob");
    assert.equal(again.created, false, "the same client_msg_id is stored once");
    assert.equal(again.message.seq, first.message.seq);

    const history = await bob.history(conv.id);
    assert.deepEqual(history.items.map((m) => m.body), ["hello bob"]);
    const list = await bob.conversations();
    assert.equal(list.conversations[0]?.unread_count, 1);
    assert.equal(await bob.markRead(conv.id, first.message.seq), first.message.seq);
    const reacted = await bob.react(conv.id, first.message.seq, "👍");
    assert.deepEqual(reacted.reactions, { "👍": 1 });
    const group = await ann.createGroup("SDK team", [bobUser.id]);
    assert.equal((await ann.rename(group.id, "Renamed")).title, "Renamed");
    await assert.rejects(bob.rename(group.id, "Mine"), (e: unknown) => e instanceof ChatdError && e.code === "forbidden");
    assert.ok((await ann.events(conv.id)).items.length >= 2);
    assert.equal((await ann.searchUsers("sdk_")).length, 2);

    await assert.rejects(new ChatdRest({ baseUrl: server.baseUrl }).me(), (e: unknown) => {
      assert.ok(e instanceof ChatdError);
      assert.equal(e.status, 401);
      assert.equal(e.code, "unauthenticated");
      return true;
    });
    await assert.rejects(ann.register("sdk_ann", "password-x"), (e: unknown) => {
      assert.ok(e instanceof ChatdError);
      assert.equal(e.status, 409);
      assert.equal(e.code, "username_taken");
      return true;
    });
    await assert.rejects(ann.conversation(999_999), (e: unknown) => e instanceof ChatdError && e.code === "not_found");
  });

  it("delivers every message once and in order through kill -9 and a restart", { timeout: 60_000 }, async () => {
    const ann = await account(server.baseUrl, "kill_ann");
    const bob = await account(server.baseUrl, "kill_bob");
    const conv = await ann.openDirect((await bob.me()).id);
    const a = realtime(server, ann);
    const b = realtime(server, bob);
    const states: ConnectionState[] = [];
    b.on("state", (s) => states.push(s));
    const got = recorder(b);
    a.start();
    b.start();
    await until(() => a.state === "live" && b.state === "live", 15_000, "both live");

    const sent: string[] = [];
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push(`before ${i}`);
      acks.push(a.send(conv.id, `before ${i}`));
    }
    await Promise.all(acks);
    await until(() => got.bodies.length >= 20, 15_000, "the first 20");

    await server.kill();
    await until(() => a.state !== "live" && b.state !== "live", 10_000, "both to notice");
    // Sent while the server is down: queued in the outbox.
    const offline: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(`offline ${i}`);
      offline.push(a.send(conv.id, `offline ${i}`));
    }
    assert.equal(a.pending().length, 5);
    await new Promise((r) => setTimeout(r, 500));
    await server.start();
    await Promise.all(offline);
    for (let i = 0; i < 10; i++) {
      sent.push(`after ${i}`);
      await a.send(conv.id, `after ${i}`);
    }
    await until(() => got.bodies.length >= sent.length, 20_000, "every message");
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    assert.deepEqual(got.bodies, sent, "each message once, in order");
    assert.equal(a.pending().length, 0);
    assert.ok(states.includes("offline") && states.includes("syncing") && states.at(-1) === "live", states.join(","));
    const history = await bob.history(conv.id, { limit: 200 });
    assert.equal(history.items.length, sent.length, "stored once each");
    a.stop();
    b.stop();
  });

  it("keeps an unacknowledged send across a client restart and delivers it once", { timeout: 60_000 }, async () => {
    const ann = await account(server.baseUrl, "box_ann");
    const bob = await account(server.baseUrl, "box_bob");
    const conv = await ann.openDirect((await bob.me()).id);
    const storage = new MemoryStorage();
    // A client that never connects (its server is away) queues the send...
    const down = new ChatdRealtime({
      url: `ws://127.0.0.1:${await freePort()}/v1/ws`,
      token: ann.token!,
      storage,
      connector: nodeConnector,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    down.start();
    void down.send(conv.id, "from the outbox").catch(() => undefined);
    const id = down.pending()[0]?.client_msg_id;
    assert.ok(id);
    down.stop();
    // ...and the app, restarted on the same storage, sends it with the same id.
    const up = realtime(server, ann, storage);
    assert.equal(up.pending().length, 1);
    const acked = new Promise<string>((resolve) => up.on("ack", (m) => resolve(m.client_msg_id)));
    up.start();
    assert.equal(await acked, id);
    assert.equal(up.pending().length, 0);
    // Sent again by hand with the same id: still one message.
    await ann.send(conv.id, id!, "from the outbox");
    const history = await bob.history(conv.id);
    assert.deepEqual(history.items.map((m) => m.body), ["from the outbox"]);
    up.stop();
  });

  it("reports typing, read markers and presence", { timeout: 60_000 }, async () => {
    const ann = await account(server.baseUrl, "live_ann");
    const bob = await account(server.baseUrl, "live_bob");
    const annId = (await ann.me()).id;
    const conv = await ann.openDirect((await bob.me()).id);
    const a = realtime(server, ann);
    const b = realtime(server, bob);
    const presence: Array<[number, boolean]> = [];
    const typing: number[] = [];
    const reads: number[] = [];
    b.on("presence", (u, online) => presence.push([u, online]));
    b.on("typing", (c, u) => c === conv.id && typing.push(u));
    b.on("read", (c, _u, seq) => c === conv.id && reads.push(seq));
    b.start();
    await until(() => b.state === "live", 10_000, "bob live");
    a.start();
    await until(() => a.state === "live", 10_000, "ann live");
    await until(() => presence.some(([u, on]) => u === annId && on), 10_000, "ann online");
    const m = await a.send(conv.id, "read me");
    // The conversation's stream must be known to ann's socket before typing is relayed.
    await until(() => a.cursor(conv.id) >= m.seq, 10_000, "ann sees her message");
    a.typing(conv.id);
    await until(() => typing.includes(annId), 10_000, "typing");
    await b.markRead(conv.id, m.seq);
    a.on("read", () => undefined);
    a.stop();
    await until(() => presence.some(([u, on]) => u === annId && !on), 10_000, "ann offline");
    b.stop();
  });

  it("uploads a photo, sends it both ways, and the peer receives it live and downloads the same bytes", { timeout: 60_000 }, async () => {
    const ann = await account(server.baseUrl, "att_ann");
    const bob = await account(server.baseUrl, "att_bob");
    const carol = await account(server.baseUrl, "att_carol");
    const conv = await ann.openDirect((await bob.me()).id);
    const png = pngBytes(2, 2);
    const sha256 = createHash("sha256").update(png).digest("hex");

    const photo = await ann.uploadAttachment(png, "image/png");
    assert.equal(photo.mime, "image/png");
    assert.equal(photo.size, png.length);
    assert.equal(photo.sha256, sha256);
    // A Blob and an ArrayBuffer upload the same way.
    const asBlob = await ann.uploadAttachment(new Blob([png]), "image/png");
    const asBuffer = await ann.uploadAttachment(png.slice().buffer, "image/png");
    assert.deepEqual([asBlob.sha256, asBuffer.sha256], [sha256, sha256]);

    const a = realtime(server, ann);
    const b = realtime(server, bob);
    const received: Message[] = [];
    b.on("event", (e: ChatEvent) => {
      if (e.kind === "message.created") received.push(e.data as unknown as Message);
    });
    a.start();
    b.start();
    await until(() => a.state === "live" && b.state === "live", 15_000, "both live");

    // Over the socket: a photo and no text.
    const sent = await a.send(conv.id, "", { attachments: [photo.id] });
    assert.equal(sent.body, "");
    assert.deepEqual(sent.attachments, [photo]);
    assert.equal(sent.share, null);
    // Over REST: text, the photo again, and a share.
    const share = { kind: "link" as const, ref: "https://example.com/clip", title: "A clip" };
    const viaRest = await ann.send(conv.id, "att-rest-1", "look", { attachments: [asBlob.id], share });
    assert.equal(viaRest.created, true);
    assert.deepEqual(viaRest.message.attachments.map((x) => x.id), [asBlob.id]);
    assert.deepEqual(viaRest.message.share, share);
    const shareOnly = await ann.send(conv.id, "att-rest-2", "", { share: { kind: "profile", ref: "@att_ann" } });
    assert.deepEqual(shareOnly.message.share, { kind: "profile", ref: "@att_ann", title: "" });

    await until(() => received.length >= 3, 15_000, "bob receives the three messages");
    assert.deepEqual(received[0]?.attachments, [photo], "the attachment arrives with the message");
    assert.deepEqual(received[1]?.share, share);
    const history = await bob.history(conv.id);
    assert.deepEqual(history.items.map((m) => m.attachments.length), [1, 1, 0]);

    // Bob, a member, downloads the same bytes; then a range of them.
    const whole = await bob.downloadAttachment(photo.id);
    assert.equal(whole.mime, "image/png");
    assert.equal(whole.etag, `"${sha256}"`);
    assert.deepEqual(new Uint8Array(whole.data), png);
    assert.equal(whole.range, undefined);
    const part = await bob.downloadAttachment(photo.id, { range: [1, 3] });
    assert.deepEqual(new Uint8Array(part.data), png.slice(1, 4), "bytes 1..3, inclusive");
    assert.deepEqual(part.range, { start: 1, end: 3, size: png.length });
    const tail = await bob.downloadAttachment(photo.id, { range: [png.length - 12] });
    assert.deepEqual(new Uint8Array(tail.data), png.slice(-12), "the IEND chunk");
    await assert.rejects(bob.downloadAttachment(photo.id, { range: [png.length + 10] }), (e: unknown) => {
      assert.ok(e instanceof ChatdError);
      assert.equal(e.status, 416);
      return true;
    });
    // Nobody else can read it, and it does not leak that it exists.
    await assert.rejects(carol.downloadAttachment(photo.id), (e: unknown) => {
      assert.ok(e instanceof ChatdError);
      assert.equal(e.status, 404);
      assert.equal(e.code, "not_found");
      return true;
    });

    // Bytes that lie about their type, and a type chatd does not take.
    const lying = new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/> is not a PNG");
    await assert.rejects(ann.uploadAttachment(lying, "image/png"), (e: unknown) => {
      assert.ok(e instanceof ChatdError);
      assert.equal(e.status, 415);
      assert.equal(e.code, "unsupported_media_type");
      return true;
    });
    await assert.rejects(
      ann.uploadAttachment(png, "image/svg+xml"),
      (e: unknown) => e instanceof ChatdError && e.status === 415 && e.code === "unsupported_media_type",
    );
    await assert.rejects(
      ann.uploadAttachment(new Uint8Array(0), "image/png"),
      (e: unknown) => e instanceof ChatdError && e.status === 400,
    );
    // An id the sender may not read cannot ride a message.
    const carols = await carol.uploadAttachment(png, "image/png");
    await assert.rejects(a.send(conv.id, "not mine", { attachments: [carols.id] }), (e: unknown) => e instanceof ChatdError);
    assert.equal(a.pending().length, 0);
    a.stop();
    b.stop();
  });
});
