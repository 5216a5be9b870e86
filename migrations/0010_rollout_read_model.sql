-- rollouts projection: one row per rollout with each judged step's metrics, for GET /v1/rollouts
-- and the dashboard's rollout page; listed newest first.
CREATE TABLE rm_rollouts (
    rollout_id             uuid        PRIMARY KEY,
    state                  text        NOT NULL,
    candidate_version      text        NOT NULL,
    candidate_hash         text        NOT NULL,
    baseline_version       text        NOT NULL,
    baseline_hash          text        NOT NULL,
    reason                 text,
    canary_assets          text[]      NOT NULL DEFAULT '{}',
    pending_compensations  text[]      NOT NULL DEFAULT '{}',
    steps                  jsonb       NOT NULL DEFAULT '{}',
    started_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    position               bigint      NOT NULL
);
CREATE INDEX rm_rollouts_newest ON rm_rollouts (started_at DESC, rollout_id);
