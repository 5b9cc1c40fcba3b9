-- Conversations, members, blocks, messages, reactions and the per-conversation
-- event log. Every conversation-scoped table leads its key with
-- conversation_id so the schema can later be distributed by that column.

CREATE TABLE blocks (
  blocker_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  blocked_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blocker_id, blocked_id)
);

-- Global, monotonic activity positions: orders "my conversations" by last
-- activity and makes snapshot pagination possible. Gaps are harmless here
-- (unlike seq, which lives per conversation and never has gaps).
CREATE SEQUENCE activity_pos;

CREATE TABLE conversations (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('direct', 'group')),
  title         text,
  -- 'small_id:large_id' for direct conversations: one per pair, by construction.
  direct_key    text UNIQUE,
  -- The last seq handed out; the next event takes last_seq + 1 under this row's lock.
  last_seq      bigint NOT NULL DEFAULT 0,
  activity_pos  bigint NOT NULL,
  created_by    bigint NOT NULL REFERENCES users (id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE members (
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  read_seq         bigint NOT NULL DEFAULT 0,
  joined_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, user_id)
);
-- "My conversations": every conversation of a user.
CREATE INDEX members_user_idx ON members (user_id, conversation_id);

CREATE TABLE messages (
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq              bigint NOT NULL,
  sender_id        bigint NOT NULL REFERENCES users (id),
  client_msg_id    text NOT NULL,
  body             text NOT NULL,
  reply_to         bigint,
  created_at       timestamptz NOT NULL DEFAULT now(),
  edited_at        timestamptz,
  deleted          boolean NOT NULL DEFAULT false,
  PRIMARY KEY (conversation_id, seq),
  -- Safe retries: one message per (conversation, sender, client_msg_id).
  CONSTRAINT messages_idempotency_key UNIQUE (conversation_id, sender_id, client_msg_id)
);

CREATE TABLE reactions (
  conversation_id  bigint NOT NULL,
  seq              bigint NOT NULL,
  emoji            text NOT NULL,
  user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq, emoji, user_id),
  FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);

-- The log. `data` is the payload exactly as clients receive it, written once
-- in the same transaction as the change, so delivery never re-reads messages.
CREATE TABLE events (
  conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq              bigint NOT NULL,
  pos              bigint NOT NULL,
  kind             text NOT NULL,
  actor_id         bigint NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  data             jsonb NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);

-- RFC 3339 UTC with milliseconds, as the API speaks it.
CREATE FUNCTION chatd_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- A message as the API shows it (reactions as {emoji: count}).
CREATE FUNCTION chatd_message_json(m messages) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'conversation_id', m.conversation_id,
    'seq', m.seq,
    'sender_id', m.sender_id,
    'client_msg_id', m.client_msg_id,
    'body', m.body,
    'reply_to', m.reply_to,
    'created_at', chatd_ts(m.created_at),
    'edited_at', CASE WHEN m.edited_at IS NULL THEN NULL ELSE chatd_ts(m.edited_at) END,
    'deleted', m.deleted,
    'reactions', coalesce((
      SELECT jsonb_object_agg(r.emoji, r.n)
      FROM (SELECT emoji, count(*) AS n FROM reactions
            WHERE conversation_id = m.conversation_id AND seq = m.seq
            GROUP BY emoji) r), '{}'::jsonb))
$$;
