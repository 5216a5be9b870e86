-- The reading archive: every valid reading, append-only, partitioned by month of event time.
-- Replay and retraining read it, so history outlives a broker that keeps little.
CREATE TABLE readings_archive (
    asset_id          text        NOT NULL,
    ts                timestamptz NOT NULL,
    reading_id        uuid        NOT NULL,
    revision          integer     NOT NULL DEFAULT 0,
    channels          text[]      NOT NULL,
    vals              float8[]    NOT NULL,
    flags             smallint    NOT NULL DEFAULT 0,   -- bit 0: late, bit 1: backfill
    source_partition  integer,
    source_offset     bigint,
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    -- A redelivered or re-sent reading hits this key and is ignored: the archive is idempotent.
    PRIMARY KEY (reading_id, revision, ts)
) PARTITION BY RANGE (ts);

CREATE INDEX readings_archive_asset_ts ON readings_archive (asset_id, ts);

-- Writers call this for each month a batch touches before inserting; concurrent callers are safe.
CREATE FUNCTION readings_archive_ensure_month(month_start date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    part text := format('readings_archive_%s', to_char(month_start, 'YYYY_MM'));
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(quote_ident(part)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF readings_archive FOR VALUES FROM (%L) TO (%L)',
            part, month_start, (month_start + interval '1 month')::date);
    END IF;
END $$;
