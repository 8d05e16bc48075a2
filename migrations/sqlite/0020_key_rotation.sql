-- Key rotation with a pre-generated next key (see src/key_rotation.rs). A realm's next key
-- of an algorithm is PASSIVE (published in the JWKS and every registry bundle, verifies,
-- never signs) with is_next set, until a rotation makes it ACTIVE. At most one per realm and
-- algorithm: the partial unique index makes two replicas racing to create it end with one.
-- activates_at is when a scheduled rotation promotes it (NULL: at the next manual rotation).
ALTER TABLE realm_key ADD COLUMN is_next BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE realm_key ADD COLUMN activates_at INTEGER;
CREATE UNIQUE INDEX realm_key_one_next ON realm_key (realm_id, algorithm) WHERE is_next;
CREATE INDEX realm_key_scheduled ON realm_key (activates_at) WHERE activates_at IS NOT NULL;

-- What each registry (a docker-v2 client) was last given: the key ids of the trust chain in
-- its last download from the console or the admin API, space-separated. Only downloads are
-- known: a bundle fetched from the public trust-chain address names no client.
CREATE TABLE registry_download (
    client_id     TEXT    NOT NULL PRIMARY KEY REFERENCES client (id) ON DELETE CASCADE,
    realm_id      TEXT    NOT NULL REFERENCES realm (id) ON DELETE CASCADE,
    kids          TEXT    NOT NULL,
    downloaded_at INTEGER NOT NULL
);
CREATE INDEX registry_download_realm ON registry_download (realm_id);
