"""`python -m projections.admin rebuild NAME`: what `pdm projections rebuild` runs.

Run-book:
    pdm projections rebuild alerts     # needs PDM_POSTGRES__URL; safe while the projector runs
Prints one JSON line with the position reached, the events read and the seconds taken.
"""

from __future__ import annotations

import json
import sys

from pdm.cli.common import require_infrastructure, service_settings
from pdm.eventstore import open_application
from pdm.infra.database import connect
from projections.rebuild import rebuild
from projections.registry import READ_MODELS


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "rebuild" or argv[1] not in READ_MODELS:
        print(f"usage: python -m projections.admin rebuild {{{','.join(READ_MODELS)}}}", file=sys.stderr)
        return 2
    settings = service_settings("projections")
    require_infrastructure(settings, "postgres")
    pg = settings.postgres
    app = open_application(pg)
    try:
        with connect(pg.conninfo(), pg.schema_name, autocommit=True) as conn:
            done = rebuild(app, conn, argv[1])
    finally:
        app.close()
    print(json.dumps({"projection": done.name, "position": done.position, "events": done.events,
                      "seconds": round(done.seconds, 3), "events_per_s": round(done.events_per_s)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
