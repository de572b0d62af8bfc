"""The PSAP directory: real geography, and the written rule for everything else."""

from __future__ import annotations

import pytest

from backend.emergency.psap_directory import DIRECTORY, FALLBACK, responsible_psap


@pytest.mark.parametrize(("lat", "lon", "country"), [
    (50.8467, 4.3525, "BE"),   # Brussels
    (49.6116, 6.1319, "LU"),   # Luxembourg
    (52.3676, 4.9041, "NL"),   # Amsterdam
    (48.1372, 11.5756, "DE"),  # Munich
    (48.8566, 2.3522, "FR"),   # Paris
    (46.0569, 14.5058, "SI"),  # Ljubljana
    (50.7753, 6.0839, "DE"),   # Aachen, near the NL/BE border
    (51.4416, 5.4697, "NL"),   # Eindhoven
])
def test_psap_directory_position_decides(lat: float, lon: float, country: str) -> None:
    """A position in a directory country reaches that country's PSAP."""
    choice = responsible_psap(lat, lon, network_country="BE")
    assert (choice.psap.country, choice.reason) == (country, "position")


def test_psap_directory_unknown_position_uses_network_country() -> None:
    """An unknown position falls back to the mobile network's country."""
    choice = responsible_psap(None, None, network_country="si")
    assert (choice.psap.country, choice.reason) == ("SI", "network_country")


def test_psap_directory_at_sea_uses_network_country() -> None:
    """Mid-Atlantic, far from any place, the network country decides."""
    choice = responsible_psap(45.0, -30.0, network_country="NL")
    assert choice.psap.country == "NL"


def test_psap_directory_outside_everything_goes_to_the_fallback_desk() -> None:
    """Outside the directory with a foreign network, the INTL desk takes it, flagged."""
    choice = responsible_psap(44.7866, 20.4489, network_country="RS")  # Belgrade
    assert choice.psap == FALLBACK
    assert choice.reason == "outside_directory"


def test_psap_directory_covers_the_required_countries() -> None:
    """BE, LU, NL, DE, FR and SI each have a PSAP with a desk name."""
    for country in ("BE", "LU", "NL", "DE", "FR", "SI"):
        assert DIRECTORY[country].desk == f"psap-{country}"
