-- The newest page of the history conversation, exactly as chatd's store reads
-- it (src/store/message_store.cpp, msg_page_desc): the reader's membership
-- and 51 messages rendered with their reactions, in one statement.
WITH mem AS (SELECT c.id, c.kind, m.role, c.last_seq, m.read_seq FROM conversations c
             JOIN members m ON m.conversation_id = c.id AND m.user_id = 1 WHERE c.id = :conv)
SELECT mem.id, mem.kind, mem.role, mem.last_seq, mem.read_seq, p.* FROM mem
LEFT JOIN LATERAL (
  SELECT m.conversation_id, m.seq, m.sender_id, m.deleted,
         chatd_message_shape(m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.body,
                             m.reply_to, m.created_at, m.edited_at, m.deleted,
                             coalesce((SELECT jsonb_object_agg(r.emoji, r.n)
                                       FROM (SELECT emoji, count(*) AS n FROM reactions
                                             WHERE conversation_id = m.conversation_id AND seq = m.seq
                                             GROUP BY emoji) r), '{}'::jsonb),
                             m.attachments, m.share)::text
  FROM messages m WHERE m.conversation_id = mem.id AND m.seq > 0 AND m.seq < 9223372036854775807
  ORDER BY m.seq DESC LIMIT 51) p ON true;
