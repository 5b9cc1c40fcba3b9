-- PostgreSQL's own ceiling for chatd's send on chatd's schema: 64 messages
-- per transaction, in one statement, with nothing chatd does around it (no
-- lock statement, no membership or retry lookup, no NOTIFY, no client
-- round trips). Each message gets its row, its message.created event with
-- its own position and its rendered JSON, as chatd's msg_append_many writes
-- them; the conversation's seq and position move to the last of the 64.
-- pgbench client i appends to conversation (i mod users) + 1, which no other
-- client touches, so reading last_seq without a lock is safe here.
\set c :client_id % :users + 1
\set r random(1, 2000000000)
WITH base AS (SELECT id, last_seq FROM conversations WHERE id = :c),
ins AS (
  INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body, reply_to)
  SELECT b.id, b.last_seq + g, :c, 'pgc-' || :client_id || '-' || :r || '-' || g,
         'pgbench message', NULL
  FROM base b, generate_series(1, 64) g
  RETURNING *),
ev AS (
  INSERT INTO events (conversation_id, seq, pos, kind, actor_id, created_at, data)
  SELECT i.conversation_id, i.seq, nextval('activity_pos'), 'message.created', i.sender_id,
         i.created_at,
         chatd_message_shape(i.conversation_id, i.seq, i.sender_id, i.client_msg_id, i.body,
                             i.reply_to, i.created_at, i.edited_at, i.deleted, '{}'::jsonb,
                             i.attachments, i.share)
  FROM (SELECT * FROM ins ORDER BY seq) i
  RETURNING seq, pos),
bump AS (
  UPDATE conversations c SET last_seq = n.seq, activity_pos = n.pos
  FROM (SELECT seq, pos FROM ev ORDER BY seq DESC LIMIT 1) n
  WHERE c.id = :c)
SELECT count(*) FROM ev;
