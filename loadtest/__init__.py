"""``telematics load``: a fleet of cars as Locust users, measured from outside.

Two halves that never share a process: the engine side (``car_user``, ``locustfile``,
``engine_events``) runs inside Locust, which imports gevent and patches the standard
library; everything else (profiles, schedules, measurements, verdicts, reports, the
runner that starts Locust) is plain Python that the command line imports. The engine
side may import the plain half, never the other way round (``tests/test_layering.py``).
"""

from pathlib import Path


def locustfile_path() -> Path:
    """The locustfile Locust is started with (never imported by the command line)."""
    return Path(__file__).resolve().parent / "locustfile.py"
