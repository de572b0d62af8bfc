"""The HTTP API: the app factory, dependencies, the access policy per role and party, the
bearer tokens, ``routes/`` with one module per resource and ``schemas/`` with their
bodies, and the one error body: each error's status (``error_statuses``) and the handlers
that answer with it (``error_handlers``).

May import every domain package below it; nothing imports the API except ``backend.runtime``.
"""
