"""The services lane: Teleservice calls, Smart Maintenance, service partners, the vehicle
registry, and the dispatch of assistance requests and OTA events to their packages.

May import: ``backend.assistance``, ``backend.ota``, ``backend.privacy``, ``backend.infra``
and the base modules.
"""
