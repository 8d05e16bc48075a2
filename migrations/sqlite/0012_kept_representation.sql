-- What a Keycloak realm file carries that keywarden does not implement (authentication
-- flows, client scopes, identity providers, components, the realm's SSL, OTP and WebAuthn
-- policies, a client's protocol mappers and authorization settings, ...). An import keeps
-- it here and an export gives it back, so a realm can move in and out without loss.
--
-- realm.kept: a JSON object of the realm representation's fields, by Keycloak's names.
--   One column rather than a table per section: keywarden never queries inside it, it only
--   hands it back whole, and a later version that implements a section moves that key out.
-- client.kept: the same for a client representation's fields.
-- Both default to an empty object, which is what every realm and client made before holds.
ALTER TABLE realm ADD COLUMN kept TEXT NOT NULL DEFAULT '{}';
ALTER TABLE client ADD COLUMN kept TEXT NOT NULL DEFAULT '{}';
