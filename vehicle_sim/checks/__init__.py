"""The checks of the scenario language's newer expectations (``vehicle_sim.scenario_checks``),
each against the backend's HTTP API, as a QA engineer would make them by hand."""
