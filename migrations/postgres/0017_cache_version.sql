-- How replicas keep their read caches true (see src/store/cache.rs). Every statement that
-- changes a table whose rows a replica caches (realms, clients, users, credentials, tokens,
-- keys) bumps one counter in the same transaction. A request reads the counter before it
-- trusts its cache, so a write acknowledged by any replica is seen by every request that
-- starts after the acknowledgement, on every replica.
-- PostgreSQL only: on SQLite one process owns the file and learns of writes from its own
-- writer connection.
CREATE TABLE cache_version (
    id      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    version BIGINT  NOT NULL
);
INSERT INTO cache_version (id, version) VALUES (TRUE, 0);

CREATE FUNCTION bump_cache_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER realm_changes_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON realm
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER client_changes_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON client
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER app_user_changes_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_user
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER credential_changes_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON credential
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER refresh_token_changes_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON refresh_token
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
CREATE TRIGGER realm_key_changes_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON realm_key
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version();
