"""The wire contract document, its golden payloads and ``telematics wire``.

The document and the goldens are regenerated from the code and must equal the files in
docs/; each golden is read by the decoder to its JSON reading and rebuilt by the encoder
from that reading; every documented refusal is provoked and must come back with its
field and rule; and the emergency lane refuses a bad payload with the same field and
rule ``telematics wire check`` names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgpack
import pytest
from typer.testing import CliRunner

from backend.infra import keys
from cli.wire import app, golden_files
from cli.wire_doc import DOC_PATH, EXAMPLES_DIR, REGENERATE, render
from cli.wire_examples import AT, EXAMPLES, VIN, Example
from cli.wire_reading import check, meaning, payload_of, read
from protocols.contract import CONTRACT, DROP, FieldRule, contract_of, missing_kinds
from protocols.errors import ProtocolError
from protocols.topics import ParsedTopic, parse_topic
from tests.doc_anchors import ROOT
from tests.fakes.path import EcallPath

runner = CliRunner()
GOLDENS = ROOT / EXAMPLES_DIR
OTHER_VIN = "WMW21DH0X0T654321"


def _golden(name: str) -> tuple[bytes, dict[str, Any]]:
    payload = bytes.fromhex((GOLDENS / f"{name}.hex").read_text())
    reading: dict[str, Any] = json.loads((GOLDENS / f"{name}.json").read_text())
    return payload, reading


def _kind(example: Example) -> str:
    return parse_topic(example.topic).kind


def test_wire_contract_document_is_generated_from_the_code() -> None:
    on_disk = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert on_disk == render(), (
        f"{DOC_PATH} disagrees with the code; run `{REGENERATE}` from the repository root")


def test_wire_goldens_are_what_the_encoders_make_now() -> None:
    files = golden_files()
    stale = [name for name, text in files.items()
             if (ROOT / name).read_text(encoding="utf-8") != text]
    assert stale == [], f"run `telematics wire examples` from the repository root: {stale}"
    on_disk = {f"{EXAMPLES_DIR}/{path.name}" for path in GOLDENS.iterdir()}
    assert on_disk == set(files), "a golden without an example, or an example without one"


def test_wire_contract_covers_every_topic_kind_and_its_patterns_parse_back() -> None:
    assert missing_kinds() == ()
    for contract in CONTRACT:
        topic = (contract.pattern.replace("{vin}", VIN).replace("{variant}", "legal")
                 .replace("{CC}", "BE"))
        assert parse_topic(topic).kind == contract.kind
    assert {_kind(example) for example in EXAMPLES} == {c.kind for c in CONTRACT}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_wire_golden_decodes_to_its_reading_and_encodes_back_to_its_bytes(
        example: Example) -> None:
    payload, reading = _golden(example.name)
    assert meaning(read(payload, example.topic)) == reading
    assert payload_of(reading) == payload
    # Without the topic, the payload's own kind header (or shape) finds the same message.
    assert meaning(read(payload))["fields"] == reading["fields"]


def _breached(payload: bytes, rule: FieldRule) -> bytes:
    body = msgpack.unpackb(payload, raw=False)
    *parents, last = rule.path.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    index: int | str = int(last) if isinstance(node, list) else last
    if rule.value is DROP:
        del node[index]
    else:
        node[index] = rule.value
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


RULE_CASES = [(example, rule) for contract in CONTRACT for rule in contract.message.rules
              for example in [next(e for e in EXAMPLES if _kind(e) == contract.kind)]]


@pytest.mark.parametrize(("example", "rule"), RULE_CASES,
                         ids=[f"{e.name}-{r.field}-{r.rule}" for e, r in RULE_CASES])
def test_wire_documented_refusal_is_the_decoders(example: Example, rule: FieldRule) -> None:
    payload, _ = _golden(example.name)
    with pytest.raises(ProtocolError) as refused:
        check(example.topic, _breached(payload, rule), now=AT)
    assert (refused.value.field, refused.value.rule) == (rule.field, rule.rule)


def test_wire_check_applies_the_services_time_window() -> None:
    example = next(e for e in EXAMPLES if e.name == "teleservice_call")
    payload, _ = _golden("teleservice_call")
    check(example.topic, payload, now=AT)
    with pytest.raises(ProtocolError) as refused:
        check(example.topic, payload, now=AT + 2 * 400 * 86_400.0)
    assert refused.value.field == "at"


def _other_car(topic: str) -> str:
    return topic.replace(VIN, OTHER_VIN)


EMERGENCY = [e for e in EXAMPLES if contract_of(_kind(e)).receiver == "emergency lane"]


@pytest.mark.parametrize("example", EMERGENCY, ids=lambda e: e.name)
async def test_wire_check_names_the_refusal_the_emergency_lane_counts(
        example: Example) -> None:
    """The same payload on another car's topic (or, for the VIN-less voice call, as a
    broken map) is refused by ``check`` and counted by the relay with the same field and
    rule: the check is the lane's own rules, not a copy."""
    payload, _ = _golden(example.name)
    topic = _other_car(example.topic)
    if topic == example.topic:
        payload = payload[:-1]
    with pytest.raises(ProtocolError) as refused:
        check(topic, payload, now=AT)
    path = EcallPath()
    await path.relay().handle(topic, payload)
    assert path.count(keys.ERROR_COUNTERS, f"{refused.value.field}:{refused.value.rule}") == 1
    assert path.broker.acks() == []


def test_wire_vin_check_of_each_uplink_refuses_another_cars_topic() -> None:
    for contract in CONTRACT:
        if contract.vin_check is None:
            continue
        example = next(e for e in EXAMPLES if _kind(e) == contract.kind)
        parsed = parse_topic(_other_car(example.topic))
        assert isinstance(parsed, ParsedTopic)
        with pytest.raises(ProtocolError) as refused:
            contract.vin_check(parsed, example.message)
        assert refused.value.field == "vin"


def test_wire_decode_cli_prints_the_golden_reading(tmp_path: Path) -> None:
    example = EXAMPLES[0]
    result = runner.invoke(app, ["decode", str(GOLDENS / f"{example.name}.hex"),
                                 "--topic", example.topic])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == _golden(example.name)[1]
    binary = tmp_path / "payload.bin"
    binary.write_bytes(_golden(example.name)[0])
    result = runner.invoke(app, ["decode", str(binary)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["kind"] == "ecall"


def test_wire_check_cli_accepts_a_golden_and_names_what_breaks_another() -> None:
    example = next(e for e in EXAMPLES if e.name == "ecall_legal")
    hex_text = (GOLDENS / "ecall_legal.hex").read_text().strip()
    ok = runner.invoke(app, ["check", hex_text, "--topic", example.topic])
    assert ok.exit_code == 0
    assert ok.stdout.startswith("acceptable: EcallMessage on ecall")
    refused = runner.invoke(app, ["check", hex_text, "--topic", _other_car(example.topic)])
    assert refused.exit_code == 1
    assert "field vin breaks rule: envelope vin/variant == topic" in refused.stdout


@pytest.mark.parametrize(("argv", "says"), [
    (["check", "zz", "--topic", f"tcu/v1/{VIN}/telemetry"], "not hex"),
    (["decode", "no/such/file.hex"], "no such file"),
    (["decode", "abc"], "odd number of hex digits"),
    (["check", "80", "--topic", "tcu/v1/nonsense"], "--topic"),
])
def test_wire_cli_bad_input_exits_2_with_one_line(argv: list[str], says: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert says in line


def test_wire_doc_outside_the_repository_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["doc"])
    assert result.exit_code == 2
    assert "repository root" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_wire_doc_check_in_the_repository_finds_it_current(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert runner.invoke(app, ["doc", "--check"]).exit_code == 0
    assert runner.invoke(app, ["examples", "--check"]).exit_code == 0
