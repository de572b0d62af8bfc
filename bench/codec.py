"""The MSD codec benchmark: decodes and encodes per second, ours beside the libraries'.

The inputs are real v3 MSDs as the emulator builds them (``vehicle_sim.vehicle``), one
per car of a seeded fleet spread over a region, so every codec codes the same bytes.
Measured one after the other on one core, each for at least ``seconds`` of CPU time:

* ``protocols.msd`` (``decode_msd``/``encode_msd``): what the backend and the cars run,
  validation included;
* asn1tools used plainly: the whole ``ECallMessage`` through the compiled module, the
  ``msd`` octet string decoded as ``MSDMessage`` in a second pass (the baseline the
  codec's own framing and direct type calls are measured against);
* pycrate, when it is installed (it is not a dependency of the platform), on the
  original module text compiled by its own compiler; its encode must give our bytes.

Before anything is timed, our decode of every input is checked against asn1tools' (the
same fields), so a fast wrong codec cannot post a figure.
"""

from __future__ import annotations

import importlib.util
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from protocols.msd.codec import decode_msd, encode_msd
from protocols.msd.model import Msd, Propulsion
from protocols.msd.schema import compiled, module_text
from vehicle_sim.vehicle import VehicleSpec, VehicleState, build_msd

AIM_DECODES_PER_S: Final = 100_000  # per core, the aim
BASELINE_DECODE_US: Final = 90.0  # a decode when the aim was set, one core
_VIN_CHARS: Final = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True, slots=True, kw_only=True)
class CodecBenchOptions:
    inputs: int = 200
    seconds: float = 1.0
    seed: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.inputs <= 100_000 or not 0 < self.seconds <= 60:
            raise ValueError("inputs must be 1..100000 and seconds 0..60")


def sample_msds(count: int, *, seed: int) -> list[Msd]:
    """``count`` MSDs of different cars, places, headings, speeds and times."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        vin = "WMW" + "".join(rng.choice(_VIN_CHARS) for _ in range(14))
        electric = rng.random() < 0.3
        spec = VehicleSpec(vin=vin, activation_country="DE",
                           intelligent_bought=rng.random() < 0.5,
                           propulsion=Propulsion(gasoline_tank_present=not electric,
                                                 electric_energy_storage=electric))
        now = 1.7e9 + rng.uniform(0, 3e7)
        state = VehicleState.start(lat=rng.uniform(36.0, 60.0), lon=rng.uniform(-9.0, 30.0),
                                   heading_deg=rng.uniform(0, 359), speed_kmh=rng.uniform(0, 130),
                                   occupants=rng.randint(1, 5), now=now)
        out.append(build_msd(spec, state, message_identifier=1 + i % 255,
                             automatic=rng.random() < 0.8, timestamp=int(now)))
    return out


@dataclass(frozen=True, slots=True)
class Rate:
    """Operations per CPU second of one codec, and a single operation's mean time."""

    ops: int
    cpu_s: float
    per_s: float
    us_per_op: float


def measure(operation: Callable[[Any], object], inputs: Sequence[Any], seconds: float) -> Rate:
    """Run ``operation`` over ``inputs`` round after round for at least ``seconds`` of
    this process's CPU time (a shared machine's waits are not counted against it)."""
    for item in inputs[:10]:
        operation(item)  # warm: compiled types, caches
    ops = 0
    start = time.process_time()
    while True:
        for item in inputs:
            operation(item)
        ops += len(inputs)
        spent = time.process_time() - start
        if spent >= seconds:
            return Rate(ops, round(spent, 3), round(ops / spent, 1), round(spent / ops * 1e6, 2))


def _asn1tools_pair() -> tuple[Callable[[bytes], object], Callable[[dict[str, Any]], bytes]]:
    spec = compiled(3)

    def decode(data: bytes) -> object:
        outer = spec.decode("ECallMessage", data)
        return spec.decode("MSDMessage", outer["msd"])

    def encode(value: dict[str, Any]) -> bytes:
        inner = spec.encode("MSDMessage", value)
        return bytes(spec.encode("ECallMessage", {"msdVersion": 3, "msd": inner}))

    return decode, encode


def _pycrate_pair() -> tuple[Callable[[bytes], object], Callable[[Any], bytes]] | str:
    """pycrate's codec of the same module (its compiler writes a Python module, which is
    imported from a temporary directory), or why there is none; the module text is the
    one asn1tools compiles. pycrate knows ``CONTAINING``: one pass decodes the whole
    ``ECallMessage``."""
    try:
        from pycrate_asn1c.asnproc import (
            PycrateGenerator,
            compile_text,
            generate_modules,
        )
    except ImportError:
        return "pycrate is not installed"
    with tempfile.TemporaryDirectory(prefix="msd-pycrate-") as tmp:
        target = Path(tmp) / "msd_pycrate.py"
        compile_text(module_text(3))
        generate_modules(PycrateGenerator, str(target))
        spec = importlib.util.spec_from_file_location("msd_pycrate", target)
        if spec is None or spec.loader is None:
            return "pycrate wrote no module"
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    message = module.MSDASN1Module.ECallMessage

    def decode(data: bytes) -> object:
        message.from_uper(data)
        return message.get_val()

    def encode(value: Any) -> bytes:
        message.set_val(value)
        return bytes(message.to_uper())

    return decode, encode


def check_against_asn1tools(encoded: Sequence[bytes]) -> int:
    """How many inputs our decode reads differently from asn1tools (0, or the bench stops)."""
    decode, _ = _asn1tools_pair()
    differ = 0
    for data in encoded:
        ours = decode_msd(data)
        theirs: Any = decode(data)
        ecall = theirs["msdStructure"]
        vin = "".join(ecall["vehicleIdentificationNumber"].values())
        if (ours.message_identifier != ecall["messageIdentifier"] or ours.vin != vin
                or ours.direction != ecall["vehicleDirection"]
                or ours.location.latitude != ecall["vehicleLocation"]["positionLatitude"]
                or ours.location.longitude != ecall["vehicleLocation"]["positionLongitude"]
                or ours.timestamp != ecall["timestamp"]):
            differ += 1
    return differ


def run_codec_bench(options: CodecBenchOptions) -> dict[str, Any]:
    msds = sample_msds(options.inputs, seed=options.seed)
    encoded = [encode_msd(m) for m in msds]
    differ = check_against_asn1tools(encoded)
    if differ:
        raise RuntimeError(f"our decode differs from asn1tools on {differ} inputs")
    plain_decode, plain_encode = _asn1tools_pair()
    values = [plain_decode(b) for b in encoded]
    pycrate: dict[str, Any] = {"available": False}
    pair = _pycrate_pair()
    if isinstance(pair, str):
        pycrate["why"] = pair
    else:
        crate_decode, crate_encode = pair
        crate_values = [crate_decode(b) for b in encoded]
        if [crate_encode(v) for v in crate_values] != encoded:
            raise RuntimeError("pycrate's encode differs from ours on the same MSDs")
        pycrate = {"available": True,
                   "decode": asdict(measure(crate_decode, encoded, options.seconds)),
                   "encode": asdict(measure(crate_encode, crate_values, options.seconds))}
    ours_decode = measure(decode_msd, encoded, options.seconds)
    ours_encode = measure(encode_msd, msds, options.seconds)
    lib_decode = measure(plain_decode, encoded, options.seconds)
    lib_encode = measure(plain_encode, values, options.seconds)
    return {
        "benchmark": "codec",
        "settings": asdict(options),
        "inputs": {"count": len(encoded), "version": 3,
                   "mean_bytes": round(sum(map(len, encoded)) / len(encoded), 1),
                   "checked_against_asn1tools": len(encoded)},
        "ours": {"decode": asdict(ours_decode), "encode": asdict(ours_encode)},
        "asn1tools": {"decode": asdict(lib_decode), "encode": asdict(lib_encode)},
        "pycrate": pycrate,
        "baseline": {"decode_us": BASELINE_DECODE_US,
                     "aim_decodes_per_s": AIM_DECODES_PER_S},
        "decode_speedup_over_asn1tools": round(lib_decode.us_per_op / ours_decode.us_per_op, 2),
    }
