"""The telematics backend: it takes what cars publish and routes it to the people who act.

Packages by domain, lowest first; a package imports only those on its own line or above it
(``tests/test_layering.py`` keeps it so)::

    errors, settings, dates, geo   the shared base: one error root, configuration, calendar, places
    infra/        MQTT link, Redis streams, retries, counters and their key names, clock, readiness
    privacy/      retention windows, the sweeper that deletes on the day, data-volume budgets
    emergency/    the eCall path: relay, PSAP and call-centre desks, HV warn calls, incidents
    assistance/   roadside and SI assistance: entitlements and cases
    ota/          software-upgrade campaigns, the OTA event lane, vehicle facts
    services/     the services lane (Teleservice, Smart Maintenance, assistance, OTA dispatch)
    api/          the HTTP API: app, access policy, tokens, one route module per resource
    runtime/      the roles as processes and the supervisor that keeps them alive

The eCall path is ``emergency/``: ``relay`` takes eCalls off the broker into per-desk Redis
streams, ``desks`` hand them to the PSAP, and ``incidents`` reads what the desks hold.
"""
