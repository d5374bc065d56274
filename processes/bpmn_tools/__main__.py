"""``python -m processes.bpmn_tools lint FILE…``: bpmnlint's recommended rules on BPMN files."""

from __future__ import annotations

import sys

from . import ToolsUnavailable, lint


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "lint":
        print("usage: python -m processes.bpmn_tools lint FILE...", file=sys.stderr)
        return 2
    try:
        result = lint(argv[1:])
    except ToolsUnavailable as missing:
        print(missing, file=sys.stderr)
        return 2
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
