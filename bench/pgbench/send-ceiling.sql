-- PostgreSQL's own ceiling for chatd's durable sends on chatd's schema: 64
-- messages per transaction in one statement (the seq bump, 64 message rows
-- and their 64 message.created event rows, rendered as chatd renders them),
-- no reads, no locks taken separately, no round trips between. Nothing
-- chatd does per message can beat this; the naive baseline (send.sql) is one
-- message per transaction. pgbench client i writes to conversation
-- (i mod users) + 1. Report msg/s = tps × 64.
\set c :client_id % :users + 1
\set r random(1, 2000000000)
WITH bump AS (UPDATE conversations SET last_seq = last_seq + 64, activity_pos = nextval('activity_pos')
              WHERE id = :c RETURNING id, last_seq, activity_pos),
ins AS (INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body, reply_to)
        SELECT b.id, b.last_seq - 64 + g, :c, 'pgc-' || :client_id || '-' || :r || '-' || g,
               'pgbench message', NULL
        FROM bump b, generate_series(1, 64) g
        RETURNING *),
ev AS (INSERT INTO events (conversation_id, seq, pos, kind, actor_id, created_at, data)
       SELECT i.conversation_id, i.seq, b.activity_pos, 'message.created', i.sender_id, i.created_at,
              chatd_message_shape(i.conversation_id, i.seq, i.sender_id, i.client_msg_id, i.body,
                                  i.reply_to, i.created_at, i.edited_at, i.deleted, '{}'::jsonb,
                                  i.attachments, i.share)
       FROM ins i, bump b RETURNING seq)
SELECT count(*) FROM ev;
