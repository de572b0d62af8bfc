"""Content expectations: what a desk received of a car's incident, field by field.

The MSD is read back from the JSON form the desk shows (``protocols.msd.jsonform``), so
its messageIdentifier, timestamp, position and VIN are compared as the standard states
them; any other field of the record (the HV call's documented fields, the charging state
the backend saw) is named by a dotted path into the record as the API shows it.
"""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

import httpx

from protocols.errors import ProtocolError
from protocols.geo import km_between
from protocols.msd.jsonform import msd_from_json
from protocols.msd.model import Msd
from vehicle_sim.checks.polling import poll
from vehicle_sim.checks.view import RunView, Verdict
from vehicle_sim.scenario_checks import ContentDef

_MISSING = object()


def at_path(record: dict[str, Any], path: str) -> object:
    """The value at a dotted ``path`` of ``record`` (list items by index), or a marker
    that compares unequal to everything when the path is not there."""
    value: object = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _msd_problems(expect: ContentDef, msd: Msd, vin: str,
                  position: tuple[float, float]) -> list[str]:
    problems = []
    if expect.timestamp is not None:
        wanted = expect.timestamp if expect.timestamp.tzinfo else \
            expect.timestamp.replace(tzinfo=UTC)
        if abs(msd.timestamp - wanted.timestamp()) > expect.tolerance_s:
            problems.append(f"MSD timestamp {msd.timestamp}, expected {wanted.isoformat()}")
    if expect.position_within_m is not None:
        off_m = 1000 * km_between(msd.location.latitude_deg, msd.location.longitude_deg,
                                  *position)
        if off_m > expect.position_within_m:
            problems.append(f"MSD position {off_m:.0f} m from the car")
    if expect.vin and msd.vin != vin:
        problems.append(f"MSD VIN {msd.vin}, expected {vin}")
    return problems


def content_problems(expect: ContentDef, record: dict[str, Any], vin: str,
                     position: tuple[float, float]) -> list[str]:
    """Every way ``record`` (as the desk shows it) differs from ``expect``."""
    problems = []
    if expect.msg_ids is not None:
        seen = [int(t["msg_id"]) for t in record.get("transmissions", [])]
        if seen != expect.msg_ids:
            problems.append(f"messageIdentifiers {seen}, expected {expect.msg_ids}")
    if expect.timestamp is not None or expect.position_within_m is not None or expect.vin:
        try:
            msd = msd_from_json(record["msd"])
        except (KeyError, TypeError, ProtocolError):
            problems.append("the desk holds no readable MSD")
        else:
            problems.extend(_msd_problems(expect, msd, vin, position))
    for path, wanted in expect.fields.items():
        got = at_path(record, path)
        if got != wanted:
            problems.append(f"{path} is {'missing' if got is _MISSING else repr(got)}, "
                            f"expected {wanted!r}")
    return problems


async def check_content(client: httpx.AsyncClient, expect: ContentDef, view: RunView, *,
                        timeout_s: float) -> Verdict:
    car = view.cars[expect.vehicle]
    deadline = time.monotonic() + timeout_s
    for incident in sorted(car.incidents):
        record = await poll(client, f"/desks/{expect.desk}/incidents/{incident}",
                            lambda r: not content_problems(expect, r, car.vin, car.position),
                            deadline)
        if record is None:
            continue
        problems = content_problems(expect, record, car.vin, car.position)
        if problems:
            return Verdict(False, f"{incident} at {expect.desk}: " + "; ".join(problems))
        return Verdict(True, f"{incident} at {expect.desk} as expected")
    return Verdict(False, f"{expect.desk} holds no incident of {expect.vehicle}")
