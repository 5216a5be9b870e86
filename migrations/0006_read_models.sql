-- Read models of the query API, written only by projections (projections/), each table with
-- its projection's position in projection_tracking, moved in the same transaction as its rows.

ALTER TABLE projection_tracking
    ADD COLUMN last_error    text,
    ADD COLUMN last_error_at timestamptz;

-- Poison events: a projection that raised on an event parks it here with the error, and every
-- later event of the same aggregate is held behind it (held_behind = the poison's position),
-- so the aggregate's rows never skip a step while the other aggregates move on.
CREATE TABLE projection_parked (
    projection     text        NOT NULL,
    position       bigint      NOT NULL,
    originator_id  uuid        NOT NULL,
    topic          text        NOT NULL,
    error          text,
    held_behind    bigint,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, position)
);
CREATE INDEX projection_parked_aggregate ON projection_parked (projection, originator_id);

-- alerts projection: one row per alert, in the order the list pages (raised_at, alert_id).
CREATE TABLE rm_alerts (
    alert_id         uuid        PRIMARY KEY,
    asset_id         text        NOT NULL,
    site             text        NOT NULL DEFAULT '',
    kind             text        NOT NULL,
    episode          integer     NOT NULL,
    state            text        NOT NULL,
    severity         text        NOT NULL,
    first_score      double precision NOT NULL,
    peak_score       double precision NOT NULL,
    threshold        double precision NOT NULL,
    model_version    text        NOT NULL,
    raised_at        timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    window_count     integer     NOT NULL,
    acknowledged_by  text,
    resolved_by      text,
    resolution       text,
    fault_confirmed  boolean,
    suppressed_until timestamptz,
    recorded_at      timestamptz NOT NULL,  -- when Raised was stored: time travel starts here
    updated_at       timestamptz NOT NULL,
    version          integer     NOT NULL,
    position         bigint      NOT NULL
);
CREATE INDEX rm_alerts_page ON rm_alerts (raised_at DESC, alert_id DESC);
CREATE INDEX rm_alerts_state_page ON rm_alerts (state, raised_at DESC, alert_id DESC);
CREATE INDEX rm_alerts_asset_page ON rm_alerts (asset_id, raised_at DESC, alert_id DESC);
CREATE INDEX rm_alerts_site_page ON rm_alerts (site, raised_at DESC, alert_id DESC);

-- The alerts projection's own copy of each asset's site, so alerts filter by site.
CREATE TABLE rm_alert_sites (
    aggregate_id uuid PRIMARY KEY,
    asset_id     text NOT NULL,
    site         text NOT NULL
);
CREATE INDEX rm_alert_sites_asset ON rm_alert_sites (asset_id);

-- alert_timeline projection: every transition of every alert, with actor and note.
CREATE TABLE rm_alert_timeline (
    alert_id        uuid        NOT NULL,
    version         integer     NOT NULL,
    position        bigint      NOT NULL,
    event_type      text        NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text        NOT NULL,
    note            text,
    details         jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (alert_id, version)
);

-- asset_health projection: what an asset is and how it is doing, from asset and alert events.
CREATE TABLE rm_asset_health (
    asset_id        text        PRIMARY KEY,
    aggregate_id    uuid        NOT NULL UNIQUE,
    site            text        NOT NULL,
    kind            text        NOT NULL,
    classified      boolean     NOT NULL,
    decommissioned  boolean     NOT NULL DEFAULT false,
    status          text        NOT NULL,
    open_alerts     integer     NOT NULL DEFAULT 0,
    channels        jsonb       NOT NULL,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    position        bigint      NOT NULL
);
CREATE INDEX rm_asset_health_site_status ON rm_asset_health (site, status);

-- The asset_health projection's view of each alert: enough to count open ones and rank them.
CREATE TABLE rm_asset_health_alerts (
    alert_id  uuid PRIMARY KEY,
    asset_id  text NOT NULL,
    state     text NOT NULL,
    severity  text NOT NULL
);
CREATE INDEX rm_asset_health_alerts_asset ON rm_asset_health_alerts (asset_id);

-- models projection: every model version and its verdicts.
CREATE TABLE rm_models (
    artifact_hash        text        PRIMARY KEY,
    model_id             uuid        NOT NULL,
    algorithm            text        NOT NULL,
    state                text        NOT NULL,
    feature_set_version  text        NOT NULL,
    training_from        timestamptz NOT NULL,
    training_to          timestamptz NOT NULL,
    metrics              jsonb       NOT NULL,
    backtest_metrics     jsonb       NOT NULL DEFAULT '{}',
    verdict_reason       text        NOT NULL DEFAULT '',
    trained_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    position             bigint      NOT NULL
);

-- score_series projection (from pdm.scores.v1, not the event store): one-minute buckets per
-- asset, the newest score per asset, and the offsets consumed, all moved in one transaction.
CREATE TABLE rm_score_series (
    asset_id       text        NOT NULL,
    bucket         timestamptz NOT NULL,
    n              integer     NOT NULL,
    score_sum      double precision NOT NULL,
    score_min      double precision NOT NULL,
    score_max      double precision NOT NULL,
    threshold      double precision NOT NULL,
    anomalous      integer     NOT NULL,
    model_version  text        NOT NULL,
    PRIMARY KEY (asset_id, bucket)
);

CREATE TABLE rm_asset_latest_score (
    asset_id       text        PRIMARY KEY,
    ts             timestamptz NOT NULL,
    score          double precision NOT NULL,
    threshold      double precision NOT NULL,
    is_anomalous   boolean     NOT NULL,
    model_version  text        NOT NULL
);

CREATE TABLE score_offsets (
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint  NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);
