-- One term searched as chatd's store runs it (src/store/search_store.cpp,
-- search_find) for the searcher (-D uid=ID) over all of their conversations, newest 21
-- messages rendered; :q is a Latin word (word prefix), given with -D q=WORD.
SELECT m.conversation_id, m.seq, m.sender_id, m.deleted,
       jsonb_build_object('conversation_id', m.conversation_id, 'seq', m.seq,
         'sender_id', m.sender_id, 'client_msg_id', m.client_msg_id, 'body', m.body,
         'reply_to', m.reply_to, 'created_at', chatd_ts(m.created_at),
         'edited_at', CASE WHEN m.edited_at IS NULL THEN NULL ELSE chatd_ts(m.edited_at) END,
         'deleted', m.deleted,
         'reactions', coalesce((SELECT jsonb_object_agg(r.emoji, r.n) FROM (SELECT emoji, count(*) AS n
                                FROM reactions WHERE conversation_id = m.conversation_id AND seq = m.seq
                                GROUP BY emoji) r), '{}'::jsonb),
         'attachments', m.attachments, 'share', m.share)::text,
       (extract(epoch FROM m.created_at) * 1000000)::bigint
FROM members mm
JOIN messages m ON m.conversation_id = mm.conversation_id
WHERE mm.user_id = :uid
  AND NOT m.deleted
  AND m.body ILIKE '%' || :q || '%'
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_to_recordset(jsonb_build_array(jsonb_build_object(
                    'pattern', '%' || :q || '%', 'regex', '\m' || :q))) AS t(pattern text, regex text)
    WHERE NOT (m.body ILIKE t.pattern AND (t.regex IS NULL OR m.body ~* t.regex)))
ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC
LIMIT 21;
