"""`python -m projections` runs the projector (what `pdm projector` starts).

Run-book:
    pdm projector                   # needs PDM_POSTGRES__URL (set for it by `pdm up`)
    curl localhost:6067/metrics     # positions, lag, parked, timers (PDM_PROJECTOR__METRICS_PORT)
It catches every projection up with the event store's notification log (alert_timers today),
watches the reading archive for silent assets, and fires due timers (escalate, re-notify,
no-data) through the domain. Safe to restart at any moment: each batch of rows is committed
with its tracking position, and firing a timer twice has one effect. Stops on SIGTERM / Ctrl-C.
"""

import signal
import threading

from prometheus_client import start_http_server

from pdm.cli.common import require_infrastructure, service_settings
from pdm.logs import get_logger
from pdm.observability.metrics import new_registry
from pdm.observability.projector import ProjectorCollector
from projections.service import Projector

settings = service_settings("projector")
require_infrastructure(settings, "postgres")
stop = threading.Event()
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, lambda *_: stop.set())
projector = Projector(settings)
if port := settings.projector.metrics_port:
    registry = new_registry()
    pg = settings.postgres
    head = projector.app.recorder.max_notification_id
    registry.register(ProjectorCollector(pg.conninfo(), pg.schema_name, head))
    try:
        start_http_server(port, addr="127.0.0.1" if settings.environment == "development" else "0.0.0.0",
                          registry=registry)
    except OSError as exc:  # a busy port costs the metrics, never the projector
        get_logger("projections").warning("projector_metrics_unavailable", port=port, error=str(exc))
try:
    projector.run(stop)
finally:
    projector.close()
