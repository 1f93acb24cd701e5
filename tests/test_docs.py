"""The docs site: `mkdocs build --strict` passes (no broken link, no missing page, no page left out of the nav), and
every page in mkdocs.yml's nav is written, the executed instructor's notebook included."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # starts mkdocs, which executes the notebook in a Jupyter kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PAGE = "notebooks/lecture_claims.py"


def nav_pages(nav: list) -> list[str]:
    """Every page named in a MkDocs nav, in order."""
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def built_page(site: Path, page: str) -> Path:
    """Where MkDocs writes a page (use_directory_urls): a/b.md -> a/b/index.html, a/README.md -> a/index.html."""
    stem = Path(page).with_suffix("")
    if stem.name in ("index", "README"):
        return site / stem.parent / "index.html"
    return site / stem / "index.html"


def test_docs_build_strict_with_every_nav_page(tmp_path):
    missing = [m for m in ("mkdocs", "material", "mkdocs_jupyter") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip install -e '.[docs]'")
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = nav_pages(config["nav"])
    assert NOTEBOOK_PAGE in pages
    absent = [page for page in pages if not built_page(site, page).is_file()]
    assert not absent, f"pages in the nav that the build did not write: {absent}"
    notebook = built_page(site, NOTEBOOK_PAGE).read_text(encoding="utf-8")
    assert notebook.count("data:image/png") >= 9, "the notebook page lacks its figures: was it executed?"
    assert "TensorFlow imported: False" in notebook
    assert (built_page(site, NOTEBOOK_PAGE).parent / "lecture_claims.py").is_file()  # its source, to download
