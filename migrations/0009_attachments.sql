-- Attachments (v1.1): uploads and the messages that carry them.
--
-- An upload's bytes live on disk under --data-dir, one file per distinct
-- content, named by its SHA-256 (no part of a path comes from a client).
-- Each upload is its own record here, even when its content is already
-- stored: records differ by uploader and age.
CREATE TABLE attachments (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uploader_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  mime         text NOT NULL,
  size         bigint NOT NULL CHECK (size > 0),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- The sweeper: does any record still name this content?
CREATE INDEX attachments_sha256_idx ON attachments (sha256);
-- The sweeper: old uploads first.
CREATE INDEX attachments_created_idx ON attachments (created_at);

-- Which live messages carry which attachment, in the message's order. A
-- delete removes the message's rows (a tombstone carries nothing), so a row
-- here is exactly "a message that is not deleted carries it": the rule for
-- who may read an attachment, and for what the sweeper keeps.
CREATE TABLE message_attachments (
  conversation_id  bigint NOT NULL,
  seq              bigint NOT NULL,
  position         int NOT NULL,
  attachment_id    bigint NOT NULL REFERENCES attachments (id),
  PRIMARY KEY (conversation_id, seq, position),
  FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
CREATE INDEX message_attachments_attachment_idx ON message_attachments (attachment_id);

-- The message as shown: its attachments rendered at send (records never
-- change, so the rendering cannot go stale) and its share, or null.
ALTER TABLE messages ADD COLUMN attachments jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE messages ADD COLUMN share jsonb;

-- The message shape for SQL callers (the pgbench baselines, chatd_message_json)
-- gains the two fields; the store renders the same (src/store/shapes.hpp).
CREATE FUNCTION chatd_message_shape(conversation_id bigint, seq bigint, sender_id bigint,
                                    client_msg_id text, body text, reply_to bigint,
                                    created_at timestamptz, edited_at timestamptz,
                                    deleted boolean, reactions jsonb,
                                    attachments jsonb, share jsonb) RETURNS jsonb
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
    'reactions', reactions,
    'attachments', attachments,
    'share', share)
$$;

CREATE OR REPLACE FUNCTION chatd_message_json(m messages) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT chatd_message_shape(
    m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.body, m.reply_to,
    m.created_at, m.edited_at, m.deleted,
    coalesce((SELECT jsonb_object_agg(r.emoji, r.n)
              FROM (SELECT emoji, count(*) AS n FROM reactions
                    WHERE conversation_id = m.conversation_id AND seq = m.seq
                    GROUP BY emoji) r), '{}'::jsonb),
    m.attachments, m.share)
$$;
