"""Give the single-page HTML that ``make pdf`` prints a contents page.

Sphinx's single-page builder inlines every chapter into the intro's toctree and leaves the
sidebar's table of contents empty, so the printed book would have no contents. This inserts
one after the intro's "Chapters" heading: the parts of ``_toc.yml`` in order, each with its
chapters' titles linked to their anchors (Chromium keeps the links in the PDF; with
``--generate-pdf-document-outline`` the same headings are the PDF's bookmarks)::

    python book/print_contents.py _toc.yml _build/singlehtml/book.html

Standard library plus PyYAML (a dependency of the book already). Run once per build: a page that
already has the contents is refused rather than given two.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import yaml

MARK = '<nav class="print-contents"'
_CHAPTERS = re.compile(r'(<section id="chapters">\s*<h2>.*?</h2>)', re.S)


class ContentsError(ValueError):
    """The page or the table of contents is not what the single-page builder writes."""


def chapter_title(page: str, docname: str) -> tuple[str, str]:
    """The anchor and the text of the first heading after ``docname``'s marker in ``page``."""
    marker = f'<span id="document-{docname}"></span>'
    start = page.find(marker)
    if start < 0:
        raise ContentsError(f"{docname} (in _toc.yml) is not in the single-page HTML.")
    found = re.compile(r'<section[^>]*\bid="([^"]+)"[^>]*>\s*<h\d>(.*?)<a class="headerlink"', re.S)
    match = found.search(page, start)
    if match is None:
        raise ContentsError(f"{docname} has no heading after its marker.")
    text = re.sub(r"<[^>]+>", "", match.group(2))
    return match.group(1), " ".join(html.unescape(text).split())


def contents_html(toc: dict, page: str) -> str:
    """The contents as a ``<nav>``: a heading per part and a linked list of its chapters."""
    lines = [f'{MARK} aria-label="Contents">']
    for part in toc.get("parts", []):
        lines.append(f'<p class="print-contents-part">{html.escape(part["caption"])}</p>')
        lines.append("<ol>")
        for chapter in part.get("chapters", []):
            anchor, text = chapter_title(page, chapter["file"])
            lines.append(f'<li><a href="#{anchor}">{html.escape(text)}</a></li>')
        lines.append("</ol>")
    lines.append("</nav>")
    return "\n".join(lines)


def add_contents(toc: dict, page: str) -> str:
    """``page`` with the contents inserted after the "Chapters" heading."""
    if MARK in page:
        raise ContentsError("The page already has a contents page.")
    match = _CHAPTERS.search(page)
    if match is None:
        raise ContentsError('No "Chapters" section: the intro must end with its toctree under a heading "Chapters".')
    return page[: match.end()] + "\n" + contents_html(toc, page) + page[match.end():]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], "\nusage: print_contents.py _toc.yml PAGE.html", file=sys.stderr)
        return 2
    toc_file, page_file = map(Path, argv)
    try:
        page = add_contents(yaml.safe_load(toc_file.read_text(encoding="utf-8")), page_file.read_text(encoding="utf-8"))
    except (OSError, ContentsError) as err:
        print(f"print_contents: {err}", file=sys.stderr)
        return 1
    page_file.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
