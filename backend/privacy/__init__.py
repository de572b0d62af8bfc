"""What the documents let us keep and send: retention windows per service, the tags on each
stored record, the sweeper that deletes on the day, and the data-volume budgets.

May import: ``backend.infra`` and the base modules; no domain imports it back except to tag
and meter its own records.
"""
