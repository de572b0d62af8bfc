"""Every citation in the repository's code and documents points into the repository.

Rules are cited as ``docs/requirements.md#ts-r1`` or by their short id (``TS-R1``); a working
name of a source document, a machine path, or a line-numbered file of notes outside the
repository means the citation cannot be followed, and an anchor that does not exist means
it no longer can.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doc_anchors import ROOT, anchors_of, requirement_ids

SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache",
                ".ruff_cache", "node_modules", ".hypothesis"}

# Built from parts so that this file does not match itself.
FORBIDDEN: dict[str, re.Pattern[str]] = {
    "working name of a source document": re.compile("seed" + r" 0{2}\d", re.IGNORECASE),
    "machine path": re.compile("/" + "work/"),
    "path of the source notes": re.compile("shared" + "/spec"),
    "source file name": re.compile(r"\b\d{3}_[0-9a-f]{6,}\." + "txt"),
    "file of the catalogue notes": re.compile(r"\bservice_catalogue" + r"\.md"),
}
DOC_LINK = re.compile(r"(?<![\w/.])(docs/[\w./-]+\.md)#([\w-]+)")
RELATIVE_LINK = re.compile(r"\]\((?!https?:)([^)#\s]*\.md)?#([^)\s]+)\)")
SHORT_ID = re.compile(r"\b(?:(?:ECALL|HV|TS|SP|AS|RA|OTA|PLAT|DA)-R\d+|SI-ART-\d+|CONV-\d+)\b")


def repository_files() -> Iterator[Path]:
    """The .py and .md files of the repository, outside tool and cache directories."""
    for path in sorted(ROOT.rglob("*")):
        if path.suffix in (".py", ".md") and path.is_file() and not (
                SKIPPED_DIRS & set(path.relative_to(ROOT).parts)):
            yield path


FILES = list(repository_files())


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    yield from enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)


def _name(path: Path) -> str:
    """The path as the reports name it: from the repository root, else the bare file name."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def outside_citations(path: Path) -> list[str]:
    """Each ``file:line kind`` of ``path`` that cites something outside the repository."""
    return [f"{_name(path)}:{number} {kind}" for number, line in _lines(path)
            for kind, pattern in FORBIDDEN.items() if pattern.search(line)]


def broken_links(path: Path) -> list[str]:
    """Each ``file:line target`` of ``path`` whose document or anchor does not exist."""
    found = []
    for number, line in _lines(path):
        targets = [(ROOT / doc, anchor) for doc, anchor in DOC_LINK.findall(line)]
        if path.suffix == ".md":
            targets += [((path.parent / doc) if doc else path, anchor)
                        for doc, anchor in RELATIVE_LINK.findall(line)]
        for document, anchor in targets:
            if not document.is_file() or anchor not in anchors_of(document.resolve()):
                found.append(f"{_name(path)}:{number} {document.name}#{anchor}")
    return found


def unknown_short_ids(path: Path) -> list[str]:
    """Each ``file:line id`` of ``path`` naming a rule id docs/requirements.md lacks."""
    known = requirement_ids()
    return [f"{_name(path)}:{number} {found}" for number, line in _lines(path)
            for found in SHORT_ID.findall(line) if found not in known]


def test_repository_files_include_code_tests_and_documents() -> None:
    """The scan sees the code, the tests and the requirements, so an empty pass means something."""
    names = {_name(path) for path in FILES}
    assert {"protocols/catalogue.py", "tests/test_citations.py",
            "docs/requirements.md", "README.md"} <= names


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_file_cites_nothing_outside_the_repository(path: Path) -> None:
    """No working names, machine paths or names of source files outside the repository."""
    assert outside_citations(path) == []


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_file_links_only_to_existing_anchors(path: Path) -> None:
    """Every link to an anchor of a docs/ document (or relative one in a document) exists."""
    assert broken_links(path) == []


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix == ".py"], ids=_name)
def test_file_short_ids_name_existing_requirements(path: Path) -> None:
    """A rule cited by its short id (``TS-R1``) is a heading of docs/requirements.md."""
    assert unknown_short_ids(path) == []


def test_citation_checks_catch_each_kind(tmp_path: Path) -> None:
    """Planted outside citations, missing anchors and an unknown id are all reported."""
    planted = tmp_path / "planted.md"
    planted.write_text("\n".join((
        "as " + "seed" + " 001 says",
        "see /" + "work/shared" + "/spec/notes",
        "file 001_" + "deadbeef00" + ".txt",
        "docs/requirements.md#" + "no-such-rule and docs/requirements.md#ts-r1",
        "[here](#local) and [there](other.md" + "#gone)",
        '<a id="local"></a>',
    )), encoding="utf-8")
    assert [entry.split(" ")[0] for entry in outside_citations(planted)] == [
        "planted.md:1", "planted.md:2", "planted.md:2", "planted.md:3"]
    assert broken_links(planted) == ["planted.md:4 requirements.md#no-such-rule",
                                     "planted.md:5 other.md#gone"]
    code = tmp_path / "cites.py"
    code.write_text("# TS-R1, TS-R" + "99, SI-ART-9, CONV-" + "9\n", encoding="utf-8")
    assert unknown_short_ids(code) == ["cites.py:1 TS-R" + "99", "cites.py:1 CONV-" + "9"]
