"""book/print_contents.py: the contents page of the printed book (make pdf)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "book" / "print_contents.py"
spec = importlib.util.spec_from_file_location("print_contents", SCRIPT)
print_contents = importlib.util.module_from_spec(spec)
spec.loader.exec_module(print_contents)

PAGE = """<section id="intro"><h1>Book<a class="headerlink" href="#intro">#</a></h1>
<section id="chapters">
<h2>Chapters<a class="headerlink" href="#chapters" title="Link to this heading">#</a></h2>
<div class="toctree-wrapper compound">
<span id="document-book/a"></span><section class="tex2jax_ignore" id="data-a">
<h3>Data: <code>ar-ar</code> &amp; more<a class="headerlink" href="#data-a">#</a></h3></section>
<span id="document-book/b"></span><section id="b-title">
<h3>B<a class="headerlink" href="#b-title">#</a></h3></section>
</div></section></section>"""
TOC = {"root": "book/intro", "parts": [{"caption": "Part & one", "chapters": [{"file": "book/a"}]},
                                       {"caption": "Two", "chapters": [{"file": "book/b"}]}]}


def test_the_contents_list_every_part_and_chapter_in_order_after_the_chapters_heading():
    page = print_contents.add_contents(TOC, PAGE)
    nav = page[page.index(print_contents.MARK):page.index("</nav>")]
    assert page.index("<h2>Chapters") < page.index(print_contents.MARK) < page.index('<div class="toctree-wrapper')
    assert nav.index("Part &amp; one") < nav.index('href="#data-a"') < nav.index("Two") < nav.index('href="#b-title"')
    assert '<a href="#data-a">Data: ar-ar &amp; more</a>' in nav  # markup stripped, text escaped


def test_a_second_run_or_a_missing_chapter_is_refused():
    with pytest.raises(print_contents.ContentsError, match="already"):
        print_contents.add_contents(TOC, print_contents.add_contents(TOC, PAGE))
    missing = {"parts": [{"caption": "X", "chapters": [{"file": "book/c"}]}]}
    with pytest.raises(print_contents.ContentsError, match="book/c"):
        print_contents.add_contents(missing, PAGE)
    with pytest.raises(print_contents.ContentsError, match="Chapters"):
        print_contents.add_contents(TOC, PAGE.replace('id="chapters"', 'id="other"'))


def test_the_command_line_rewrites_the_page_and_reports_errors(tmp_path, capsys):
    import yaml

    toc, page = tmp_path / "_toc.yml", tmp_path / "book.html"
    toc.write_text(yaml.safe_dump(TOC)), page.write_text(PAGE)
    assert print_contents.main([str(toc), str(page)]) == 0 and print_contents.MARK in page.read_text()
    assert print_contents.main([str(toc), str(page)]) == 1
    assert "already" in capsys.readouterr().err
    assert print_contents.main([str(toc)]) == 2
