-- Login attempts per username, for --rate-logins: a fixed window that starts
-- at the first attempt. Counting attempts (not failures) before the password
-- is checked bounds the guesses of concurrent attempts too; a successful
-- login removes the row. Usernames that do not exist count alike, so a
-- limited answer says nothing about whether an account exists. Shared by
-- every instance.
CREATE TABLE login_attempts (
  username     text COLLATE "C" PRIMARY KEY,
  window_start timestamptz NOT NULL,
  attempts     integer NOT NULL
);
CREATE INDEX login_attempts_by_window ON login_attempts (window_start);
