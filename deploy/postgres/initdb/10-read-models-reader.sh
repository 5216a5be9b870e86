#!/bin/sh
# Run by the postgres image once, when it initialises an empty data volume
# (/docker-entrypoint-initdb.d): the roles Grafana reads the read models with. `pdm migrate`
# grants `pdm_read_models` SELECT on the rm_* tables and projection_tracking, and nothing else
# (PDM_POSTGRES__READER_ROLE). For a volume initialised before this file existed, run the same
# two statements by hand, then `docker compose run --rm migrate`.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$PDM_GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE pdm_read_models NOLOGIN;
CREATE ROLE pdm_grafana LOGIN PASSWORD :'reader_password' IN ROLE pdm_read_models;
SQL
