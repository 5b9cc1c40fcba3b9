-- PostgreSQL's ceiling for the shape of chatd's send benchmark: 64 messages
-- per transaction in one statement, as ceiling.sql, but one message to each
-- of 64 conversations, as chatd's batches carry them (each bench client sends
-- to a conversation of its own, so a batch of n messages is n conversations).
-- Each conversation costs its own index leaves and its own seq bump. pgbench
-- client i appends to conversations i*64+1 .. i*64+64, which no other client
-- touches (run it with users/64 clients at most), so reading last_seq
-- without a lock is safe here.
\set first :client_id * 64 + 1
\set r random(1, 2000000000)
WITH base AS (
  SELECT id, last_seq FROM conversations WHERE id BETWEEN :first AND :first + 63),
ins AS (
  INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body, reply_to)
  SELECT b.id, b.last_seq + 1, b.id, 'pgs-' || :client_id || '-' || :r,
         'pgbench message', NULL
  FROM base b
  RETURNING *),
ev AS (
  INSERT INTO events (conversation_id, seq, pos, kind, actor_id, created_at, data)
  SELECT i.conversation_id, i.seq, nextval('activity_pos'), 'message.created', i.sender_id,
         i.created_at,
         chatd_message_shape(i.conversation_id, i.seq, i.sender_id, i.client_msg_id, i.body,
                             i.reply_to, i.created_at, i.edited_at, i.deleted, '{}'::jsonb,
                             i.attachments, i.share)
  FROM (SELECT * FROM ins ORDER BY conversation_id) i
  RETURNING conversation_id, seq, pos),
bump AS (
  UPDATE conversations c SET last_seq = ev.seq, activity_pos = ev.pos
  FROM ev WHERE c.id = ev.conversation_id)
SELECT count(*) FROM ev;
