#!/usr/bin/env python3
"""Command-line entry point for the commissioning cycle engine.

On a machine with only Python 3.11+, the first run creates ``.venv`` beside this file and installs
the dependencies listed in ``pyproject.toml`` into it (again whenever that file changes), then
runs the command inside it. Set ``CYCLE_NO_BOOTSTRAP=1`` to use the current interpreter as is
(any activated virtual environment is used as is too).

``manage.py test [pytest options]`` runs the test suite with pytest; every other command is
Django's or the project's own (``demo``, ``cycle``, ``audit``, ...).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".cycle-requirements"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def pip_install(python: Path, requirements: list[str]) -> list[str]:
    """The install command: pip shows what it collects and downloads, with progress bars."""
    return [
        str(python),
        "-m",
        "pip",
        "install",
        "--progress-bar=on",
        "--disable-pip-version-check",
        *requirements,
    ]


def _bootstrap() -> None:
    """Re-run this command inside ``.venv``, creating it and installing dependencies if needed."""
    if os.environ.get("CYCLE_NO_BOOTSTRAP") or (
        sys.prefix != sys.base_prefix and Path(sys.prefix).resolve() != VENV.resolve()
    ):
        return
    requirements = _requirements()
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    python = _venv_python()
    if not python.exists():
        print("Creating a virtual environment in .venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not STAMP.exists() or STAMP.read_text() != digest:
        print(
            "Installing dependencies into .venv (first run, or pyproject.toml changed); "
            "this takes a minute or two ...",
            flush=True,
        )
        subprocess.run(pip_install(python, requirements), check=True)
        STAMP.write_text(digest)
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), str(ROOT / "manage.py"), *sys.argv[1:]])


def _names_workers(options: list[str]) -> bool:
    """Whether pytest options already say how many workers to use (or turn xdist off)."""
    return any(
        option.startswith(("-n", "--numprocesses")) or option in ("no:xdist", "-pno:xdist")
        for option in options
    )


def main() -> None:
    _bootstrap()
    os.chdir(ROOT)
    if sys.argv[1:2] == ["test"]:
        # The suite runs under pytest with the test settings, whatever the environment says.
        # It runs in parallel on every core (pytest-xdist) unless the caller says otherwise, a
        # file to a worker, so a module's scenarios are loaded once rather than on every worker.
        options = sys.argv[2:]
        parallel = [] if _names_workers(options) else ["-n", "auto", "--dist", "loadfile"]
        args = [
            sys.executable,
            "-m",
            "pytest",
            "--ds=cycle.conf.test_settings",
            *parallel,
            *options,
        ]
        os.execv(sys.executable, args)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cycle.conf.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
