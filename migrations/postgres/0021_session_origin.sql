-- What tells one sign-in apart from another on the console. `user_agent`: the User-Agent of
-- the program that made a session or token (capped at 256 characters where it is recorded).
-- `client`: the clientId of the client a session was started through, kept as text so that it
-- reads as it did when the session began. Rows made before these columns have neither.
ALTER TABLE user_session ADD COLUMN user_agent TEXT;
ALTER TABLE user_session ADD COLUMN client TEXT;
ALTER TABLE refresh_token ADD COLUMN user_agent TEXT;
