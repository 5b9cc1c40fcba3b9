-- Message search (v1.1): a trigram index over live message bodies. pg_trgm
-- serves both ways the API matches: ILIKE '%term%' (substring: Chinese,
-- Japanese, Korean, emoji) and ~* '\mterm' (word prefix: Latin script), case
-- insensitively. Deleted messages keep an empty body and are left out of the
-- index (the partial predicate matches the queries' NOT deleted).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_body_trgm ON messages USING gin (body gin_trgm_ops) WHERE NOT deleted;
