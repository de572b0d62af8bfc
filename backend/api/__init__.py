"""The HTTP API: the app factory, dependencies, the access policy per role and party, the
bearer tokens, and ``routes/`` with one module per resource.

May import every domain package below it; nothing imports the API except ``backend.runtime``.
"""
