"""``telematics chaos``: the operator's proof, from outside, that no eCall is lost under faults.

A steady stream of eCalls from simulated cars runs against the platform while faults are
injected one after another, each in a phase of its own (steady traffic, inject, recover,
drain); what the desks recorded and what ``/ready`` said are read back and tallied per fault.

The pure core (``plan``, ``calls``, ``tally``) knows nothing of sockets or processes; the
edges (``cars``, ``observer``, ``faults``) do the I/O and ``runner`` drives the phases.
"""
