"""Roadside and Service-Intelligence assistance: who is entitled to what, and the cases.

May import: ``backend.privacy``, ``backend.infra`` and the base modules.
"""
