-- Mute (v1.1), per member: muted until unmuted (muted_until NULL) or until a
-- time. An expired mute is no mute: readers compare muted_until with now(),
-- so nothing has to run when it passes. Muted conversations will make no push
-- jobs; delivery is unchanged.
ALTER TABLE members
  ADD COLUMN muted boolean NOT NULL DEFAULT false,
  ADD COLUMN muted_until timestamptz;
