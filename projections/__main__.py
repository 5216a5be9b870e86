"""`python -m projections` runs the projector (what `pdm projector` starts).

Run-book:
    pdm projector                   # needs PDM_POSTGRES__URL (set for it by `pdm up`)
It catches every projection up with the event store's notification log (alert_timers today),
watches the reading archive for silent assets, and fires due timers (escalate, re-notify,
no-data) through the domain. Safe to restart at any moment: each batch of rows is committed
with its tracking position, and firing a timer twice has one effect. Stops on SIGTERM / Ctrl-C.
"""

import signal
import threading

from pdm.cli.common import require_infrastructure, service_settings
from projections.service import Projector

settings = service_settings("projector")
require_infrastructure(settings, "postgres")
stop = threading.Event()
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, lambda *_: stop.set())
projector = Projector(settings)
try:
    projector.run(stop)
finally:
    projector.close()
