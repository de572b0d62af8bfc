"""Redis key names, in one place, for the two domains the backend touches.

OEM domain (database ``oem_db`` of ``redis_url``): the call centre's stream and cases,
ingest counters. PSAP domain (database ``psap_db`` of its own Redis, ``psap_redis_url``):
stands for the public authority's systems; the OEM relay only appends to its intake
streams (``psap:intake:*``, de-duplicated by ``psap:seen:*``) and cannot read them back.
"""

from __future__ import annotations

from typing import Final

# OEM domain
CALLCENTRE_STREAM: Final = "cc:intake"
CALLCENTRE_GROUP: Final = "callcentre"
CASE_INDEX: Final = "cc:cases"
INGEST_COUNTERS: Final = "metrics:ingest"
ERROR_COUNTERS: Final = "metrics:errors"
BULK_COUNTERS: Final = "metrics:bulk"
DESK_COUNTERS: Final = "metrics:desks"
# Answers to refused uplinks (``backend.infra.rejection_replies``): sent, held back by
# the rate limits, or impossible (no car named by the topic).
REPLY_COUNTERS: Final = "metrics:rejection-replies"
READY: Final = "lanes:ready"

# PSAP domain
PSAP_GROUP: Final = "desk"
PSAP_STREAM_PREFIX: Final = "psap:intake:"


def case_key(incident: str) -> str:
    return f"cc:case:{incident}"


def extended_key(incident: str) -> str:
    """An Intelligent eCall's extended technical data, kept apart for its 30-day rule."""
    return f"cc:case:{incident}:extended"


def voice_recording_key(incident: str) -> str:
    """The reference to an Intelligent eCall's voice recording, kept apart for 24 hours."""
    return f"cc:case:{incident}:voice"


def oem_dedup_key(vin: str, incident: str, msg_id: int) -> str:
    """Bound to the sending car: another VIN reusing an incident id is another message."""
    return f"cc:seen:{vin}:{incident}:{msg_id}"


def psap_stream(desk: str) -> str:
    return f"{PSAP_STREAM_PREFIX}{desk}"


def psap_dedup_key(vin: str, incident: str, msg_id: int) -> str:
    """Bound to the sending car (``vin`` is empty for a voice call, which carries none)."""
    return f"psap:seen:{vin or 'voice'}:{incident}:{msg_id}"


def psap_incident_key(incident: str) -> str:
    return f"psap:incident:{incident}"


def psap_index(desk: str) -> str:
    return f"psap:index:{desk}"
