"""Packages for setuptools; everything else is in pyproject.toml.

The scenarios and load profiles live at the top of the repository, where people look for
them, and are shipped inside the packages that read them: ``scenarios/`` as
``vehicle_sim/scenarios`` and ``profiles/`` as ``loadtest/profiles``, so a wheel carries
them (``vehicle_sim.shipped_files`` looks there first). pyproject.toml cannot add mapped
folders to the packages it finds, hence this file.
"""

from setuptools import find_namespace_packages, setup

CODE = ["protocols*", "vehicle_sim*", "backend*", "cli*", "bench*", "chaos*", "pki*",
        "loadtest*"]
SHIPPED = {"vehicle_sim.scenarios": "scenarios", "vehicle_sim.scenarios.refused":
           "scenarios/refused", "loadtest.profiles": "profiles"}

setup(packages=[*find_namespace_packages(include=CODE), *SHIPPED], package_dir=SHIPPED)
