"""The eCall path, the one where speed and loss matter most.

``relay`` takes eCalls, voice calls and HV warn calls from the broker and appends each,
once, to its desk's Redis stream; ``desks`` read those streams (the loop in
``desk_loop``), keep the case record and hand over to the PSAP domain;
``psap_directory`` says which PSAP answers where; ``hv_handling`` routes High Voltage warn
calls; ``incidents`` reads what the desks hold. What rides the streams is typed in
``entries``, what the desks store in ``records`` (both through ``entry_fields``); the
relay and the desks reach the outside through the protocols of ``edges``, which
``redis_records`` (and ``backend.infra``) implement on Redis.

May import: ``backend.privacy``, ``backend.infra`` and the base modules.
"""
