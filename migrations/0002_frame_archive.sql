-- Waveform frames (N samples of one channel at a fixed rate), one row per frame.
CREATE TABLE frames_archive (
    asset_id          text             NOT NULL,
    channel           text             NOT NULL,
    ts_start          timestamptz      NOT NULL,
    sample_rate_hz    double precision NOT NULL,
    samples           float8[]         NOT NULL,
    frame_id          uuid             NOT NULL,
    flags             smallint         NOT NULL DEFAULT 0,
    source_partition  integer,
    source_offset     bigint,
    ingested_at       timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (frame_id)
);

CREATE INDEX frames_archive_asset_ts ON frames_archive (asset_id, channel, ts_start);
