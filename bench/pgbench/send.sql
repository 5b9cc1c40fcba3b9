-- chatd's send as one message per transaction (what --send-batch 1 amounts
-- to, in its cheapest single-message form): lock the conversation, read
-- membership, look up the client_msg_id, then seq + message + event in one
-- statement, rendered as chatd renders it. pgbench client i sends to
-- conversation (i mod users) + 1, as load generator connection i does, so
-- neither side contends for a conversation the other does not.
\set c :client_id % :users + 1
\set r random(1, 2000000000)
BEGIN;
SELECT 1 FROM conversations WHERE id = :c FOR UPDATE;
SELECT c.id, c.kind, m.role, c.last_seq, m.read_seq
  FROM conversations c JOIN members m ON m.conversation_id = c.id AND m.user_id = :c
  WHERE c.id = :c;
SELECT m.seq FROM messages m
  WHERE m.conversation_id = :c AND m.sender_id = :c AND m.client_msg_id = 'pgb-' || :client_id || '-' || :r;
WITH bump AS (UPDATE conversations SET last_seq = last_seq + 1, activity_pos = nextval('activity_pos')
              WHERE id = :c RETURNING id, last_seq, activity_pos),
ins AS (INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body, reply_to)
        SELECT id, last_seq, :c, 'pgb-' || :client_id || '-' || :r, 'pgbench message', NULL FROM bump
        RETURNING *),
ev AS (INSERT INTO events (conversation_id, seq, pos, kind, actor_id, created_at, data)
       SELECT i.conversation_id, i.seq, b.activity_pos, 'message.created', i.sender_id, i.created_at,
              chatd_message_shape(i.conversation_id, i.seq, i.sender_id, i.client_msg_id, i.body,
                                  i.reply_to, i.created_at, i.edited_at, i.deleted, '{}'::jsonb,
                                  i.attachments, i.share)
       FROM ins i, bump b RETURNING data)
SELECT i.seq, ev.data::text FROM ins i, ev;
END;
