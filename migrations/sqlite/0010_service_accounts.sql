-- A client's service-account user is linked to the client itself (Keycloak's service
-- account client link), never found by its name: a user who merely has the name
-- `service-account-{clientId}` is nobody's service account, and deleting the client deletes
-- its service account.
ALTER TABLE app_user ADD COLUMN service_account_client_id TEXT
    REFERENCES client (id) ON DELETE CASCADE;

UPDATE app_user SET service_account_client_id = (
    SELECT c.id FROM client c
    WHERE c.realm_id = app_user.realm_id
      AND 'service-account-' || lower(c.client_id) = app_user.username
      AND c.service_accounts_enabled AND NOT c.public_client
    LIMIT 1)
WHERE username LIKE 'service-account-%';

CREATE UNIQUE INDEX app_user_service_account ON app_user (service_account_client_id)
    WHERE service_account_client_id IS NOT NULL;
