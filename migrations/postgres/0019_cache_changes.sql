-- Which cached rows a write changed, so that replicas drop those entries and keep the rest
-- (see src/store/cache.rs). Each changed row bumps the shared cache version and logs its key
-- under the new version, in the writer's transaction; the version row's lock orders the
-- writers, so versions are committed in order and a replica that has read version V finds
-- every change up to V in the log. New rows change no cached entry, since a lookup that found
-- nothing is never cached, so inserts are logged only where a cached entry sums up several
-- rows (a realm's keys). Any change to a realm, and a TRUNCATE, drop
-- everything. The log is pruned by version (src/event_retention.rs); a replica that fell
-- further behind than the log reaches drops its whole cache.
CREATE TABLE cache_change (
    version BIGINT NOT NULL PRIMARY KEY,
    tbl     TEXT   NOT NULL,
    key     TEXT   NOT NULL
);

DROP TRIGGER realm_changes_cache ON realm;
DROP TRIGGER client_changes_cache ON client;
DROP TRIGGER app_user_changes_cache ON app_user;
DROP TRIGGER credential_changes_cache ON credential;
DROP TRIGGER refresh_token_changes_cache ON refresh_token;
DROP TRIGGER realm_key_changes_cache ON realm_key;
DROP FUNCTION bump_cache_version();

-- Logs the row's key column (the trigger's argument) under a new version.
CREATE FUNCTION log_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next BIGINT;
    row_key TEXT;
BEGIN
    UPDATE cache_version SET version = version + 1 RETURNING version INTO next;
    IF TG_LEVEL = 'STATEMENT' THEN
        row_key := '';
    ELSIF TG_OP = 'INSERT' THEN
        row_key := to_jsonb(NEW) ->> TG_ARGV[0];
    ELSE
        row_key := to_jsonb(OLD) ->> TG_ARGV[0];
    END IF;
    INSERT INTO cache_change (version, tbl, key) VALUES (next, TG_TABLE_NAME, row_key);
    RETURN NULL;
END
$$;

CREATE TRIGGER realm_changes_logged AFTER UPDATE OR DELETE ON realm
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('id');
CREATE TRIGGER client_changes_logged AFTER UPDATE OR DELETE ON client
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('id');
CREATE TRIGGER app_user_changes_logged AFTER UPDATE OR DELETE ON app_user
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('id');
CREATE TRIGGER credential_changes_logged AFTER UPDATE OR DELETE ON credential
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('user_id');
CREATE TRIGGER refresh_token_changes_logged AFTER UPDATE OR DELETE ON refresh_token
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('id');
CREATE TRIGGER realm_key_changes_logged AFTER INSERT OR UPDATE OR DELETE ON realm_key
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('realm_id');

CREATE TRIGGER realm_truncate_logged AFTER TRUNCATE ON realm
    FOR EACH STATEMENT EXECUTE FUNCTION log_cache_change();
CREATE TRIGGER client_truncate_logged AFTER TRUNCATE ON client
    FOR EACH STATEMENT EXECUTE FUNCTION log_cache_change();
CREATE TRIGGER app_user_truncate_logged AFTER TRUNCATE ON app_user
    FOR EACH STATEMENT EXECUTE FUNCTION log_cache_change();
CREATE TRIGGER credential_truncate_logged AFTER TRUNCATE ON credential
    FOR EACH STATEMENT EXECUTE FUNCTION log_cache_change();
CREATE TRIGGER refresh_token_truncate_logged AFTER TRUNCATE ON refresh_token
    FOR EACH STATEMENT EXECUTE FUNCTION log_cache_change();
CREATE TRIGGER realm_key_truncate_logged AFTER TRUNCATE ON realm_key
    FOR EACH STATEMENT EXECUTE FUNCTION log_cache_change();
