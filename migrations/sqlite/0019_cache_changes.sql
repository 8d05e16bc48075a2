-- Which cached rows a write changed, so that the read cache drops those entries and keeps the
-- rest (see src/store/cache.rs). A trigger logs the key of each changed row; the writer
-- connection takes the log (and empties it) when it goes back to its pool. New rows change no
-- cached entry, since a lookup that found nothing is never cached, so inserts are logged only
-- where a cached entry sums up several rows (a realm's keys). Any change
-- to a realm drops everything, as a deleted realm takes its clients, users and keys with it.
-- PostgreSQL numbers the changes with the shared cache version instead (migrations/postgres).
CREATE TABLE cache_change (
    version INTEGER NOT NULL PRIMARY KEY,
    tbl     TEXT    NOT NULL,
    key     TEXT    NOT NULL
);

CREATE TRIGGER realm_update_logged AFTER UPDATE ON realm BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('realm', OLD.id);
END;
CREATE TRIGGER realm_delete_logged AFTER DELETE ON realm BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('realm', OLD.id);
END;
CREATE TRIGGER client_update_logged AFTER UPDATE ON client BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('client', OLD.id);
END;
CREATE TRIGGER client_delete_logged AFTER DELETE ON client BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('client', OLD.id);
END;
CREATE TRIGGER app_user_update_logged AFTER UPDATE ON app_user BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('app_user', OLD.id);
END;
CREATE TRIGGER app_user_delete_logged AFTER DELETE ON app_user BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('app_user', OLD.id);
END;
CREATE TRIGGER credential_update_logged AFTER UPDATE ON credential BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('credential', OLD.user_id);
END;
CREATE TRIGGER credential_delete_logged AFTER DELETE ON credential BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('credential', OLD.user_id);
END;
CREATE TRIGGER refresh_token_update_logged AFTER UPDATE ON refresh_token BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('refresh_token', OLD.id);
END;
CREATE TRIGGER refresh_token_delete_logged AFTER DELETE ON refresh_token BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('refresh_token', OLD.id);
END;
CREATE TRIGGER realm_key_insert_logged AFTER INSERT ON realm_key BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('realm_key', NEW.realm_id);
END;
CREATE TRIGGER realm_key_update_logged AFTER UPDATE ON realm_key BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('realm_key', OLD.realm_id);
END;
CREATE TRIGGER realm_key_delete_logged AFTER DELETE ON realm_key BEGIN
    INSERT INTO cache_change (tbl, key) VALUES ('realm_key', OLD.realm_id);
END;
