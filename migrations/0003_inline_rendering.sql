-- Rendering that the planner can inline. A SQL function is inlined into the
-- calling statement only when its body is one expression, no more volatile
-- than declared, without a subquery; otherwise every statement that calls it
-- parses and plans its body again, per execution. Profiles of the send path
-- showed that at a sixth of all CPU.
--
-- chatd_ts reads the session's settings through to_char: it is STABLE, and
-- saying so lets it inline. chatd_message_shape is the message as the API shows
-- it, given its reactions; the store passes the reactions (an aggregate it
-- writes inline, or '{}' for a message it just inserted). chatd_message_json
-- stays for the rarer paths and renders the same shape.
ALTER FUNCTION chatd_ts(timestamptz) STABLE;

CREATE FUNCTION chatd_message_shape(conversation_id bigint, seq bigint, sender_id bigint,
                                    client_msg_id text, body text, reply_to bigint,
                                    created_at timestamptz, edited_at timestamptz,
                                    deleted boolean, reactions jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
    'conversation_id', conversation_id,
    'seq', seq,
    'sender_id', sender_id,
    'client_msg_id', client_msg_id,
    'body', body,
    'reply_to', reply_to,
    'created_at', chatd_ts(created_at),
    'edited_at', CASE WHEN edited_at IS NULL THEN NULL ELSE chatd_ts(edited_at) END,
    'deleted', deleted,
    'reactions', reactions)
$$;

CREATE OR REPLACE FUNCTION chatd_message_json(m messages) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT chatd_message_shape(
    m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.body, m.reply_to,
    m.created_at, m.edited_at, m.deleted,
    coalesce((SELECT jsonb_object_agg(r.emoji, r.n)
              FROM (SELECT emoji, count(*) AS n FROM reactions
                    WHERE conversation_id = m.conversation_id AND seq = m.seq
                    GROUP BY emoji) r), '{}'::jsonb))
$$;
