"""The eCall path, the one where speed and loss matter most.

``relay`` takes eCalls, voice calls and HV warn calls from the broker and appends each,
once, to its desk's Redis stream; ``desks`` read those streams, keep the case record and
hand over to the PSAP domain; ``psap_directory`` says which PSAP answers where;
``hv_handling`` routes High Voltage warn calls; ``incidents`` reads what the desks hold.

May import: ``backend.privacy``, ``backend.infra`` and the base modules.
"""
