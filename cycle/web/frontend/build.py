#!/usr/bin/env python3
"""Bring the pinned design system and axe-core into the static files, from package-lock.json.

    python3 cycle/web/frontend/build.py

Runs ``npm ci`` here, compiles NHS.UK frontend's Sass (nhsuk.scss) into
``cycle/web/static/nhsuk/nhsuk-frontend.min.css``, copies its JavaScript, images and licence
beside it, and copies axe-core's ``axe.min.js`` (and licence) to ``tests/web/vendor/`` for the
browser tests. The outputs are committed, so running the service needs only Python; never edit
them by hand: change package.json (``npm install nhsuk-frontend@X --save-exact``) and run this.
Needs Node.js 20+ and npm.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MODULES = HERE / "node_modules"
STATIC = HERE.parent / "static" / "nhsuk"
AXE = ROOT / "tests" / "web" / "vendor"

MIT_TERMS = """\
Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def run(*command: str) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=HERE, check=True)


def package(name: str) -> dict[str, str]:
    return json.loads((MODULES / name / "package.json").read_text())  # type: ignore[no-any-return]


def nhsuk_licence() -> str:
    """The package ships no licence file: its licence is stated in package.json and README."""
    meta = package("nhsuk-frontend")
    readme = (MODULES / "nhsuk-frontend" / "README.md").read_text()
    section = re.search(r"^## Licence\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    statement = section.group(1).strip() if section else ""
    return (
        f"{meta['name']} {meta['version']} ({meta.get('homepage', '')})\n"
        f"Licence (package.json): {meta['license']}\n\n"
        f"From the package's README:\n\n{statement}\n\n"
        f"The MIT licence's terms:\n\n{MIT_TERMS}"
    )


def main() -> None:
    run("npm", "ci", "--no-audit", "--no-fund")
    if STATIC.exists():
        shutil.rmtree(STATIC)
    STATIC.mkdir(parents=True)
    run(
        "npx",
        "sass",
        "--no-source-map",
        "--style=compressed",
        "--quiet-deps",
        "--load-path=node_modules",
        "nhsuk.scss",
        str(STATIC / "nhsuk-frontend.min.css"),
    )
    dist = MODULES / "nhsuk-frontend" / "dist" / "nhsuk"
    shutil.copy2(dist / "nhsuk-frontend.min.js", STATIC / "nhsuk-frontend.min.js")
    shutil.copytree(dist / "assets", STATIC / "assets")
    (STATIC / "LICENCE.txt").write_text(nhsuk_licence())
    version = package("nhsuk-frontend")["version"]
    (STATIC / "VERSION").write_text(f"nhsuk-frontend {version}\n")
    AXE.mkdir(parents=True, exist_ok=True)
    shutil.copy2(MODULES / "axe-core" / "axe.min.js", AXE / "axe.min.js")
    shutil.copy2(MODULES / "axe-core" / "LICENSE", AXE / "axe-core-LICENSE.txt")
    (AXE / "VERSION").write_text(f"axe-core {package('axe-core')['version']}\n")
    print(f"nhsuk-frontend {version} -> {STATIC.relative_to(ROOT)}", flush=True)
    print(f"axe-core {package('axe-core')['version']} -> {AXE.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except (OSError, subprocess.CalledProcessError) as error:
        sys.exit(f"build failed: {error}")
