-- Message requests, privacy settings and the push outbox (v1.1).

-- Per-user settings. Existing users keep v1 behaviour (everyone, receipts and
-- presence shown); a new user's policy is --default-dm-policy, set at insert.
ALTER TABLE users
  ADD COLUMN dm_policy text NOT NULL DEFAULT 'everyone'
    CHECK (dm_policy IN ('everyone', 'requests', 'nobody')),
  ADD COLUMN read_receipts boolean NOT NULL DEFAULT true,
  ADD COLUMN show_presence boolean NOT NULL DEFAULT true;

-- A member's standing toward the conversation: in the inbox, a message
-- request, or a declined request (hidden from both folders). accepted_at
-- records an explicit acceptance (accept, or opening the direct conversation
-- again). Whether a member has accepted a conversation is derived: created
-- it, accepted_at set, or sent a message in it. Nothing is counted.
ALTER TABLE members
  ADD COLUMN state text NOT NULL DEFAULT 'inbox'
    CHECK (state IN ('inbox', 'request', 'declined')),
  ADD COLUMN accepted_at timestamptz;

-- The push outbox: one row per (recipient, message), inserted in the
-- message's own transaction and deleted when delivered, skipped or given up.
-- No foreign keys: the worker joins members and messages when a job falls due
-- and skips one whose message or membership is gone, and the send path pays
-- for no extra checks.
CREATE TABLE push_jobs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id         bigint NOT NULL,
  conversation_id bigint NOT NULL,
  seq             bigint NOT NULL,
  sender_id       bigint NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  due_at          timestamptz NOT NULL,
  attempts        integer NOT NULL DEFAULT 0
);
CREATE INDEX push_jobs_due ON push_jobs (due_at);
CREATE INDEX push_jobs_user ON push_jobs (user_id, due_at);
