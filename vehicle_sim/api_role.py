"""Who the emulator is when it calls the backend's API.

The scenario runner stands for every human party at once: the campaign operator, the
desks' operators, the service partner, the assistance specialist, and the QA engineer
checking expectations. It speaks as the OEM's operations staff (``operator``), the one
role the API lets see and act on everything; each party's narrower view is the API's
own business, tested there.
"""

from __future__ import annotations

from typing import Final

OPERATOR: Final = {"X-Role": "operator"}
