-- Replay reads the archive in event-time slices across all assets; a BRIN index on ts lets each
-- slice skip the blocks outside it (rows arrive roughly in event-time order), at almost no cost
-- to the writers, where a B-tree on ts would cost every COPY.
CREATE INDEX readings_archive_ts_brin ON readings_archive USING brin (ts) WITH (pages_per_range = 32);
