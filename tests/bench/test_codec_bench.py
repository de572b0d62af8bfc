"""``bench codec`` on a tiny run: the JSON shape, and the inputs it codes (no timings judged)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bench.codec import check_against_asn1tools, sample_msds
from cli.main import app
from protocols.msd.codec import encode_msd


def test_bench_codec_json_is_one_compact_object_on_the_last_line() -> None:
    done = CliRunner().invoke(app, ["bench", "codec", "--inputs", "3", "--seconds", "0.01",
                                    "--json"])
    assert done.exit_code == 0, done.output
    last = done.output.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["benchmark"] == "codec"
    assert last == json.dumps(figures, separators=(",", ":"))  # compact, one line
    assert figures["inputs"]["checked_against_asn1tools"] == 3
    for codec in ("ours", "asn1tools"):
        for operation in ("decode", "encode"):
            rate = figures[codec][operation]
            assert rate["ops"] >= 3 and rate["per_s"] > 0 and rate["us_per_op"] > 0
    assert figures["baseline"] == {"decode_us": 90.0, "aim_decodes_per_s": 100_000}
    assert "baseline: 90 µs" in done.output
    assert figures["pycrate"]["available"] is ("decode" in figures["pycrate"])


def test_bench_codec_inputs_differ_and_read_alike_in_both_decoders() -> None:
    encoded = [encode_msd(m) for m in sample_msds(20, seed=5)]
    assert len(set(encoded)) == 20
    assert check_against_asn1tools(encoded) == 0
