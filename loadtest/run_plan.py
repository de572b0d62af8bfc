"""What a load process needs to know, handed from the command to Locust as one JSON file.

The command line (a plain process) resolves the profile, the broker, the identities and
where to write; the Locust processes (gevent) read it back with ``read``. A worker on
another machine gets its own file from its own ``telematics load --worker``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from loadtest.profile import Profile

PLAN_ENV: Final = "TELEMATICS_LOAD_PLAN"
PROGRESS_FILE: Final = "progress.json"  # rewritten while the run goes on
RESULT_FILE: Final = "figures.json"  # the merged figures, rewritten until the run ends


@dataclass(frozen=True, slots=True)
class RunPlan:
    """``ca_dir`` is a certificate authority directory (``pki.authority``) each car's
    certificate is issued from when the broker wants TLS; ``identities_dir`` instead
    holds ready ``{VIN}.crt``/``{VIN}.key`` beside ``ca.crt``. ``source_addresses`` are
    the local addresses cars bind to in turn (several loopback addresses give a loopback
    broker more ephemeral ports); empty: the system picks. ``workers`` is how many
    processes share the fleet, so each numbers its cars apart."""

    profile: Profile
    broker_url: str
    out_dir: str
    workers: int = 1
    ca_dir: str = ""
    identities_dir: str = ""
    source_addresses: tuple[str, ...] = field(default_factory=tuple)
    keepalive_s: int = 60

    def to_json(self) -> str:
        data = asdict(self)
        data["profile"] = self.profile.model_dump(mode="json")
        return json.dumps(data, indent=1)

    @property
    def out(self) -> Path:
        return Path(self.out_dir)


def read(path: Path) -> RunPlan:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["profile"] = Profile.model_validate(data["profile"])
    data["source_addresses"] = tuple(data.get("source_addresses", ()))
    return RunPlan(**data)


def write_json(path: Path, data: object) -> None:
    """Replace ``path`` at once, so a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)
