"""The broker's ACL, as Mosquitto's ``acl_file`` text, from the identities alone (pure).

The broker learns each client's identity from its certificate's CN
(``use_identity_as_username``), so ``%u`` below is the VIN for a car:

- any identity not named here is a car: it writes only ``tcu/v1/{its VIN}/#`` (and the
  data-less PSAP voice call) and reads only ``cmd/v1/{its VIN}/#``; nothing else, so no
  ``#``, no other car, no downlink write, no clock. Its answers to refused messages
  (``cmd/v1/{its VIN}/rejected``, ``protocols.topics.rejected_topic``) are among those
  downlinks, so it reads its own and no other car's; and since it writes only its own
  uplinks, an answer always goes back to the certificate that sent the refused message;
- backend identities read the uplinks (the emergency and services lanes subscribe plainly,
  bulk telemetry through its share group), write the downlinks of any car, read and write
  their probe topics, and read the clock;
- the scenario runner and the backend may write the clock topic;
- the fleet gateway writes only the bulk uplinks (telemetry, Teleservice) of any car;
- the benchmark writes telemetry and eCalls of any car and its own ``bench/v1/#``.

Mosquitto checks ``read`` when a message is delivered, so a subscription the ACL does
not cover receives nothing even when the SUBSCRIBE itself is answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pki.identities import BACKEND_IDENTITIES, BENCH, FLEET_GATEWAY, SCENARIO_RUNNER
from protocols.topics import CLOCK_TOPIC, PROBE_PREFIX, VERSION

UPLINKS: Final = (f"tcu/{VERSION}/#", f"psap/{VERSION}/#")
DOWNLINKS: Final = f"cmd/{VERSION}/+/#"
# A lane proves its broker path works by publishing here and hearing it back.
PROBES: Final = f"{PROBE_PREFIX}#"
VOICE_TOPICS: Final = f"psap/{VERSION}/+/voice"
BENCH_RULES: Final = (f"topic write tcu/{VERSION}/+/telemetry",
                      f"topic write tcu/{VERSION}/+/ecall/+", "topic readwrite bench/v1/#")
GATEWAY_WRITES: Final = (f"tcu/{VERSION}/+/telemetry", f"tcu/{VERSION}/+/teleservice/+")


def _user(name: str, rules: Sequence[str]) -> list[str]:
    return ["", f"user {name}", *rules]


def backend_rules() -> list[str]:
    # Mosquitto checks a shared SUBSCRIBE (``$share/group/filter``) against its filter,
    # so reading the uplinks is what lets the backend join the bulk share group.
    return [*(f"topic read {topic}" for topic in UPLINKS), f"topic write {DOWNLINKS}",
            f"topic readwrite {PROBES}", f"topic readwrite {CLOCK_TOPIC}"]


def mosquitto_acl(*, backend: Sequence[str] = BACKEND_IDENTITIES,
                  clock_writers: Sequence[str] = (SCENARIO_RUNNER,),
                  gateways: Sequence[str] = (FLEET_GATEWAY,),
                  bench: Sequence[str] = (BENCH,)) -> str:
    """The ``acl_file`` for these identities; every other identity is a car."""
    lines = [
        "# Generated from pki.broker_acl; every identity not named below is a car (CN = VIN).",
        f"pattern write tcu/{VERSION}/%u/#",
        f"pattern read cmd/{VERSION}/%u/#",
        # The PSAP voice call carries no vehicle data: its topic names only the country
        # of the network, so any car may place one anywhere (as any phone may dial 112).
        f"pattern write {VOICE_TOPICS}",
    ]
    for name in backend:
        lines += _user(name, backend_rules())
    for name in clock_writers:
        lines += _user(name, [f"topic write {CLOCK_TOPIC}"])
    for name in gateways:
        lines += _user(name, [f"topic write {topic}" for topic in GATEWAY_WRITES])
    for name in bench:
        lines += _user(name, list(BENCH_RULES))
    return "\n".join(lines) + "\n"
