-- Presence across instances. Each running chatd registers a row in
-- chatd_instances and refreshes seen_at every few seconds; a row per
-- (user, instance) says that instance holds at least one socket of the user.
-- A user is online while any row of theirs belongs to an instance seen
-- recently. An instance that dies stops refreshing; the others remove its rows
-- (and announce who went offline) once it has been silent past the expiry.
CREATE TABLE chatd_instances (
  id         bigserial PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  seen_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE presence (
  user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  instance_id bigint NOT NULL REFERENCES chatd_instances (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, instance_id)
);
CREATE INDEX presence_by_instance ON presence (instance_id);
