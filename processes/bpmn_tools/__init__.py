"""Tools written elsewhere that check the exported BPMN: bpmnlint and the bpmn-js viewer.

They are npm packages pinned in ``package.json`` and ``package-lock.json`` beside this file.
:func:`install` runs ``npm ci`` into ``node_modules`` here (ignored by git) the first time, and
again only when the lock changes; :func:`lint` runs bpmnlint with its recommended rules
(``.bpmnlintrc``), failing on any warning as well as any error. ``python -m processes.bpmn_tools
lint FILE…`` does the same from the command line.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
STAMP = NODE_MODULES / ".cycle-lock-sha256"
INSTALL_LOCK = HERE / ".install.lock"
VIEWER_BUNDLE = NODE_MODULES / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"


class ToolsUnavailable(RuntimeError):
    """Node.js or npm is not installed, so the tools cannot run here."""


def available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def _lock_digest() -> str:
    return hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()


def install() -> Path:
    """Install the pinned tools into ``node_modules`` unless they already match the lock."""
    if not available():
        raise ToolsUnavailable("Node.js and npm are needed to run bpmnlint and bpmn-js.")
    digest = _lock_digest()
    # Test processes running side by side install once: the others wait, then find the stamp.
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.exists() and STAMP.read_text() == digest:
            return NODE_MODULES
        npm = shutil.which("npm")
        assert npm is not None
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            capture_output=True,
            text=True,
        )
        STAMP.write_text(digest)
    return NODE_MODULES


def lint(paths: Sequence[Path | str]) -> subprocess.CompletedProcess[str]:
    """Run bpmnlint (recommended rules, no warning allowed) on ``paths``."""
    install()
    node = shutil.which("node")
    assert node is not None
    return subprocess.run(
        [
            node,
            str(NODE_MODULES / "bpmnlint" / "bin" / "bpmnlint.js"),
            "--max-warnings=0",
            *(str(Path(path).resolve()) for path in paths),
        ],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
    )
