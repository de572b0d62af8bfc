"""Each role is given only the PSAP-domain credentials it uses (``settings_for``)."""

from __future__ import annotations

from backend.runtime.roles import ROLES, settings_for
from backend.runtime.supervisor import role_environment
from backend.settings import BackendSettings

OEM = "redis://oem:oem-secret@127.0.0.1:7001"
PSAP = "redis://psap:psap-secret@127.0.0.1:7002"
RELAY = "redis://relay:relay-secret@127.0.0.1:7002"
APART = BackendSettings(redis_url=OEM, psap_redis_url=PSAP, psap_relay_redis_url=RELAY)


def test_settings_for_oem_roles_never_get_the_psap_password() -> None:
    """The emergency lane hands off as the relay; services and bulk get no PSAP URL."""
    emergency = settings_for("emergency", APART)
    assert (emergency.psap_relay_url, emergency.psap_redis_url) == (RELAY, "")
    for role in ("services", "bulk"):
        chosen = settings_for(role, APART)
        assert (chosen.psap_redis_url, chosen.psap_relay_redis_url) == ("", "")


def test_settings_for_psap_readers_keep_the_psap_user() -> None:
    """The desks read as ``psap`` and hand over as the relay; the API reads as ``psap``."""
    desks = settings_for("desks", APART)
    assert (desks.psap_url, desks.psap_relay_url) == (PSAP, RELAY)
    assert settings_for("api", APART).psap_url == PSAP


def test_settings_for_weak_mode_changes_nothing() -> None:
    """With one Redis for both domains there is nothing to keep apart."""
    weak = BackendSettings(redis_url=OEM)
    for role in ROLES:
        assert settings_for(role, weak) == weak
        assert settings_for(role, weak).psap_relay_url == OEM


def test_role_environment_emergency_lacks_psap_password_even_from_base() -> None:
    """A PSAP URL inherited from the parent's environment is blanked, not passed on."""
    env = role_environment(APART, {"TELEMATICS_PSAP_REDIS_URL": PSAP}, role="emergency")
    assert "psap-secret" not in " ".join(env.values())
    assert env["TELEMATICS_PSAP_RELAY_REDIS_URL"] == RELAY
    assert env["TELEMATICS_REDIS_URL"] == OEM
    assert "psap-secret" in role_environment(APART, {}, role="desks")[
        "TELEMATICS_PSAP_REDIS_URL"]


def test_backend_settings_repr_hides_redis_urls() -> None:
    """Settings printed or logged show no Redis password."""
    shown = repr(APART) + str(APART)
    assert not any(word in shown for word in ("oem-secret", "psap-secret", "relay-secret"))


def test_weak_mode_warning_names_the_role_and_the_shared_database() -> None:
    """A role that touches the PSAP domain says so when it has no Redis of its own; with
    one, or for a role that never touches it, nothing is said."""
    from backend.runtime.roles import settings_for, weak_mode_warning
    from backend.settings import BackendSettings

    weak = BackendSettings(redis_url="redis://oem:pw@127.0.0.1:1")
    apart = BackendSettings(redis_url="redis://oem:pw@127.0.0.1:1",
                            psap_redis_url="redis://psap:pw@127.0.0.1:2")
    warning = weak_mode_warning("emergency", weak)
    assert warning is not None and "weak mode" in warning and "database 1" in warning
    assert "pw" not in warning
    assert weak_mode_warning("emergency", apart) is None
    assert weak_mode_warning("services", weak) is None
    relay_apart = BackendSettings(redis_url="redis://oem:pw@127.0.0.1:1",
                                  psap_redis_url="redis://psap:pw@127.0.0.1:2",
                                  psap_relay_redis_url="redis://relay:pw@127.0.0.1:2")
    for role in ("emergency", "desks", "api"):  # each as its own process is given them
        assert weak_mode_warning(role, settings_for(role, relay_apart)) is None
