"""``telematics msd``: hex to JSON and back, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.msd import app

MSD_FILES = Path(__file__).parents[1] / "files" / "msd"
ANNEX_A3 = "0324101A01C614A2873C52ABA870010010089AF166285C59A4C86408FE29C16C01054010F010"
runner = CliRunner()


def _vector_json(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((MSD_FILES / f"{name}.json").read_text())
    return value


def _annex_with(path: str, value: object) -> str:
    obj = _vector_json("v3_annex_a3")
    *parents, last = path.split(".")
    node = obj
    for key in parents:
        node = node[key]
    node[last] = value
    return json.dumps(obj)


def _spaced(hex_text: str, prefix: str = "") -> str:
    return " ".join(prefix + hex_text[i:i + 2] for i in range(0, len(hex_text), 2))


@pytest.mark.parametrize("argv", [
    [ANNEX_A3],
    [ANNEX_A3.lower()],
    ["0x" + ANNEX_A3],
    [_spaced(ANNEX_A3)],
    [_spaced(ANNEX_A3, "0x")],
    _spaced(ANNEX_A3).split(),
])
def test_msd_decode_prints_the_standards_json(argv: list[str]) -> None:
    """Hex in any of the usual spellings prints the Annex A.3 value as indented JSON."""
    result = runner.invoke(app, ["decode", *argv])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == _vector_json("v3_annex_a3")
    assert result.stdout.startswith('{\n  "msdVersion": 3,')
    assert result.stderr == ""


def test_msd_encode_prints_uppercase_hex() -> None:
    """The A.3 JSON on stdin gives back the 38 example bytes in uppercase hex."""
    result = runner.invoke(app, ["encode"], input=json.dumps(_vector_json("v3_annex_a3")))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ANNEX_A3 + "\n"


def test_msd_decode_then_encode_round_trips() -> None:
    """decode's output is encode's input, for a v2 vector with an OAD."""
    hex_text = (MSD_FILES / "v2_canonical_oad.hex").read_text().strip()
    decoded = runner.invoke(app, ["decode", hex_text])
    encoded = runner.invoke(app, ["encode"], input=decoded.stdout)
    assert encoded.exit_code == 0, encoded.stderr
    assert encoded.stdout.strip() == hex_text


def test_msd_decode_lenient_shows_rule_breaking_values() -> None:
    """--lenient decodes input that is longer than 140 octets."""
    padded = ANNEX_A3 + "00" * (141 - len(ANNEX_A3) // 2)
    assert runner.invoke(app, ["decode", padded]).exit_code == 2
    result = runner.invoke(app, ["decode", "--lenient", padded])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == _vector_json("v3_annex_a3")


@pytest.mark.parametrize(("argv", "message"), [
    (["zz"], "error: hex: 'z' is not a hex digit"),
    (["032"], "error: hex: odd number of hex digits (3)"),
    (["0x"], "error: hex: no hex digits given"),
    ([ANNEX_A3[:20]], "error: msd: declares 36 octets but only 8 follow"),
    (["04" + ANNEX_A3[2:]], "error: msdVersion: version 4 is not supported (1, 2 or 3)"),
    ([ANNEX_A3 + "00" * 103], "error: msd: 141 bytes received, limit is 140"),
])
def test_msd_decode_bad_input_exits_2_with_one_line(argv: list[str], message: str) -> None:
    """Bad hex, undecodable or invalid bytes: exit 2 and one 'error:' line on stderr."""
    result = runner.invoke(app, ["decode", *argv])
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""


@pytest.mark.parametrize(("stdin", "message"), [
    (_annex_with("msdStructure.vehicleDirection", 200),
     "error: vehicleDirection: 200 is not 0..179 or 255"),
    (_annex_with("msdStructure.vehicleDirection", "45"),
     "error: vehicleDirection: '45' is not an integer"),
    (_annex_with("msdStructure.recentVehicleLocationN1", None),
     "error: recentVehicleLocationN1: absent but mandatory in MSD v3"),
    (_annex_with("msdStructure.control.vehicleType", "passengerVehicleClassM1"),
     "error: control.vehicleType: 'passengerVehicleClassM1' is not a vehicle type of MSD v3"),
    (_annex_with("msdVersion", 1),
     "error: numberOfOccupants: not a component of this MSD version"),
    ("{", "error: json: Expecting property name enclosed in double quotes: "
          "line 1 column 2 (char 1)"),
    ("[1, 2]", "error: json: expected an object, got list"),
    ("", "error: json: Expecting value: line 1 column 1 (char 0)"),
])
def test_msd_encode_bad_input_exits_2_with_one_line(stdin: str, message: str) -> None:
    """Invalid JSON or an invalid field: exit 2 and one 'error:' line naming the field."""
    result = runner.invoke(app, ["encode"], input=stdin)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_msd_encode_v1_is_refused_with_reason() -> None:
    """A v1 JSON value is refused on encode with the standard's reason."""
    stdin = (MSD_FILES / "v1_era_glonass_oad.json").read_text()
    result = runner.invoke(app, ["encode"], input=stdin)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: msdVersion: MSD v1 cannot be encoded")
    assert result.stderr.count("\n") == 1


def test_msd_help_lists_both_commands() -> None:
    """The sub-app describes itself and lists decode and encode."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "decode" in result.stdout
    assert "encode" in result.stdout
