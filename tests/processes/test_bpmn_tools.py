"""The exports, checked by bpmnlint (recommended rules) and imported by bpmn-js in Chromium.

Both tools are the npm packages pinned in ``processes/bpmn_tools``; they install once into its
``node_modules``. The tests skip when Node.js and npm, or Chromium, are not installed, unless
``BPMN_TOOLS_REQUIRED=1`` is set (as CI sets it, ``.ci/run``): then a missing tool fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from cycle.stages import DEFAULT, TEMPLATES
from processes import bpmn, bpmn_tools

REQUIRED = "BPMN_TOOLS_REQUIRED"
CHROMIUM = shutil.which("chromium")


def need(available: bool, what: str) -> None:
    """Skip the test where a tool is missing; fail it instead where the tools are required."""
    if available:
        return
    if os.environ.get(REQUIRED) == "1":
        pytest.fail(f"{what}, and {REQUIRED}=1 says these checks must run here")
    pytest.skip(what)


def need_node() -> None:
    need(bpmn_tools.available(), "Node.js and npm are needed for bpmnlint and bpmn-js")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("bpmn")
    paths = {}
    for key, template in TEMPLATES.items():
        paths[key] = directory / f"commissioning-{key}.bpmn"
        paths[key].write_text(bpmn.export(template, "bpmn"), encoding="utf-8")
    return paths


def test_bpmnlint_recommended_rules_report_nothing_on_any_export(exports: dict[str, Path]) -> None:
    need_node()
    result = bpmn_tools.lint(list(exports.values()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"\b(error|warning)s?\b", result.stdout + result.stderr)


def test_bpmnlint_reports_a_gateway_that_joins_and_forks(tmp_path: Path) -> None:
    """The control: the runner does see what the issue found in the old export."""
    need_node()
    xml = bpmn.export(DEFAULT, "bpmn")
    outgoing = "<bpmn:outgoing>flow_enter_framework__prepare_framework</bpmn:outgoing>"
    broken = xml.replace(outgoing, f"{outgoing}<bpmn:outgoing>extra</bpmn:outgoing>").replace(
        '<bpmn:sequenceFlow id="flow_cycle_created__enter_framework"',
        '<bpmn:sequenceFlow id="extra" sourceRef="enter_framework" targetRef="cycle_closed" />\n'
        '    <bpmn:sequenceFlow id="flow_cycle_created__enter_framework"',
    )
    assert broken != xml
    path = tmp_path / "broken.bpmn"
    path.write_text(broken, encoding="utf-8")
    result = bpmn_tools.lint([path])
    assert result.returncode != 0
    assert "no-gateway-join-fork" in result.stdout


IMPORT = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  try {
    const { warnings } = await viewer.importXML(xml);
    const count = viewer.get('elementRegistry').getAll().length;
    return { warnings: warnings.map((w) => w.message), elements: count };
  } catch (error) {
    return { error: String(error), warnings: (error.warnings || []).map((w) => w.message) };
  } finally {
    viewer.destroy();
  }
}"""


def test_bpmn_js_imports_every_export_with_no_warning(exports: dict[str, Path]) -> None:
    need_node()
    need(CHROMIUM is not None, "Chromium is needed to run bpmn-js")
    bpmn_tools.install()
    bundle = bpmn_tools.VIEWER_BUNDLE.read_text(encoding="utf-8")
    results: dict[str, Any] = {}
    found: dict[str, Any] = {}
    # Playwright's sync API refuses to run where an asyncio loop is running, as one may be in a
    # test process that ran an async test before; a thread of its own has none.
    worker = threading.Thread(target=lambda: found.update(_import_all(bundle, exports, results)))
    worker.start()
    worker.join()
    control = found["control"]
    model_sizes = {key: len(bpmn.build_model(t).nodes) for key, t in TEMPLATES.items()}
    for key, result in results.items():
        assert "error" not in result, result
        assert result["warnings"] == [], (key, result["warnings"])
        assert result["elements"] > model_sizes[key]
    assert any("unresolved reference <nobody>" in w for w in control["warnings"]), control


def _import_all(bundle: str, exports: dict[str, Path], results: dict[str, Any]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.set_content(
                "<!doctype html><html lang='en'><title>bpmn-js</title>"
                "<div id='canvas' style='width:1200px;height:800px'></div></html>"
            )
            page.add_script_tag(content=bundle)
            for key, path in exports.items():
                results[key] = page.evaluate(IMPORT, path.read_text(encoding="utf-8"))
            # The control: a dangling reference is reported as an import warning.
            dangling = (
                exports["default"]
                .read_text(encoding="utf-8")
                .replace("<bpmn:loopDataInputRef>panel<", "<bpmn:loopDataInputRef>nobody<", 1)
            )
            control = page.evaluate(IMPORT, dangling)
        finally:
            browser.close()
    return {"control": control}
