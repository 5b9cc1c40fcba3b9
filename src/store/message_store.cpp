#include "chatd/store/message_store.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "pg.hpp"
#include "rows.hpp"

namespace chatd::store {

using model::ConversationId;
using model::Seq;
using model::UserId;

namespace {

constexpr Statement kGet{"msg_get", "SELECT " CHATD_MESSAGE_COLUMNS("m")
                                    " FROM messages m WHERE m.conversation_id = $1 AND m.seq = $2"};

// The batch path. Requests travel as one JSON array (bodies are arbitrary
// text; jsonb_to_recordset keeps quoting out of our hands).
constexpr Statement kLockMany{"msg_lock_many", R"sql(
SELECT id FROM conversations WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE)sql"};

// Membership, a stored message under the same client_msg_id, a block between
// the two people of a direct conversation, and whether reply_to exists. Runs
// after kLockMany: read committed, so it sees every change committed before
// the locks were granted (a member removed meanwhile is no longer a member).
// Each request's rows are looked up by key (LATERAL ... LIMIT 1, all three
// keys unique): a batch is at most a few dozen requests, and the planner,
// estimating 100 rows for the recordset, otherwise hashed whole tables it
// thought small (a table of 10,000 messages scanned per batch: 8 ms for the
// statement, 0.7 with probes; docs/performance.md, change 16).
constexpr Statement kSendStates{"msg_send_states", R"sql(
SELECT r.i, )sql" CHATD_MEMBERSHIP_COLUMNS("c", "m") R"sql(,
       e.conversation_id, e.seq, e.sender_id, e.deleted,
       CASE WHEN e.seq IS NULL THEN NULL ELSE )sql" CHATD_MESSAGE_JSON("e") R"sql(::text END,
       c.kind = 'direct' AND EXISTS (
         SELECT 1 FROM members p JOIN blocks b
           ON (b.blocker_id = r.uid AND b.blocked_id = p.user_id)
           OR (b.blocker_id = p.user_id AND b.blocked_id = r.uid)
         WHERE p.conversation_id = r.conv AND p.user_id <> r.uid),
       r.reply_to IS NOT NULL AND EXISTS (
         SELECT 1 FROM messages x WHERE x.conversation_id = r.conv AND x.seq = r.reply_to),
       peer.state,
       CASE WHEN peer.state = 'request' THEN (
         SELECT count(*) FROM messages x WHERE x.conversation_id = r.conv AND x.sender_id = r.uid)
       ELSE 0 END,
       jsonb_array_length(r.att) = 0 OR NOT EXISTS (
         SELECT 1 FROM jsonb_array_elements_text(r.att) w(id)
         WHERE NOT EXISTS (SELECT 1 FROM attachments a
                           WHERE a.id = w.id::bigint AND )sql" CHATD_ATTACHMENT_READABLE("a", "r.uid") R"sql())
FROM jsonb_to_recordset($1::jsonb)
  AS r(i int, conv bigint, uid bigint, cmid text, reply_to bigint, att jsonb)
LEFT JOIN LATERAL (SELECT * FROM conversations c WHERE c.id = r.conv LIMIT 1) c ON true
LEFT JOIN LATERAL (
  SELECT * FROM members m WHERE m.conversation_id = r.conv AND m.user_id = r.uid LIMIT 1) m ON true
LEFT JOIN LATERAL (
  SELECT * FROM messages e
  WHERE e.conversation_id = r.conv AND e.sender_id = r.uid AND e.client_msg_id = r.cmid
  LIMIT 1) e ON true
LEFT JOIN LATERAL (
  SELECT p.state FROM members p
  WHERE c.kind = 'direct' AND p.conversation_id = r.conv AND p.user_id <> r.uid LIMIT 1) peer ON true
ORDER BY r.i)sql"};

// Every message of the batch and its message.created event, one statement.
// Event positions are drawn in (conversation, seq) order, so within a
// conversation they rise with seq; each conversation then takes its newest
// seq and position.
// A message's attachments are rendered into it here, in the order given
// (records never change), and listed in message_attachments for access.
constexpr Statement kAppendMany{"msg_append_many", R"sql(
WITH r AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS r(conv bigint, seq bigint, uid bigint, cmid text, body text, reply_to bigint,
         att jsonb, share jsonb)),
ins AS (
  INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body, reply_to,
                        created_at, attachments, share)
  SELECT conv, seq, uid, cmid, body, reply_to,
         -- Never older than the conversation's last message: seq order is
         -- time order (search walks conversations by seq, 0010_search_walk.sql).
         greatest(now(), (SELECT p.created_at FROM messages p WHERE p.conversation_id = r.conv
                          ORDER BY p.seq DESC LIMIT 1)),
         CASE WHEN jsonb_array_length(att) = 0 THEN '[]'::jsonb ELSE (
           SELECT jsonb_agg()sql" CHATD_ATTACHMENT_SHAPE("a") R"sql( ORDER BY w.ord)
           FROM jsonb_array_elements_text(att) WITH ORDINALITY w(id, ord)
           JOIN attachments a ON a.id = w.id::bigint) END,
         share
  FROM r
  RETURNING *),
carried AS (
  INSERT INTO message_attachments (conversation_id, seq, position, attachment_id)
  SELECT r.conv, r.seq, w.ord, w.id::bigint
  FROM r, jsonb_array_elements_text(r.att) WITH ORDINALITY w(id, ord)),
ev AS (
  INSERT INTO events (conversation_id, seq, pos, kind, actor_id, created_at, data)
  SELECT i.conversation_id, i.seq, nextval('activity_pos'), 'message.created', i.sender_id,
         i.created_at,
         )sql" CHATD_MESSAGE_SHAPE("i", CHATD_NO_REACTIONS) R"sql(
  FROM (SELECT * FROM ins ORDER BY conversation_id, seq) i
  RETURNING conversation_id, seq, pos, kind, actor_id, created_at, data),
bump AS (
  UPDATE conversations c SET last_seq = n.seq, activity_pos = n.pos
  FROM (SELECT DISTINCT ON (conversation_id) conversation_id, seq, pos
        FROM ev ORDER BY conversation_id, seq DESC) n
  WHERE c.id = n.conversation_id),
push AS (
  INSERT INTO push_jobs (user_id, conversation_id, seq, sender_id, created_at, due_at)
  SELECT m.user_id, i.conversation_id, i.seq, i.sender_id, i.created_at,
         i.created_at + make_interval(secs => $3::double precision)
  FROM ins i JOIN members m ON m.conversation_id = i.conversation_id AND m.user_id <> i.sender_id
  WHERE $2 AND m.state = 'inbox'
    AND NOT (m.muted AND (m.muted_until IS NULL OR m.muted_until > now())))
SELECT conversation_id, seq, kind, actor_id, chatd_ts(created_at), data::text FROM ev)sql"};

constexpr Statement kAcceptByWriting{"msg_accept_by_writing", R"sql(
UPDATE members m SET state = 'inbox', accepted_at = coalesce(m.accepted_at, now())
FROM jsonb_to_recordset($1::jsonb) AS r(conv bigint, uid bigint)
WHERE m.conversation_id = r.conv AND m.user_id = r.uid AND m.state <> 'inbox')sql"};

constexpr Statement kEdit{"msg_edit", CHATD_BUMP R"sql(,
upd AS (
  UPDATE messages SET body = $4, edited_at = now()
  WHERE conversation_id = $1 AND seq = $3
  RETURNING *),
ev AS (
  )sql" CHATD_INSERT_EVENT R"sql(
  SELECT b.id, b.last_seq, b.activity_pos, 'message.edited', $2,
         jsonb_build_object('seq', u.seq, 'body', u.body, 'edited_at', chatd_ts(u.edited_at))
  FROM bump b, upd u)
SELECT )sql" CHATD_MESSAGE_COLUMNS("u") R"sql( FROM upd u)sql"};

constexpr Statement kClearReactions{"msg_clear_reactions",
                                    "DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2"};

// A deleted message is a tombstone in the log as well: its text leaves the
// message.created event and any message.edited events. Edited events are
// looked for only when the message was edited.
constexpr Statement kScrubEvents{"msg_scrub_events", R"sql(
UPDATE events SET data = CASE WHEN kind = 'message.created'
                              THEN data || )sql" CHATD_MESSAGE_TOMBSTONE R"sql(
                              ELSE data || '{"body": ""}'::jsonb END
WHERE conversation_id = $1
  AND ((kind = 'message.created' AND seq = $2)
       OR (kind = 'message.edited' AND seq > $2 AND (data->>'seq')::bigint = $2
           AND EXISTS (SELECT 1 FROM messages
                       WHERE conversation_id = $1 AND seq = $2 AND edited_at IS NOT NULL))))sql"};

// A tombstone carries nothing: its attachments and share go, and with its
// message_attachments rows, the access they gave.
constexpr Statement kClearAttachments{
    "msg_clear_attachments",
    "DELETE FROM message_attachments WHERE conversation_id = $1 AND seq = $2"};

constexpr Statement kMessageDelete{"msg_delete", CHATD_BUMP R"sql(,
upd AS (
  UPDATE messages SET body = '', deleted = true, attachments = '[]'::jsonb, share = NULL
  WHERE conversation_id = $1 AND seq = $3
  RETURNING *),
ev AS (
  )sql" CHATD_INSERT_EVENT R"sql(
  SELECT b.id, b.last_seq, b.activity_pos, 'message.deleted', $2, jsonb_build_object('seq', u.seq)
  FROM bump b, upd u)
SELECT )sql" CHATD_MESSAGE_COLUMNS("u") R"sql( FROM upd u)sql"};

constexpr Statement kAddReaction{"msg_add_reaction", R"sql(
INSERT INTO reactions (conversation_id, seq, emoji, user_id) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING RETURNING 1)sql"};

constexpr Statement kRemoveReaction{"msg_remove_reaction", R"sql(
DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2 AND emoji = $3 AND user_id = $4
RETURNING 1)sql"};

constexpr Statement kReactionEvent{"msg_reaction_event", CHATD_BUMP CHATD_INSERT_EVENT R"sql(
SELECT id, last_seq, activity_pos, $2, $3,
       jsonb_build_object('seq', $4::bigint, 'emoji', $5::text, 'user_id', $3::bigint)
FROM bump)sql"};

// A page of history and the reader's membership, in one statement (one
// snapshot, one round trip). No row: not a member. A row with NULL message
// columns: a member, no message in range. Bounds: seq in ($3, $4).
#define CHATD_MEMBER_PAGE(order)                                                        \
  "WITH mem AS (SELECT " CHATD_MEMBERSHIP_COLUMNS("c", "m") " FROM conversations c "     \
  "JOIN members m ON m.conversation_id = c.id AND m.user_id = $2 WHERE c.id = $1) "       \
  "SELECT mem.*, p.* FROM mem "                                                           \
  "LEFT JOIN LATERAL (SELECT " CHATD_MESSAGE_COLUMNS("m") " FROM messages m "                  \
  "WHERE m.conversation_id = mem.id AND m.seq > $3 AND m.seq < $4 "                       \
  "ORDER BY m.seq " order " LIMIT $5) p ON true ORDER BY p.seq " order

constexpr Statement kPageDesc{"msg_page_desc", CHATD_MEMBER_PAGE("DESC")};
constexpr Statement kPageAsc{"msg_page_asc", CHATD_MEMBER_PAGE("ASC")};

// The log after a seq and the reader's membership, likewise.
constexpr Statement kMemberEvents{"msg_member_events", R"sql(
WITH mem AS (SELECT )sql" CHATD_MEMBERSHIP_COLUMNS("c", "m") R"sql( FROM conversations c
             JOIN members m ON m.conversation_id = c.id AND m.user_id = $2 WHERE c.id = $1)
SELECT mem.*, e.* FROM mem
LEFT JOIN LATERAL ()sql" CHATD_EVENTS_AFTER("mem.id", "$3", "$4") R"sql() e
ON true ORDER BY e.seq)sql"};

constexpr Statement kEvents{"msg_events", CHATD_EVENTS_AFTER("$1", "$2", "$3")};

constexpr Statement kBlock{"block_insert", R"sql(
INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING)sql"};
constexpr Statement kUnblock{"block_delete",
                             "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2"};
constexpr Statement kBlockList{"block_list", R"sql(
SELECT u.id, u.username, u.display_name, )sql" CHATD_SQL_MS("u.created_at") R"sql(, chatd_ts(b.created_at)
FROM blocks b JOIN users u ON u.id = b.blocked_id
WHERE b.blocker_id = $1 ORDER BY b.created_at, u.id)sql"};

// The one page reader: items from the rows of a result fetched with
// limit + 1 rows, the item's first column at `column`; a NULL there ends the
// page (a LEFT JOIN that matched nothing).
template <class T, class Item>
Page<T> page_of(const pqxx::result& r, int limit, int column, Item item) {
  Page<T> page;
  for (const auto& row : r) {
    if (row[column].is_null()) break;
    if (static_cast<int>(page.items.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.items.push_back(item(row));
  }
  return page;
}

// Rows of a member-page statement (kPageDesc, kPageAsc, kMemberEvents):
// membership in columns 0-5, the item from column 6. No row at all: not a
// member.
constexpr int kItemColumn = 6;

template <class T, class Item>
MemberPage<T> member_page_of(const pqxx::result& r, int limit, Item item) {
  MemberPage<T> out;
  if (r.empty()) return out;
  out.membership = membership_from(r[0]);
  out.page = page_of<T>(r, limit, kItemColumn, item);
  return out;
}

}  // namespace

std::optional<model::Message> MessageStore::get(ConversationId id, Seq seq) {
  auto r = tx_of(tx_).exec(kGet, id, seq);
  if (r.empty()) return std::nullopt;
  return message_from(r[0]);
}

void MessageStore::lock_conversations(std::vector<ConversationId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  tx_of(tx_).exec(kLockMany, int_array(ids));
}

std::vector<SendState> MessageStore::send_states(const std::vector<const SendRequest*>& requests) {
  auto input = nlohmann::json::array();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& q = *requests[i];
    input.push_back({{"i", i},
                     {"conv", q.conversation},
                     {"uid", q.sender},
                     {"cmid", q.client_msg_id},
                     {"reply_to", q.reply_to ? nlohmann::json(*q.reply_to) : nlohmann::json()},
                     {"att", q.attachments}});
  }
  std::vector<SendState> out(requests.size());
  for (const auto& row : tx_of(tx_).exec(kSendStates, input.dump())) {
    auto& s = out.at(row[0].as<std::size_t>());
    if (!row[1].is_null() && !row[3].is_null()) s.membership = membership_from(row, 1);
    if (!row[8].is_null()) s.existing = message_from(row, 7);
    s.blocked = !row[12].is_null() && row[12].as<bool>();
    s.reply_exists = row[13].as<bool>();
    if (!row[14].is_null()) s.peer = model::member_status_from(row[14].as<std::string>());
    s.sent_before = row[15].as<std::int64_t>();
    s.attachments_readable = row[16].as<bool>();
  }
  return out;
}

std::vector<Appended> MessageStore::append_all(const std::vector<NewMessage>& messages,
                                              std::optional<std::chrono::milliseconds> push_delay) {
  auto input = nlohmann::json::array();
  for (const auto& n : messages) {
    const auto& q = *n.request;
    input.push_back({{"conv", q.conversation},
                     {"seq", n.seq},
                     {"uid", q.sender},
                     {"cmid", q.client_msg_id},
                     {"body", q.body},
                     {"reply_to", q.reply_to ? nlohmann::json(*q.reply_to) : nlohmann::json()},
                     {"att", q.attachments},
                     {"share", q.share ? nlohmann::json{{"kind", q.share->kind},
                                                        {"ref", q.share->ref},
                                                        {"title", q.share->title}}
                                       : nlohmann::json()}});
  }
  std::vector<Appended> out;
  out.reserve(messages.size());
  double delay_seconds = push_delay ? static_cast<double>(push_delay->count()) / 1000.0 : 0.0;
  for (const auto& row :
       tx_of(tx_).exec(kAppendMany, input.dump(), push_delay.has_value(), delay_seconds)) {
    Appended a;
    a.event = event_from(row);
    // The event's payload is the message as the API shows it.
    a.message.conversation_id = a.event.conversation_id;
    a.message.seq = a.event.seq;
    a.message.sender_id = a.event.actor_id;
    a.message.deleted = false;
    a.message.json = a.event.data_json;
    out.push_back(std::move(a));
  }
  return out;
}

void MessageStore::accept_by_writing(
    const std::vector<std::pair<ConversationId, UserId>>& members) {
  if (members.empty()) return;
  auto input = nlohmann::json::array();
  for (const auto& [conv, user] : members) input.push_back({{"conv", conv}, {"uid", user}});
  tx_of(tx_).exec(kAcceptByWriting, input.dump());
}

model::Message MessageStore::edit(ConversationId id, Seq seq, const std::string& body,
                                  UserId actor) {
  return message_from(tx_of(tx_).exec(kEdit, id, actor, seq, body)[0]);
}

model::Message MessageStore::remove(ConversationId id, Seq seq, UserId actor) {
  auto& tx = tx_of(tx_);
  tx.exec(kClearReactions, id, seq);
  tx.exec(kClearAttachments, id, seq);
  tx.exec(kScrubEvents, id, seq);
  return message_from(tx.exec(kMessageDelete, id, actor, seq)[0]);
}

bool MessageStore::add_reaction(ConversationId id, Seq seq, const std::string& emoji,
                                UserId user) {
  auto& tx = tx_of(tx_);
  if (tx.exec(kAddReaction, id, seq, emoji, user).empty()) return false;
  tx.exec(kReactionEvent, id, std::string("reaction.added"), user, seq, emoji);
  return true;
}

bool MessageStore::remove_reaction(ConversationId id, Seq seq, const std::string& emoji,
                                   UserId user) {
  auto& tx = tx_of(tx_);
  if (tx.exec(kRemoveReaction, id, seq, emoji, user).empty()) return false;
  tx.exec(kReactionEvent, id, std::string("reaction.removed"), user, seq, emoji);
  return true;
}


MemberPage<model::Message> MessageStore::member_page(ConversationId id, UserId reader,
                                                     std::optional<Seq> before,
                                                     std::optional<Seq> after, int limit) {
  // Only `before` (or no bound): the newest messages below it, descending.
  // With `after`: the oldest above it, ascending.
  bool descending = !after;
  auto r = tx_of(tx_).exec(descending ? kPageDesc : kPageAsc, id, reader, after.value_or(0),
                           before.value_or(std::numeric_limits<Seq>::max()), limit + 1);
  auto out = member_page_of<model::Message>(
      r, limit, [](const pqxx::row& row) { return message_from(row, kItemColumn); });
  if (descending) std::reverse(out.page.items.begin(), out.page.items.end());
  return out;
}

MemberPage<model::Event> MessageStore::member_events(ConversationId id, UserId reader, Seq after,
                                                     int limit) {
  auto r = tx_of(tx_).exec(kMemberEvents, id, reader, after, limit + 1);
  return member_page_of<model::Event>(r, limit,
                                      [](const pqxx::row& row) { return event_from(row, kItemColumn); });
}

Page<model::Event> MessageStore::events(ConversationId id, Seq after, int limit) {
  return page_of<model::Event>(tx_of(tx_).exec(kEvents, id, after, limit + 1), limit, 0,
                              [](const pqxx::row& row) { return event_from(row); });
}

void BlockStore::block(UserId blocker, UserId blocked) {
  tx_of(tx_).exec(kBlock, blocker, blocked);
}

void BlockStore::unblock(UserId blocker, UserId blocked) {
  tx_of(tx_).exec(kUnblock, blocker, blocked);
}

std::vector<model::Block> BlockStore::list(UserId blocker) {
  std::vector<model::Block> out;
  for (const auto& row : tx_of(tx_).exec(kBlockList, blocker)) {
    out.push_back({user_from(row), row[4].as<std::string>()});
  }
  return out;
}

}  // namespace chatd::store

#include "chatd/store/hot_queries.hpp"

namespace chatd::store {

std::vector<HotQuery> message_hot_queries() {
  return {{"newest page", kPageDesc.sql, "bigint, bigint, bigint, bigint, int"},
          {"page before seq", kPageDesc.sql, "bigint, bigint, bigint, bigint, int"},
          {"events after seq", kMemberEvents.sql, "bigint, bigint, bigint, int"},
          {"log after seq (fan-out)", kEvents.sql, "bigint, bigint, int"}};
}

HotQuery send_states_query() { return {"send states", kSendStates.sql, "jsonb"}; }

}  // namespace chatd::store
