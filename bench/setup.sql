-- Bench fixtures, loaded with psql -v users=N -v members=M -v history=H.
-- Users 1..N with tokens 'bench' || lpad(id, 38, '0') (43 characters), stored
-- as chatd stores them: the hex SHA-256. Conversation i (1..N) is a direct
-- conversation of user i with user N+i... built the way chatd builds it, with
-- conversation.created at seq 1. Conversation N+1 is a group of the first M
-- users (fan-out). Conversation N+2 holds H messages (history).
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO users (username, display_name, password_hash)
SELECT 'bench' || g, 'bench ' || g, 'not-a-login' FROM generate_series(1, greatest(2 * :users, :members)) g;
INSERT INTO sessions (user_id, token_hash)
SELECT id, encode(sha256(convert_to('bench' || lpad(id::text, 38, '0'), 'UTF8')), 'hex') FROM users;

INSERT INTO conversations (kind, direct_key, last_seq, activity_pos, created_by)
SELECT 'direct', g || ':' || (g + :users), 1, nextval('activity_pos'), g FROM generate_series(1, :users) g;
INSERT INTO members (conversation_id, user_id, role)
SELECT g, g, 'member' FROM generate_series(1, :users) g
UNION ALL SELECT g, g + :users, 'member' FROM generate_series(1, :users) g;

INSERT INTO conversations (kind, title, last_seq, activity_pos, created_by)
VALUES ('group', 'fan-out', 1, nextval('activity_pos'), 1),
       ('group', 'history', 1 + :history, nextval('activity_pos'), 1);
INSERT INTO members (conversation_id, user_id, role)
SELECT :users + 1, g, CASE WHEN g = 1 THEN 'owner' ELSE 'member' END
FROM generate_series(1, :members) g;
INSERT INTO members (conversation_id, user_id, role) VALUES (:users + 2, 1, 'owner');

INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
SELECT id, 1, nextval('activity_pos'), 'conversation.created', created_by, '{}'::jsonb FROM conversations;
INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body)
SELECT :users + 2, s, 1, 'h' || s, 'history message number ' || s FROM generate_series(2, 1 + :history) s;
INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
SELECT :users + 2, s, nextval('activity_pos'), 'message.created', 1, '{}'::jsonb
FROM generate_series(2, 1 + :history) s;
COMMIT;
ANALYZE;
