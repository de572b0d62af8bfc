"""``python -m backend ROLE``: one role, configured from TELEMATICS_* variables."""

from __future__ import annotations

import logging
import sys

from backend.runtime.roles import ROLES, run_role
from backend.settings import BackendSettings


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ROLES:
        print(f"usage: python -m backend {{{'|'.join(ROLES)}}}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING,
                        format=f"%(asctime)s {argv[0]} %(levelname)s %(name)s: %(message)s")
    run_role(argv[0], BackendSettings())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
