"""The house rules that import-linter cannot check (`make lint` checks the rest), and the
README's map of the code, which must name what exists and everything that does."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import crawler.runtime.settings as project_settings
from crawler.keys import Env, Setting
from tests import REPO
from tests.fresh_python import run_python

PACKAGE_LAYERS = ("analysis", "runtime", "running", "config", "cli", "distributed", "web")


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_the_scheduler_imports_only_the_layers_below_it() -> None:
    """scheduler.py is a top-level module, which import-linter sees only as imported."""
    ours = {
        module
        for module in _imported_modules(REPO / "scheduler.py")
        if module.split(".")[0] in ("crawler", "spiders", "storage", "scheduler")
    }
    allowed = (
        "crawler.config",
        "crawler.distributed",
        "crawler.running",
        "crawler.keys",
        "storage",
    )
    assert ours, "the scheduler's own imports were not found"
    assert {m for m in ours if not m.startswith(allowed)} == set()


def test_page_analysis_loads_neither_scrapy_twisted_nor_sqlalchemy() -> None:
    """What a worker process loads, run for real (import-linter reads only static imports)."""
    probe = (  # what pebble runs in a worker: its initializer, then each page's task
        "import json, sys\n"
        "from crawler.runtime.workers import _run_and_trim, _warm_up\n"
        "_warm_up()\n"
        "from crawler.analysis.page import PageRules, analyze_page\n"
        "from crawler.analysis.rehearsal import rehearsal_page\n"
        "assert _run_and_trim(analyze_page, rehearsal_page(), PageRules()).kind == 'article'\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    loaded = set(json.loads(run_python(probe, check=True).stdout))
    assert loaded & {"scrapy", "twisted", "sqlalchemy", "alembic", "apscheduler"} == set()
    assert "trafilatura" in loaded  # the probe did analyse a page


def _layout_section() -> str:
    readme = (REPO / "README.md").read_text("utf-8")
    return readme[readme.index("## Layout") :]


def test_the_readme_map_names_only_what_exists() -> None:
    paths = re.findall(
        r"`((?:crawler|spiders|storage|tests|docs)/[\w./-]*|scheduler\.py)`", _layout_section()
    )
    assert len(paths) > 20
    assert [p for p in paths if not (REPO / p).exists()] == []


def test_the_readme_map_names_every_module_of_each_layer() -> None:
    """A module added to a layer without a word in the README fails here."""
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `crawler/(\w+)/` \| (.*) \|$", _layout_section(), re.M)
    }
    assert set(rows) >= set(PACKAGE_LAYERS)
    for layer in PACKAGE_LAYERS:
        folder = REPO / "crawler" / layer
        modules = {p.stem for p in folder.glob("*.py")} - {"__init__"}
        modules |= {p.parent.name for p in folder.glob("*/__init__.py")}
        named = set(re.findall(r"`(\w+)`", rows[layer]))
        assert modules - named == set(), f"crawler/{layer}/ modules missing from the README"
        assert named - modules == set(), f"README names modules crawler/{layer}/ does not have"


def test_every_project_setting_has_a_default_and_a_line_in_the_docs() -> None:
    docs = (REPO / "docs" / "crawling.md").read_text("utf-8")
    names = [v for k, v in vars(Setting).items() if not k.startswith("_")]
    assert [n for n in names if not hasattr(project_settings, n)] == []
    assert [n for n in names if f"`{n}`" not in docs] == []
    declared = {n for n in vars(project_settings) if n.startswith("NEWSARCHIVE_")}
    assert declared - set(names) - {"NEWSARCHIVE_CONTACT"} == set()


def test_every_environment_variable_is_documented() -> None:
    docs = (REPO / "docs" / "crawling.md").read_text("utf-8")
    names = [v for k, v in vars(Env).items() if not k.startswith("_")]
    assert [n for n in names if f"`{n}`" not in docs] == []
