-- The rollout saga's bookkeeping. Everything here derives from rollout events in the event
-- store, so it can be rebuilt; it exists so a restarted saga finds its work with one query.

-- How far the saga has read the event store's notification log for new rollouts.
CREATE TABLE rollout_saga_tracking (
    name        text        PRIMARY KEY,
    position    bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Rollouts the saga follows; finished_at is set once every effect of a final rollout
-- (promotion or compensations) has been published.
CREATE TABLE rollout_saga_rollouts (
    rollout_id        uuid        PRIMARY KEY,
    started_position  bigint      NOT NULL,
    finished_at       timestamptz
);
CREATE INDEX rollout_saga_rollouts_active ON rollout_saga_rollouts (rollout_id) WHERE finished_at IS NULL;

-- Durable step deadlines: one per rollout and state, due when the state has lasted too long.
-- A deadline of a state the rollout has left is marked 'left'; one that fired, 'timed_out'.
CREATE TABLE rollout_deadlines (
    rollout_id  uuid        NOT NULL,
    state       text        NOT NULL,
    due_at      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    fired_at    timestamptz,
    outcome     text,
    PRIMARY KEY (rollout_id, state)
);
CREATE INDEX rollout_deadlines_pending ON rollout_deadlines (due_at) WHERE fired_at IS NULL;
