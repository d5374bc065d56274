"""docs/api.md's worked example, run call by call: the page and the API cannot drift apart.

The ``sh`` blocks of the example are read from the page: the setup (demo data, one token per
person through ``manage.py api_token create``), then each ``curl`` call, a ``for`` loop of them
or one whose answer's ``id`` a variable keeps. Each call is sent to the application as curl would
send it; its answer must have the status on the ``→`` line after the block, and contain the JSON
shown after that (objects may have more keys; lists must match item by item).
"""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SECTION = "## Worked example: meals on wheels"

SETUP_TOKEN = re.compile(
    r'^(\w+)=\$\(python3 manage\.py api_token create --as ([\w.]+) --name "[^"]+"\)$'
)
ASSIGN = re.compile(r"^(\w+)=([^$(\s]+)$")
CAPTURE = re.compile(r"^(\w+)=\$\((curl .*) \| python3 -c '.*\[\"(\w+)\"\].*'\)$")
LOOP = re.compile(r"^for (\w+) in (.+?); do (.+); done$")
STATUS = re.compile(r"^→ `(\d{3}) [^`]+`")


@dataclass
class Call:
    """One curl command of the page, possibly repeated over a loop's values."""

    command: str
    capture: tuple[str, str] | None = None  # (variable, key of the answer)
    loop: tuple[str, list[str]] | None = None
    status: int = 0
    expect: Any = None


@dataclass
class Example:
    setup: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)


def _blocks(text: str) -> list[tuple[str, str, str]]:
    """(language, body, the text after the block up to the next block) for each fenced block."""
    found = list(re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S))
    blocks = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        blocks.append((match.group(1), match.group(2), text[match.end() : end]))
    return blocks


def _logical_lines(body: str) -> list[str]:
    """Lines with their continuations joined, and each ``for`` loop on one line."""
    joined = re.sub(r"\\\n\s*", " ", body)
    merged: list[str] = []
    for line in (line.strip() for line in joined.splitlines()):
        if not line:
            continue
        if merged and merged[-1].startswith("for ") and not merged[-1].endswith("done"):
            merged[-1] += (" " if merged[-1].endswith("; do") else "; ") + line
        else:
            merged.append(line)
    return merged


def read_example() -> Example:
    text = DOC.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    example = Example()
    pending: Call | None = None
    for language, body, after in _blocks(section):
        if language == "json" and pending is not None:
            pending.expect = json.loads(body)
            pending = None
            continue
        if language != "sh":
            continue
        for line in _logical_lines(body):
            if not example.calls and ("api_token" in line or "manage.py demo" in line):
                example.setup.append(line)
                continue
            if ASSIGN.match(line) and not example.calls:
                example.setup.append(line)
                continue
            call = _call(line)
            status = STATUS.search(after.strip().splitlines()[0]) if after.strip() else None
            assert status, f"no '→ `STATUS`' line after: {line[:60]}"
            call.status = int(status.group(1))
            example.calls.append(call)
            pending = call
    return example


def _call(line: str) -> Call:
    if match := CAPTURE.match(line):
        return Call(match.group(2), capture=(match.group(1), match.group(3)))
    if match := LOOP.match(line):
        return Call(match.group(3), loop=(match.group(1), match.group(2).split()))
    assert line.startswith("curl "), f"not a call the example runner knows: {line[:60]}"
    return Call(line)


def _expand(token: str, env: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)", lambda m: env[m.group(1)], token)


def send(client: Client, command: str, env: dict[str, str]) -> Any:
    """Send one curl command to the application, as curl would."""
    words = [_expand(word, env) for word in shlex.split(command)][1:]
    method, data, headers, url = "GET", None, {}, None
    while words:
        word = words.pop(0)
        if word == "-s":
            continue
        if word == "-X":
            method = words.pop(0)
        elif word == "-H":
            name, _, value = words.pop(0).partition(": ")
            headers[name.lower()] = value
        elif word == "-d":
            data = words.pop(0)
            method = method if method != "GET" else "POST"
        else:
            assert url is None, f"two URLs in {command}"
            url = word
    assert url is not None and url.startswith(env["API"]), command
    assert "authorization" in headers, f"every call of the example is made as someone: {command}"
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.generic(
        method,
        path,
        data=(data or "").encode(),
        content_type=headers.get("content-type", "application/octet-stream"),
        HTTP_AUTHORIZATION=headers["authorization"],
    )


def contains(actual: Any, expected: Any, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in {sorted(actual)}"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{where}: {actual!r} is not a list of {len(expected)}"
        )
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


EXAMPLE = read_example()


def test_the_example_tells_the_whole_story() -> None:
    commands = " ".join(call.command for call in EXAMPLE.calls)
    for path in ("/panel/", "/boundaries/", "/budget/", "/signoffs/", "/advance/", "/audit/"):
        assert path in commands
    statuses = [call.status for call in EXAMPLE.calls]
    assert 409 in statuses and statuses.index(409) < len(statuses) - 1
    assert all(call.expect is not None for call in EXAMPLE.calls)


def manage(line: str) -> str:
    """Run one ``python3 manage.py …`` line of the page as the command it names; its output."""
    words = shlex.split(line)
    assert words[:2] == ["python3", "manage.py"], line
    out = io.StringIO()
    call_command(*words[2:], stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


@pytest.mark.django_db
def test_the_worked_example_of_docs_api_md_runs_as_written() -> None:
    # The setup as written: the demo data (every scenario and demo account), then a token for
    # each person through the command line.
    assert EXAMPLE.setup[0] == "python3 manage.py demo --no-serve"
    manage(EXAMPLE.setup[0])
    env: dict[str, str] = {}
    for line in EXAMPLE.setup[1:]:
        if match := SETUP_TOKEN.match(line):
            env[match.group(1)] = manage(line[line.index("(") + 1 : -1])
            assert env[match.group(1)].startswith("cyc_")
        else:
            match = ASSIGN.match(line)
            assert match, f"unknown setup line: {line}"
            env[match.group(1)] = match.group(2)
    client = Client()
    sent = 0
    for call in EXAMPLE.calls:
        values = call.loop[1] if call.loop else [""]
        for value in values:
            if call.loop:
                env[call.loop[0]] = _expand(value, env)
            response = send(client, call.command, env)
            sent += 1
            assert response.status_code == call.status, (call.command, response.content)
            answer = json.loads(response.content)
            contains(answer, call.expect, call.command[:50])
            if call.capture:
                env[call.capture[0]] = str(answer[call.capture[1]])
    assert sent == sum(len(c.loop[1]) if c.loop else 1 for c in EXAMPLE.calls) >= 25
