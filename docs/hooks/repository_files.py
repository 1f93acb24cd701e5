"""MkDocs hook: pages and files that live in the repository, outside docs/, served at their repository paths.

- notebooks/lecture_claims.py, the instructor's notebook (jupytext): the mkdocs-jupyter plugin executes it and
  renders it with its outputs;
- results/reference/README.md and every committed study report (results/reference/*/report/report.md and its PNG
  figures), results/conv_questions/ (README.md, figures, tables), results/explorer.html and configs/study/*.yaml,
  each at its own path, so the links between them work in the site as they do in the repository.

A report links the per-claim tables that `python -m inductive.study read NAME` regenerates and git does not keep;
where such a target is not in the site, the link becomes the file's name in code, so `mkdocs build --strict` checks
every other link.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = ("notebooks/lecture_claims.py", "results/reference/README.md", "results/reference/*/report/report.md", "results/reference/*/report/*.png",
            "results/conv_questions/README.md", "results/conv_questions/*.png", "results/conv_questions/*.csv",
            "results/explorer.html", "configs/study/*.yaml")
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def repository_files() -> list[str]:
    """The files' paths in the repository, which are their paths in the site."""
    return [path.relative_to(ROOT).as_posix() for pattern in PATTERNS for path in sorted(ROOT.glob(pattern))]


@event_priority(100)  # before mkdocs-jupyter's on_files, which must see the notebook
def on_files(files: Files, config) -> Files:
    for path in repository_files():
        files.append(File(path, str(ROOT), config.site_dir, config.use_directory_urls))
    return files


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    if not page.file.src_uri.startswith("results/"):
        return markdown
    here = posixpath.dirname(page.file.src_uri)

    def link(match: re.Match) -> str:
        image, text, target = match.groups()
        if image or "://" in target or target.startswith("#"):
            return match.group(0)
        path = posixpath.normpath(posixpath.join(here, target.split("#")[0]))
        return match.group(0) if files.get_file_from_path(path) is not None else f"`{text}`"

    return LINK.sub(link, markdown)


def on_serve(server, config, builder):
    for path in ("notebooks", "results/reference", "results/conv_questions", "configs/study"):
        server.watch(str(ROOT / path))
    return server
