// Private to the store: the SQL fragments every statement shares. What the
// API shows of a message is defined here, once; statements render it at
// commit (the message.created event keeps it) and on every read, so the
// server splices text instead of building JSON per request.
//
// Fragments are string-literal macros so statements stay constexpr and are
// prepared once per connection. `a` is the alias of a `messages` row (a
// table, a CTE's RETURNING *, or a LEFT JOIN that may be NULL).
#pragma once

// RFC 3339 UTC with milliseconds, as the API speaks it: chatd_ts(timestamptz)
// (migration 0002). Milliseconds since the epoch, for model types:
#define CHATD_SQL_MS(col) "floor(extract(epoch from " col ") * 1000)::bigint"

// A message as the API shows it (docs/api.md, "Message"), given its reactions
// as a jsonb expression. The one definition of the message's fields.
#define CHATD_MESSAGE_SHAPE(a, reactions)                                                    \
  "jsonb_build_object('conversation_id', " a ".conversation_id, 'seq', " a ".seq, "         \
  "'sender_id', " a ".sender_id, 'client_msg_id', " a ".client_msg_id, 'body', " a ".body, " \
  "'reply_to', " a ".reply_to, 'created_at', chatd_ts(" a ".created_at), "                  \
  "'edited_at', CASE WHEN " a ".edited_at IS NULL THEN NULL ELSE chatd_ts(" a ".edited_at) END, " \
  "'deleted', " a ".deleted, 'reactions', " reactions ", "                                \
  "'attachments', " a ".attachments, 'share', " a ".share)"

// What a delete leaves of a rendered message (merged over the stored shape):
// no text, deleted, no reactions. The fields are the shape's, above.
#define CHATD_MESSAGE_TOMBSTONE                                                          \
  "'{\"body\": \"\", \"deleted\": true, \"reactions\": {}, \"attachments\": [], "       \
  "\"share\": null}'::jsonb"

// An attachment record `a` as the API shows it (docs/api.md, "Attachment").
// Messages keep this rendering of each attachment they carry (records never
// change).
#define CHATD_ATTACHMENT_SHAPE(a)                                                     \
  "jsonb_build_object('id', " a ".id, 'mime', " a ".mime, 'size', " a ".size, "       \
  "'sha256', " a ".sha256, 'created_at', chatd_ts(" a ".created_at))"

// Whether user `u` may read attachment record `a` (API.md): its uploader, or
// a current member of a conversation where a message that is not deleted
// carries it (a delete removes the message's message_attachments rows).
#define CHATD_ATTACHMENT_READABLE(a, u)                                                      \
  "(" a ".uploader_id = " u " OR EXISTS (SELECT 1 FROM message_attachments ma "             \
  "JOIN members rm ON rm.conversation_id = ma.conversation_id AND rm.user_id = " u " "       \
  "WHERE ma.attachment_id = " a ".id))"

// The reactions of message `a` as {emoji: count}; '{}' when none.
#define CHATD_REACTIONS(a)                                                                  \
  "coalesce((SELECT jsonb_object_agg(r.emoji, r.n) FROM (SELECT emoji, count(*) AS n "      \
  "FROM reactions WHERE conversation_id = " a ".conversation_id AND seq = " a ".seq "        \
  "GROUP BY emoji) r), '{}'::jsonb)"
#define CHATD_NO_REACTIONS "'{}'::jsonb"

// A stored message with its reactions, as jsonb.
#define CHATD_MESSAGE_JSON(a) CHATD_MESSAGE_SHAPE(a, CHATD_REACTIONS(a))

// Columns of rows.hpp's message_from, for message row `a`.
#define CHATD_MESSAGE_COLUMNS(a) \
  a ".conversation_id, " a ".seq, " a ".sender_id, " a ".deleted, " CHATD_MESSAGE_JSON(a) "::text"

// Columns of rows.hpp's event_from, for an `events` row (unaliased).
#define CHATD_EVENT_COLUMNS "conversation_id, seq, kind, actor_id, chatd_ts(created_at), data::text"

// The log of conversation `conv` after seq `after`, oldest first, at most
// `limit` rows (callers ask for one more than a page, to learn has_more).
#define CHATD_EVENTS_AFTER(conv, after, limit)                                                \
  "SELECT " CHATD_EVENT_COLUMNS " FROM events WHERE conversation_id = " conv " AND seq > " after \
  " ORDER BY seq ASC LIMIT " limit

// Opens a statement that appends to conversation $1's log: the CTE `bump`
// takes the next seq and a new activity position from the conversation row
// (locked by this UPDATE until commit) as (id, last_seq, activity_pos). The
// statement goes on with `, more AS (...)` or with its INSERT INTO events.
#define CHATD_BUMP                                                                \
  "WITH bump AS (UPDATE conversations SET last_seq = last_seq + 1, "              \
  "activity_pos = nextval('activity_pos') WHERE id = $1 "                         \
  "RETURNING id, last_seq, activity_pos) "

// The columns an appended event is inserted with.
#define CHATD_INSERT_EVENT "INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data) "
