-- Search fixtures, loaded with psql -v convs=C -v msgs=M after setup.sql:
-- the user 'searcher' (a token like the others', by id) belongs to C group
-- conversations holding M messages in all (M / C each), and to no other:
-- the conversations the other scenarios write to are not theirs. Every tenth
-- message is about music, one in ten thousand names zanzibar, one in twenty
-- says 大家你好.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO users (username, display_name, password_hash)
VALUES ('searcher', 'searcher', 'not-a-login');
INSERT INTO sessions (user_id, token_hash)
SELECT id, encode(sha256(convert_to('bench' || lpad(id::text, 38, '0'), 'UTF8')), 'hex')
FROM users WHERE username = 'searcher';
SELECT id AS searcher FROM users WHERE username = 'searcher' \gset
CREATE TEMP TABLE search_convs AS
WITH c AS (
  INSERT INTO conversations (kind, title, last_seq, activity_pos, created_by)
  SELECT 'group', 'search ' || g, 1 + :msgs / :convs, nextval('activity_pos'), :searcher
  FROM generate_series(1, :convs) g
  RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM c;
INSERT INTO members (conversation_id, user_id, role) SELECT id, :searcher, 'owner' FROM search_convs;
INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
SELECT id, 1, nextval('activity_pos'), 'conversation.created', :searcher, '{}'::jsonb FROM search_convs;
INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body)
SELECT c.id, s + 1, :searcher, 's' || n,
       'message ' || n || ' about ' ||
       (ARRAY['cats','dogs','birds','fish','trains','music','food','games','books','films'])[n % 10 + 1] ||
       CASE WHEN n % 10000 = 7 THEN ' in zanzibar' ELSE '' END ||
       CASE WHEN n % 20 = 3 THEN ' 大家你好' ELSE '' END
FROM search_convs c, generate_series(1, :msgs / :convs) s,
     LATERAL (SELECT c.k * (:msgs / :convs) + s AS n) x;
COMMIT;
