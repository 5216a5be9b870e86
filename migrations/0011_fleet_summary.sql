-- fleet_summary projection (projections/fleet_summary.py): assets and open alerts by site and
-- status, moved by each batch's changes, so GET /v1/fleet/summary reads a few dozen rows
-- instead of grouping every asset per request (docs/benchmarks.md, "API").
CREATE TABLE rm_fleet_summary (
    site         text    NOT NULL,
    status       text    NOT NULL,
    assets       integer NOT NULL,
    open_alerts  integer NOT NULL,
    PRIMARY KEY (site, status)
);

-- The projection's own fold of asset health (shaped like rm_asset_health, which belongs to the
-- asset_health projection and moves at its own position), and of each alert's state.
CREATE TABLE rm_fleet_assets (LIKE rm_asset_health INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rm_fleet_assets ADD PRIMARY KEY (asset_id), ADD UNIQUE (aggregate_id);

CREATE TABLE rm_fleet_alerts (LIKE rm_asset_health_alerts INCLUDING ALL);

-- An existing database already has assets and alerts: the projector starts this projection at
-- position 0 (no tracking row yet), so it folds the whole log once and needs no backfill here.
