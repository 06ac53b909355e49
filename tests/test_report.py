"""`groklab report`: a self-contained page from what a store holds (issue 10, deliverable 3)."""
import re


def test_report_is_one_offline_page_with_verdicts_figures_and_versions(cli, tmp_path):
    store = tmp_path / "store"
    code, _, err = cli(["run", "construction", "--p", "3", "--store", str(store)])  # writes a figure, no trials
    assert code == 0, err
    code, _, err = cli(["check", "why-grok", "--claim", "23", "--store", str(store)])  # theory: no training
    assert code == 0, err
    code, out, err = cli(["report", "--store", str(store)])
    assert code == 0, err
    page = (store / "report.html").read_text()
    assert out.strip().endswith("report.html")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)  # inline, nothing to fetch
    assert not re.search(r'(src|href)="https?://', page) and "<script" not in page
    assert page.count('<tr class="verdict">') == 2 and page.count('class="PASS"') == 2  # claim 23's two rows
    assert "&lt;= 1e-09" in page  # spec text is escaped, not markup
    code, _, err = cli(["report", "--store", str(tmp_path / "empty")])
    assert code == 2 and "store" in err
