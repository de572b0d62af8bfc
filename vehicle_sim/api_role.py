"""Who the emulator is when it calls the backend's API.

The scenario runner stands for every human party at once: the campaign operator, the
desks' operators, the service partner, the assistance specialist, and the QA engineer
checking expectations. It speaks as the OEM's operations staff (``operator``), the one
role the API lets see and act on everything; each party's narrower view is the API's
own business, tested there.

The emulator holds no key and mints nothing: whoever starts it signs it in and passes
the request headers that carry the token (``bearer``), which every API call then sends.
"""

from __future__ import annotations

from collections.abc import Mapping

ApiHeaders = Mapping[str, str]


def bearer(token: str) -> dict[str, str]:
    """The headers of an API call signed in with the OAuth 2 bearer ``token``."""
    return {"Authorization": f"Bearer {token}"}
