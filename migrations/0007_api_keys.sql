-- API keys (`pdm_<key_id>_<secret>`): only a SHA-256 of the secret is stored, so a leaked
-- table grants nothing; the key itself is printed once, by `pdm keys create`.
CREATE TABLE api_keys (
    key_id       text        PRIMARY KEY,   -- the public part of the key, shown in logs and lists
    name         text        NOT NULL,      -- recorded as the actor of every command sent with it
    scopes       text[]      NOT NULL,      -- ingest | read | operate | admin
    secret_hash  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz                -- revoked keys stay, so audits can still name them
);
