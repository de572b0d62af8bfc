"""``python -m backend ROLE``: one role, configured from TELEMATICS_* variables."""

from __future__ import annotations

import logging
import sys

from backend.infra.log_lines import configure_logging
from backend.runtime.roles import ROLES, run_role
from backend.settings import BackendSettings


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ROLES:
        print(f"usage: python -m backend {{{'|'.join(ROLES)}}}", file=sys.stderr)
        return 2
    settings = BackendSettings()
    configure_logging(level=logging.WARNING, log_format=settings.log_format, role=argv[0])
    run_role(argv[0], settings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
