-- The newest page of the history conversation, exactly as chatd's store reads it.
SELECT m.conversation_id, m.seq, m.sender_id, m.deleted, chatd_message_json(m)::text
  FROM messages m WHERE m.conversation_id = :conv ORDER BY m.seq DESC LIMIT 51;
