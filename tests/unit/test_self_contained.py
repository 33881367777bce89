"""Nothing in the repository refers to a path outside it: a fresh clone anywhere has all it needs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Written in pieces so that this file, which is tracked too, does not match its own patterns.
_FORBIDDEN = [
    re.escape("../" + "shared"),
    re.escape("shared" + "/specs"),
    # Absolute paths of the machines the project was written on.
    "(?<![\\w.])/" + "work/",
]
_FORBIDDEN_TEXT = re.compile("|".join(_FORBIDDEN))
#: ``Path(__file__)...parents[k]`` and ``Path(__file__)...parent.parent...``.
_PARENTS_INDEX = re.compile(r"__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")
_PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\))?((?:\.parent\b)+)")
#: A relative path made of ``../`` steps (Sphinx includes, links).
_UP_STEPS = re.compile(r"(?<![\w.])((?:\.\./)+)")


def _tracked_files() -> list[str]:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listing = subprocess.run([git, "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [name for name in listing.decode().split("\0") if name]


def escapes(relative_path: str, text: str) -> list[str]:
    """What in ``text`` (the file at ``relative_path`` in the repository) points outside the repository."""
    depth = len(Path(relative_path).parts) - 1  # directories between the repository and the file
    found = [match.group(0) for match in _FORBIDDEN_TEXT.finditer(text)]
    # parents[depth] is the repository itself, parent repeated depth + 1 times as well.
    found += [m.group(0) for m in _PARENTS_INDEX.finditer(text) if int(m.group(1)) > depth]
    found += [m.group(0) for m in _PARENT_CHAIN.finditer(text) if m.group(1).count(".parent") > depth + 1]
    found += [m.group(0) for m in _UP_STEPS.finditer(text) if m.group(1).count("../") > depth]
    return found


def test_no_tracked_file_refers_outside_the_repository():
    tracked = _tracked_files()
    assert "tests/unit/test_self_contained.py" in tracked  # this file is checked too
    problems = {}
    for name in tracked:
        try:
            text = (REPO / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):  # images; files deleted but not yet committed
            continue
        if found := escapes(name, text):
            problems[name] = found
    assert not problems, f"paths outside the repository (make them project files): {problems}"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("tests/unit/test_x.py", "SPECS = Path(__file__).resolve().parents" + "[3] / 'specs'"),
        ("tests/unit/test_x.py", "Path(__file__)" + ".parent" * 4 + " / 'x'"),
        ("docs/x.md", "```{literalinclude} ../../elsewhere/x.py"),
        ("Makefile", "cat " + "/" + "work/main/x"),
        ("tests/x.py", "open('" + "../" + "shared/x')"),
    ],
)
def test_escapes_are_recognised(path, text):
    assert escapes(path, text)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("tests/unit/test_x.py", "REPO = Path(__file__).resolve().parents" + "[2]"),
        ("tests/conftest.py", "REPO = Path(__file__).resolve()" + ".parent" * 2),
        ("docs/x.md", "```{literalinclude} ../dags/x.py"),
        ("README.md", "cd /tmp/clone && make test; see docs/work/x"),
    ],
)
def test_paths_inside_the_repository_are_not_flagged(path, text):
    assert escapes(path, text) == []
