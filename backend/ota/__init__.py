"""Remote software upgrades: campaigns planned over the fleet, the OTA event lane, and the
vehicle facts (model, propulsion, OS, country) that targeting needs.

May import: ``backend.privacy``, ``backend.infra`` and the base modules.
"""
