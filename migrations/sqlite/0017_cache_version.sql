-- The shared cache version of PostgreSQL replicas (see migrations/postgres/0017 and
-- src/store/cache.rs). SQLite has one server per file, whose writer connection tells its
-- cache of every write, so no trigger bumps it here: the table exists so that both
-- databases hold the same schema.
CREATE TABLE cache_version (
    id      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    version INTEGER NOT NULL
);
INSERT INTO cache_version (id, version) VALUES (TRUE, 0);
