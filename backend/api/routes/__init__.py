"""HTTP routes, one module per resource: ``health``, ``desks``, ``vehicles``, ``partners``,
``assistance``, ``ota``, ``budgets``, ``retention``, ``traffic``. Each path prefix is
served by one module."""
