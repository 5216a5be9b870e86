-- Indexes for the query API's hot paths, found by `pdm bench api` (docs/benchmarks.md, "API"):
-- each filter the list routes offer reads its page straight off an index in the page's order.

-- /v1/alerts?site=&state= pages: without it, a site's last open alerts were found by walking
-- all of that site's alerts (a page past the last open one read the whole site).
CREATE INDEX rm_alerts_site_state_page ON rm_alerts (site, state, raised_at DESC, alert_id DESC);

-- /v1/assets?site= and ?status= pages, in asset-id order (the cursor), without a sort.
CREATE INDEX rm_asset_health_site_page ON rm_asset_health (site, asset_id);
CREATE INDEX rm_asset_health_status_page ON rm_asset_health (status, asset_id);

-- /v1/fleet/summary: GROUP BY site, status from the index alone (index-only scan, no sort).
CREATE INDEX rm_asset_health_summary ON rm_asset_health (site, status) INCLUDE (open_alerts);
DROP INDEX rm_asset_health_site_status;
