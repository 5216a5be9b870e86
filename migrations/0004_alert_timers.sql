-- Projections' positions in the event store's notification log, one row per projection.
-- A projection writes its rows and moves its position in the same transaction: exactly once.
CREATE TABLE projection_tracking (
    projection  text        PRIMARY KEY,
    position    bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Durable timers: pending escalations, re-notifications and no-data checks.
-- Alert timers are derived from alert events by the alert_timers projection; no-data timers
-- from the newest reading of each asset. The projector's timer runner fires due rows.
CREATE TABLE alert_timers (
    timer_key        text        PRIMARY KEY,   -- names one firing: firing it twice has one effect
    kind             text        NOT NULL,      -- renotify | escalate | no_data
    aggregate_id     uuid        NOT NULL,      -- the alert, or the asset for no_data
    asset_id         text        NOT NULL,
    due_at           timestamptz NOT NULL,
    last_reading_at  timestamptz,               -- no_data only
    source_position  bigint      NOT NULL DEFAULT 0,
    fired_at         timestamptz,
    fired_position   bigint,
    outcome          text
);

CREATE INDEX alert_timers_pending ON alert_timers (due_at) WHERE fired_at IS NULL;
CREATE INDEX alert_timers_aggregate ON alert_timers (aggregate_id);

-- The newest live (not backfilled) reading of each asset seen in the reading archive:
-- what decides whether an asset that was reporting has gone silent.
CREATE TABLE asset_last_reading (
    asset_id         text        PRIMARY KEY,
    last_reading_at  timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
