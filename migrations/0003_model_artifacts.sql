-- Trained model artifacts by content hash (sha256 of the canonical bytes): immutable, insert-only.
-- A deployment names a hash; every worker loads the same bytes and re-checks the hash.
CREATE TABLE model_artifacts (
    artifact_hash  text        PRIMARY KEY CHECK (artifact_hash ~ '^[0-9a-f]{64}$'),
    body           bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
