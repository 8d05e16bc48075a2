-- Recording an identity token's use (its last use and idle expiry) no longer drops it from
-- the read cache: only changes to the token's other columns are logged. The cache checks a
-- cached token that looks expired against the table (see store::tokens::find_live_cached).
DROP TRIGGER refresh_token_changes_logged ON refresh_token;
CREATE TRIGGER refresh_token_delete_logged AFTER DELETE ON refresh_token
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('id');
CREATE TRIGGER refresh_token_update_logged
    AFTER UPDATE OF id, realm_id, user_id, client_id, session_id, token_hash, kind, ip_address,
        created_at, sso, auth_time
    ON refresh_token
    FOR EACH ROW EXECUTE FUNCTION log_cache_change('id');
