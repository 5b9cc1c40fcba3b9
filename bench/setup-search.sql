-- Search fixtures, loaded with psql -v convs=C -v msgs=M after setup.sql:
-- user 1 belongs to C more group conversations holding M messages in all
-- (M / C each). Every tenth message is about music, one in ten thousand
-- names zanzibar, one in twenty says 大家你好.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE search_convs AS
WITH c AS (
  INSERT INTO conversations (kind, title, last_seq, activity_pos, created_by)
  SELECT 'group', 'search ' || g, 1 + :msgs / :convs, nextval('activity_pos'), 1
  FROM generate_series(1, :convs) g
  RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM c;
INSERT INTO members (conversation_id, user_id, role) SELECT id, 1, 'owner' FROM search_convs;
INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
SELECT id, 1, nextval('activity_pos'), 'conversation.created', 1, '{}'::jsonb FROM search_convs;
INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body)
SELECT c.id, s + 1, 1, 's' || n,
       'message ' || n || ' about ' ||
       (ARRAY['cats','dogs','birds','fish','trains','music','food','games','books','films'])[n % 10 + 1] ||
       CASE WHEN n % 10000 = 7 THEN ' in zanzibar' ELSE '' END ||
       CASE WHEN n % 20 = 3 THEN ' 大家你好' ELSE '' END
FROM search_convs c, generate_series(1, :msgs / :convs) s,
     LATERAL (SELECT c.k * (:msgs / :convs) + s AS n) x;
COMMIT;
