#include "chatd/store/conversation_store.hpp"

#include "pg.hpp"
#include "rows.hpp"

namespace chatd::store {

using model::ConversationId;
using model::UserId;

namespace {

constexpr Statement kMembership{"conv_membership", "SELECT " CHATD_MEMBERSHIP_COLUMNS("c", "m") R"sql(
FROM conversations c JOIN members m ON m.conversation_id = c.id AND m.user_id = $2
WHERE c.id = $1)sql"};

// Locks the conversation row alone. Membership is read by the next statement,
// which (read committed) sees every change committed before the lock was
// granted: a member removed while we waited is no longer a member. A join
// with FOR UPDATE OF c would re-check only the conversation row and could
// authorise a member deleted in the meantime.
constexpr Statement kLockConversation{"conv_lock",
                                      "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE"};

constexpr Statement kUserExists{"conv_user_exists", "SELECT 1 FROM users WHERE id = $1"};

constexpr Statement kUnknownUsers{"conv_unknown_users", R"sql(
SELECT u FROM unnest($1::bigint[]) AS u
WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = u) ORDER BY u)sql"};

constexpr Statement kBlocked{"conv_blocked", R"sql(
SELECT 1 FROM blocks
WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)
LIMIT 1)sql"};

constexpr Statement kInsertDirect{"conv_insert_direct", R"sql(
INSERT INTO conversations (kind, direct_key, activity_pos, created_by)
VALUES ('direct', $1, nextval('activity_pos'), $2)
ON CONFLICT (direct_key) DO NOTHING
RETURNING id)sql"};

constexpr Statement kFindDirect{"conv_find_direct",
                                "SELECT id FROM conversations WHERE direct_key = $1"};

constexpr Statement kInsertGroup{"conv_insert_group", R"sql(
INSERT INTO conversations (kind, title, activity_pos, created_by)
VALUES ('group', $1, nextval('activity_pos'), $2)
RETURNING id)sql"};

constexpr Statement kInsertMembers{"conv_insert_members", R"sql(
INSERT INTO members (conversation_id, user_id, role, state)
SELECT $1, u, $3, $4 FROM unnest($2::bigint[]) AS u)sql"};

// Whether each user admits the actor (API.md, settings): their dm_policy and
// whether the actor is their contact, i.e. shares a conversation that the
// user has accepted (created it, accepted it, or wrote in it). Derived from
// the data each time; only looked for when the policy is not `everyone`.
constexpr Statement kAdmission{"conv_admission", R"sql(
SELECT u.id, u.dm_policy,
       u.dm_policy = 'everyone' OR EXISTS (
         SELECT 1 FROM members mu
         JOIN members mx ON mx.conversation_id = mu.conversation_id AND mx.user_id = $2
         JOIN conversations c ON c.id = mu.conversation_id
         WHERE mu.user_id = u.id
           AND (c.created_by = u.id OR mu.accepted_at IS NOT NULL
                OR EXISTS (SELECT 1 FROM messages x
                           WHERE x.conversation_id = mu.conversation_id AND x.sender_id = u.id)))
FROM users u WHERE u.id = ANY($1::bigint[]) ORDER BY u.id)sql"};

// A member's new standing; becoming `inbox` records an explicit acceptance.
constexpr Statement kSetStatus{"conv_set_status", R"sql(
UPDATE members SET state = $3,
       accepted_at = CASE WHEN $3 = 'inbox' THEN coalesce(accepted_at, now()) ELSE accepted_at END
WHERE conversation_id = $1 AND user_id = $2)sql"};

// What fan-out may relay about a member: none when not a member.
constexpr Statement kPrivacy{"conv_privacy", R"sql(
SELECT m.state = 'inbox', u.read_receipts
FROM members m JOIN users u ON u.id = m.user_id
WHERE m.conversation_id = $1 AND m.user_id = $2)sql"};

constexpr Statement kEventCreated{"conv_event_created", CHATD_BUMP CHATD_INSERT_EVENT R"sql(
SELECT b.id, b.last_seq, b.activity_pos, 'conversation.created', $2,
  jsonb_build_object(
    'conversation', (SELECT jsonb_build_object('id', c.id, 'kind', c.kind, 'title', c.title,
                                               'created_at', chatd_ts(c.created_at))
                     FROM conversations c WHERE c.id = b.id),
    'members', (SELECT jsonb_agg(jsonb_build_object('user_id', m.user_id, 'role', m.role)
                                 ORDER BY m.user_id)
                FROM members m WHERE m.conversation_id = b.id))
FROM bump b RETURNING )sql" CHATD_EVENT_COLUMNS};

constexpr Statement kEventMemberAdded{"conv_event_member_added", CHATD_BUMP CHATD_INSERT_EVENT R"sql(
SELECT id, last_seq, activity_pos, 'member.added', $2,
       jsonb_build_object('user_id', $3::bigint, 'role', $4::text)
FROM bump RETURNING )sql" CHATD_EVENT_COLUMNS};

constexpr Statement kEventMemberRemoved{"conv_event_member_removed", CHATD_BUMP CHATD_INSERT_EVENT R"sql(
SELECT id, last_seq, activity_pos, 'member.removed', $2, jsonb_build_object('user_id', $3::bigint)
FROM bump RETURNING )sql" CHATD_EVENT_COLUMNS};

constexpr Statement kEventUpdated{"conv_event_updated", CHATD_BUMP CHATD_INSERT_EVENT R"sql(
SELECT id, last_seq, activity_pos, 'conversation.updated', $2, jsonb_build_object('title', $3::text)
FROM bump RETURNING )sql" CHATD_EVENT_COLUMNS};

constexpr Statement kAddMember{"conv_add_member", R"sql(
INSERT INTO members (conversation_id, user_id, role, read_seq, state)
VALUES ($1, $2, $3, (SELECT last_seq FROM conversations WHERE id = $1), $4))sql"};

constexpr Statement kRemoveMember{"conv_remove_member",
                                  "DELETE FROM members WHERE conversation_id = $1 AND user_id = $2"};

constexpr Statement kMemberIds{"conv_member_ids",
                               "SELECT user_id FROM members WHERE conversation_id = $1"};

// Who hears the user's presence: members of a conversation where the user is
// in the inbox (a request's sender hears nothing until it is accepted), both
// sides showing presence. Read when the notice is delivered, so a switch
// holds for notices already in flight.
// Pairs (user, contact) for many users, only among `$2` (the users connected
// to the asking instance): an instance reads the part of each audience it can
// reach, not every member of every group the user is in.
constexpr Statement kAudiences{"conv_audiences", R"sql(
SELECT DISTINCT mine.user_id, other.user_id
FROM members mine
JOIN users me ON me.id = mine.user_id
JOIN members other ON other.conversation_id = mine.conversation_id
JOIN users them ON them.id = other.user_id
WHERE mine.user_id = ANY($1::bigint[]) AND other.user_id = ANY($2::bigint[])
  AND other.user_id <> mine.user_id AND mine.state = 'inbox' AND them.show_presence
  AND ($3 OR me.show_presence))sql"};

constexpr Statement kHasSocket{"conv_has_socket", "SELECT 1 FROM presence WHERE user_id = $1 LIMIT 1"};

constexpr Statement kConversationsOf{"conv_of_user", R"sql(
SELECT c.id, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
WHERE m.user_id = $1 ORDER BY c.id)sql"};

constexpr Statement kConversationsOfUsers{"conv_of_users", R"sql(
SELECT m.user_id, c.id, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
WHERE m.user_id = ANY($1::bigint[]) ORDER BY m.user_id, c.id)sql"};

constexpr Statement kRoleOf{"conv_role_of",
                            "SELECT role FROM members WHERE conversation_id = $1 AND user_id = $2"};

constexpr Statement kOwnerCount{
    "conv_owner_count",
    "SELECT count(*) FROM members WHERE conversation_id = $1 AND role = 'owner'"};

constexpr Statement kSetTitle{"conv_set_title", "UPDATE conversations SET title = $2 WHERE id = $1"};

constexpr Statement kSetRole{"conv_set_role",
                             "UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2"};

constexpr Statement kEventMemberUpdated{"conv_event_member_updated", CHATD_BUMP CHATD_INSERT_EVENT R"sql(
SELECT id, last_seq, activity_pos, 'member.updated', $2,
       jsonb_build_object('user_id', $3::bigint, 'role', $4::text)
FROM bump RETURNING )sql" CHATD_EVENT_COLUMNS};

// Who inherits a group from a leaving owner: the longest-standing admin,
// else the longest-standing member.
constexpr Statement kSuccessor{"conv_successor", R"sql(
SELECT user_id FROM members WHERE conversation_id = $1 AND user_id <> $2
ORDER BY (role = 'admin') DESC, joined_at, user_id LIMIT 1)sql"};

constexpr Statement kMemberCount{"conv_member_count",
                                 "SELECT count(*) FROM members WHERE conversation_id = $1"};

constexpr Statement kMarkRead{"conv_mark_read", R"sql(
UPDATE members SET read_seq = greatest(read_seq, $3)
WHERE conversation_id = $1 AND user_id = $2
RETURNING read_seq)sql"};

// One member's view: unread = messages after the marker, sent by others, not
// deleted (a range scan of the messages key); last message by the key's end.
#define CHATD_VIEW_COLUMNS                                                                  \
  "c.id, c.kind, c.title, chatd_ts(c.created_at), c.last_seq, m.read_seq, "                 \
  "(SELECT count(*) FROM messages x WHERE x.conversation_id = c.id AND x.seq > m.read_seq " \
  " AND x.sender_id <> m.user_id AND NOT x.deleted), "                                      \
  "(SELECT " CHATD_MESSAGE_JSON("x") "::text FROM messages x "                            \
  " WHERE x.conversation_id = c.id ORDER BY x.seq DESC LIMIT 1), " CHATD_MEMBER_STANDING("m")

// A member's role, the mute in force now and the state (columns of standing_from).
#define CHATD_MEMBER_STANDING(m)                                                              \
  m ".role, (" m ".muted AND (" m ".muted_until IS NULL OR " m ".muted_until > now())), "     \
  "CASE WHEN " m ".muted AND " m ".muted_until > now() THEN chatd_ts(" m ".muted_until) END, " \
  m ".state"

constexpr Statement kView{"conv_view", "SELECT " CHATD_VIEW_COLUMNS R"sql(, c.activity_pos
FROM conversations c JOIN members m ON m.conversation_id = c.id AND m.user_id = $2
WHERE c.id = $1)sql"};

// The members as reader $2 sees them: another member's read marker only when
// that member shows receipts and has accepted the conversation.
constexpr Statement kMembers{"conv_members", R"sql(
SELECT m.user_id, m.role,
       CASE WHEN m.user_id = $2 OR (m.state = 'inbox' AND u.read_receipts) THEN m.read_seq END
FROM members m JOIN users u ON u.id = m.user_id
WHERE m.conversation_id = $1 ORDER BY m.user_id)sql"};

constexpr Statement kSnapshot{"conv_snapshot", R"sql(
SELECT coalesce(max(c.activity_pos), 0)
FROM members m JOIN conversations c ON c.id = m.conversation_id
WHERE m.user_id = $1)sql"};

// Activity as of the snapshot $2: a conversation touched since then is placed
// where it stood at the snapshot (its last event at or before $2), so pages
// neither skip nor repeat it while new messages arrive.
constexpr Statement kList{"conv_list", "SELECT " CHATD_VIEW_COLUMNS R"sql(, k.key
FROM members m
JOIN conversations c ON c.id = m.conversation_id
CROSS JOIN LATERAL (
  SELECT CASE WHEN c.activity_pos <= $2 THEN c.activity_pos
              ELSE (SELECT e.pos FROM events e
                    WHERE e.conversation_id = c.id AND e.pos <= $2
                    ORDER BY e.seq DESC LIMIT 1) END AS key) k
WHERE m.user_id = $1 AND m.state = $6 AND k.key IS NOT NULL AND (k.key, c.id) < ($3, $4)
ORDER BY k.key DESC, c.id DESC
LIMIT $5)sql"};

constexpr Statement kSetMute{"conv_set_mute", R"sql(
UPDATE members SET muted = $3, muted_until = CASE WHEN $3 THEN NULLIF($4, '')::timestamptz END
WHERE conversation_id = $1 AND user_id = $2)sql"};

constexpr Statement kStanding{"conv_standing",
                              "SELECT " CHATD_MEMBER_STANDING("m") " FROM members m "
                              "WHERE m.conversation_id = $1 AND m.user_id = $2"};

void standing_from(const pqxx::row& r, int first, model::Role& role, bool& muted,
                   std::optional<std::string>& until, model::MemberStatus& status) {
  role = model::role_from(r[first].as<std::string>()).value_or(model::Role::member);
  muted = r[first + 1].as<bool>();
  if (!r[first + 2].is_null()) until = r[first + 2].as<std::string>();
  status = model::member_status_from(r[first + 3].as<std::string>()).value_or(model::MemberStatus::inbox);
}

model::ConversationView view_from(const pqxx::row& r) {
  model::ConversationView v;
  v.id = r[0].as<std::int64_t>();
  v.kind = r[1].as<std::string>() == "direct" ? model::Kind::direct : model::Kind::group;
  if (!r[2].is_null()) v.title = r[2].as<std::string>();
  v.created_at = r[3].as<std::string>();
  v.last_seq = r[4].as<std::int64_t>();
  v.read_seq = r[5].as<std::int64_t>();
  v.unread_count = r[6].as<std::int64_t>();
  if (!r[7].is_null()) v.last_message_json = r[7].as<std::string>();
  standing_from(r, 8, v.role, v.muted, v.muted_until, v.status);
  v.activity_key = r[12].as<std::int64_t>();
  return v;
}

}  // namespace

std::optional<model::Membership> ConversationStore::membership(ConversationId id, UserId user,
                                                               bool lock) {
  auto& tx = tx_of(tx_);
  if (lock && tx.exec(kLockConversation, id).empty()) return std::nullopt;
  auto r = tx.exec(kMembership, id, user);
  if (r.empty()) return std::nullopt;
  return membership_from(r[0]);
}

bool ConversationStore::user_exists(UserId user) {
  return !tx_of(tx_).exec(kUserExists, user).empty();
}

std::vector<UserId> ConversationStore::unknown_users(const std::vector<UserId>& users) {
  std::vector<UserId> out;
  for (const auto& row : tx_of(tx_).exec(kUnknownUsers, int_array<UserId>(users))) {
    out.push_back(row[0].as<std::int64_t>());
  }
  return out;
}

bool ConversationStore::blocked_either_way(UserId a, UserId b) {
  return !tx_of(tx_).exec(kBlocked, a, b).empty();
}

namespace {
// One direct conversation per pair, by construction: the key under a unique constraint.
std::string direct_key(UserId a, UserId b) {
  return std::to_string(std::min(a, b)) + ":" + std::to_string(std::max(a, b));
}
}  // namespace

std::optional<ConversationId> ConversationStore::find_direct(UserId a, UserId b) {
  auto r = tx_of(tx_).exec(kFindDirect, direct_key(a, b));
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

std::pair<ConversationId, bool> ConversationStore::create_direct(UserId creator, UserId peer,
                                                                 model::MemberStatus peer_status) {
  auto& tx = tx_of(tx_);
  std::string key = direct_key(creator, peer);
  // Waits for a concurrent creator of the same pair, then finds its row.
  auto inserted = tx.exec(kInsertDirect, key, creator);
  if (inserted.empty()) {
    return {tx.exec(kFindDirect, key)[0][0].as<std::int64_t>(), false};
  }
  ConversationId id = inserted[0][0].as<std::int64_t>();
  const std::string member = "member";
  tx.exec(kInsertMembers, id, int_array<UserId>({creator}), member, std::string("inbox"));
  tx.exec(kInsertMembers, id, int_array<UserId>({peer}), member, std::string(model::to_string(peer_status)));
  tx.exec(kEventCreated, id, creator);
  return {id, true};
}

ConversationId ConversationStore::create_group(const std::string& title, UserId creator,
                                               const std::vector<UserId>& members,
                                               const std::vector<UserId>& requested) {
  auto& tx = tx_of(tx_);
  ConversationId id = tx.exec(kInsertGroup, title, creator)[0][0].as<std::int64_t>();
  const std::string inbox = "inbox", member = "member";
  tx.exec(kInsertMembers, id, int_array<UserId>({creator}), std::string("owner"), inbox);
  if (!members.empty()) tx.exec(kInsertMembers, id, int_array<UserId>(members), member, inbox);
  if (!requested.empty()) {
    tx.exec(kInsertMembers, id, int_array<UserId>(requested), member, std::string("request"));
  }
  tx.exec(kEventCreated, id, creator);
  return id;
}

std::optional<model::ConversationView> ConversationStore::view(ConversationId id, UserId me) {
  auto& tx = tx_of(tx_);
  auto r = tx.exec(kView, id, me);
  if (r.empty()) return std::nullopt;
  auto v = view_from(r[0]);
  for (const auto& row : tx.exec(kMembers, id, me)) {
    v.members.push_back({row[0].as<std::int64_t>(),
                         model::role_from(row[1].as<std::string>()).value_or(model::Role::member),
                         row[2].is_null() ? std::nullopt
                                          : std::optional<model::Seq>(row[2].as<std::int64_t>())});
  }
  return v;
}

std::int64_t ConversationStore::activity_snapshot(UserId me) {
  return tx_of(tx_).exec(kSnapshot, me)[0][0].as<std::int64_t>();
}

std::vector<model::ConversationView> ConversationStore::list(UserId me, model::MemberStatus folder,
                                                             std::int64_t snapshot,
                                                             std::int64_t after_key,
                                                             ConversationId after_id, int limit) {
  std::vector<model::ConversationView> out;
  for (const auto& row : tx_of(tx_).exec(kList, me, snapshot, after_key, after_id, limit,
                                         std::string(model::to_string(folder)))) {
    out.push_back(view_from(row));
  }
  return out;
}

std::vector<UserId> ConversationStore::member_ids(ConversationId id) {
  std::vector<UserId> out;
  for (const auto& row : tx_of(tx_).exec(kMemberIds, id)) out.push_back(row[0].as<std::int64_t>());
  return out;
}

std::vector<std::pair<UserId, UserId>> ConversationStore::audiences(
    const std::vector<UserId>& users, const std::vector<UserId>& among, bool even_hidden) {
  std::vector<std::pair<UserId, UserId>> out;
  if (users.empty() || among.empty()) return out;
  for (const auto& row :
       tx_of(tx_).exec(kAudiences, int_array<UserId>(users), int_array<UserId>(among), even_hidden)) {
    out.emplace_back(row[0].as<std::int64_t>(), row[1].as<std::int64_t>());
  }
  return out;
}

bool ConversationStore::has_socket(UserId user) { return !tx_of(tx_).exec(kHasSocket, user).empty(); }

std::vector<std::pair<ConversationId, model::Seq>> ConversationStore::conversations_of(UserId user) {
  std::vector<std::pair<ConversationId, model::Seq>> out;
  for (const auto& row : tx_of(tx_).exec(kConversationsOf, user)) {
    out.emplace_back(row[0].as<std::int64_t>(), row[1].as<std::int64_t>());
  }
  return out;
}

std::unordered_map<UserId, std::vector<std::pair<ConversationId, model::Seq>>>
ConversationStore::conversations_of(const std::vector<UserId>& users) {
  std::unordered_map<UserId, std::vector<std::pair<ConversationId, model::Seq>>> out;
  for (const auto& row : tx_of(tx_).exec(kConversationsOfUsers, int_array<UserId>(users))) {
    out[row[0].as<std::int64_t>()].emplace_back(row[1].as<std::int64_t>(),
                                                 row[2].as<std::int64_t>());
  }
  return out;
}

std::optional<model::Role> ConversationStore::role_of(ConversationId id, UserId user) {
  auto r = tx_of(tx_).exec(kRoleOf, id, user);
  if (r.empty()) return std::nullopt;
  return model::role_from(r[0][0].as<std::string>());
}

int ConversationStore::owner_count(ConversationId id) {
  return tx_of(tx_).exec(kOwnerCount, id)[0][0].as<int>();
}

model::Event ConversationStore::add_member(ConversationId id, UserId user, model::Role role,
                                           UserId actor, model::MemberStatus status) {
  auto& tx = tx_of(tx_);
  tx.exec(kAddMember, id, user, std::string(model::to_string(role)),
          std::string(model::to_string(status)));
  return event_from(tx.exec(kEventMemberAdded, id, actor, user, std::string(model::to_string(role)))[0]);
}

model::Event ConversationStore::remove_member(ConversationId id, UserId user, UserId actor) {
  auto& tx = tx_of(tx_);
  tx.exec(kRemoveMember, id, user);
  return event_from(tx.exec(kEventMemberRemoved, id, actor, user)[0]);
}

model::Event ConversationStore::set_title(ConversationId id, const std::string& title,
                                          UserId actor) {
  auto& tx = tx_of(tx_);
  tx.exec(kSetTitle, id, title);
  return event_from(tx.exec(kEventUpdated, id, actor, title)[0]);
}

model::Event ConversationStore::set_role(ConversationId id, UserId user, model::Role role,
                                        UserId actor) {
  auto& tx = tx_of(tx_);
  std::string r = model::to_string(role);
  tx.exec(kSetRole, id, user, r);
  return event_from(tx.exec(kEventMemberUpdated, id, actor, user, r)[0]);
}

std::optional<UserId> ConversationStore::successor(ConversationId id, UserId leaving) {
  auto r = tx_of(tx_).exec(kSuccessor, id, leaving);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

void ConversationStore::set_mute(ConversationId id, UserId user, bool muted,
                                 const std::optional<std::string>& until) {
  tx_of(tx_).exec(kSetMute, id, user, muted, until.value_or(""));
}

std::optional<model::MemberState> ConversationStore::standing(ConversationId id, UserId user) {
  auto r = tx_of(tx_).exec(kStanding, id, user);
  if (r.empty()) return std::nullopt;
  model::MemberState s;
  s.conversation = id;
  standing_from(r[0], 0, s.role, s.muted, s.muted_until, s.status);
  return s;
}

std::vector<Admission> ConversationStore::admission(const std::vector<UserId>& users, UserId actor) {
  std::vector<Admission> out;
  for (const auto& row : tx_of(tx_).exec(kAdmission, int_array<UserId>(users), actor)) {
    out.push_back({row[0].as<std::int64_t>(),
                   model::dm_policy_from(row[1].as<std::string>()).value_or(model::DmPolicy::everyone),
                   row[2].as<bool>()});
  }
  return out;
}

void ConversationStore::set_status(ConversationId id, UserId user, model::MemberStatus status) {
  tx_of(tx_).exec(kSetStatus, id, user, std::string(model::to_string(status)));
}

std::optional<MemberPrivacy> ConversationStore::privacy(ConversationId id, UserId user) {
  auto r = tx_of(tx_).exec(kPrivacy, id, user);
  if (r.empty()) return std::nullopt;
  return MemberPrivacy{r[0][0].as<bool>(), r[0][1].as<bool>()};
}

std::int64_t ConversationStore::member_count(ConversationId id) {
  return tx_of(tx_).exec(kMemberCount, id)[0][0].as<std::int64_t>();
}

model::Seq ConversationStore::mark_read(ConversationId id, UserId user, model::Seq seq) {
  auto r = tx_of(tx_).exec(kMarkRead, id, user, seq);
  return r.empty() ? 0 : r[0][0].as<std::int64_t>();
}

}  // namespace chatd::store

#include "chatd/store/hot_queries.hpp"

namespace chatd::store {

std::vector<HotQuery> message_hot_queries();

std::vector<HotQuery> hot_queries() {
  auto out = message_hot_queries();
  out.push_back({"my conversations by activity", kList.sql, "bigint, bigint, bigint, bigint, int, text"});
  // Every history read of a newest page starts with it (domain/newest_pages.hpp).
  out.push_back({"membership", kMembership.sql, "bigint, bigint"});
  // Every WebSocket start, recheck and sync, for many users at once.
  out.push_back({"conversation ends of many users", kConversationsOfUsers.sql, "bigint[]"});
  return out;
}

}  // namespace chatd::store
