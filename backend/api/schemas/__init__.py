"""The bodies of the HTTP API, one module per resource as in ``routes/``: what a request
may send (``...In``) and what a response shows (``...Public``, public views only)."""
