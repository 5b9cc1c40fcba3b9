-- A common term searched as chatd runs it (src/store/search_store.cpp:
-- search_walk, then search_render; here in one statement) for the searcher (-D uid=ID) over all
-- of their conversations: the walk finds the newest 21 keys, which are rendered.
-- :q is a Latin word (word prefix), given with -D q=WORD.
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
FROM chatd_search_walk(:uid, 0, jsonb_build_array(jsonb_build_object('pattern', '%' || :q || '%', 'regex', '\m' || :q)),
                       timestamptz 'epoch' + interval '1 microsecond' * 253402300799e6::double precision,
                       9223372036854775807, 9223372036854775807, 21, 1000) k
JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC;
