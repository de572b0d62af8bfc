"""Plumbing every lane shares: the MQTT lane link, Redis streams and their key names,
retries, at-most-once writes, counters, the scenario clock follower, readiness proofs and
typed records as Redis hashes.

May import: ``backend.errors``, ``backend.settings``, ``backend.dates``, ``backend.geo``
and ``protocols``; nothing of the domains above it.
"""
