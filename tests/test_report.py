"""`groklab report`: a self-contained page from what a store holds (issue 10, deliverable 3)."""
import re

import pytest


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
    assert page.count('<tr class="verdict">') == 2 and page.count('<td class="PASS"') == 2  # claim 23's two rows
    assert "&lt;= 1e-09" in page  # spec text is escaped, not markup
    assert "Recipe summaries" in page and '<h3>construction <span class="PASS">PASS</span></h3>' in page
    code, _, err = cli(["report", "--store", str(tmp_path / "empty")])
    assert code == 2 and "store" in err


def test_log_axes_read_plain_numbers_and_a_single_evaluation_is_drawn(tmp_path):
    import matplotlib.pyplot as plt
    import numpy as np

    from groklab.figures import plain_log_ticks, plot_training_curves

    figure, axis = plt.subplots()
    axis.plot([10, 20, 30, 40, 50], [300, 600, 1100, 1600, 2400])
    axis.set(xscale="log", yscale="log")
    plain_log_ticks(axis)
    figure.canvas.draw()
    low, high = axis.get_xlim()
    labels = [t.get_text() for t in axis.get_xticklabels(minor=True) if low <= t.get_position()[0] <= high]
    assert {"20", "30", "40"} <= set(labels) and not any("10^" in text or "times" in text for text in labels)
    plt.close(figure)
    # Step 0 has no training loss yet (NaN): the one later evaluation must still show as a marker.
    curves = {"trial_index": np.array([0, 0]), "step": np.array([0, 100]), "val_accuracy": np.array([0.5, 0.6]),
              "train_loss": np.array([np.nan, 0.7])}
    captured = {}
    original = plt.Figure.savefig

    def keep(self, *args, **kwargs):
        captured["lines"] = [line for ax in self.axes for line in ax.get_lines()]
        return original(self, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        plot_training_curves(curves, tmp_path / "curves.png")
    finally:
        plt.Figure.savefig = original
    loss_lines = [line for line in captured["lines"] if np.isfinite(np.asarray(line.get_ydata(), float)).sum() == 1]
    assert loss_lines and all(line.get_marker() == "o" for line in loss_lines)


CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const result = {images: images.length, broken: images.filter(i => !i.complete || i.naturalWidth === 0).length,
                  verdict_rows: document.querySelectorAll('tr.verdict').length,
                  overflow: document.documentElement.scrollWidth - window.innerWidth};
  const out = document.createElement('pre'); out.id = 'browser-check'; out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def open_in_chromium(report, tmp_path) -> dict:
    """Load `report` in Debian's headless chromium (.ci/run installs it) at 1280 px: how many images
    it has and how many failed to decode, its verdict rows and its horizontal overflow. Keeps a
    screenshot, report.png, in `tmp_path`."""
    import json
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")
    probe = tmp_path / "probe.html"  # the report stays script-free; the check runs on a copy
    probe.write_text(report.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--hide-scrollbars"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', dom)
    assert found, dom[-500:]
    screenshot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={screenshot}", report.as_uri()], capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 10_000
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_report_renders_in_a_real_headless_chromium(cli, tmp_path):
    """Every figure decodes, one table row per verdict, no horizontal overflow at 1280 px."""
    store = tmp_path / "store"
    assert cli(["run", "construction", "--p", "3", "--store", str(store)])[0] == 0
    assert cli(["check", "why-grok", "--claim", "23", "--store", str(store)])[0] == 0
    assert cli(["report", "--store", str(store)])[0] == 0
    result = open_in_chromium(store / "report.html", tmp_path)
    assert result["images"] >= 1 and result["broken"] == 0
    assert result["verdict_rows"] == 2  # claim 23's two rows
    assert result["overflow"] <= 0, result


@pytest.mark.slow
def test_reports_of_the_demo_and_of_every_claim_render_in_chromium(cli, tmp_path):
    """The two stores the README points at: `make demo`'s, and one holding a quick `check all`
    (about 20 minutes on 2 cores)."""
    demo = tmp_path / "demo"
    assert cli(["run", "parity-scaling", "--store", str(demo)])[0] in (0, 1)
    assert cli(["report", "--store", str(demo)])[0] == 0
    result = open_in_chromium(demo / "report.html", tmp_path / "demo")
    assert result["images"] >= 1 and result["broken"] == 0 and result["overflow"] <= 0, result
    checks = tmp_path / "checks"
    assert cli(["check", "all", "--store", str(checks)])[0] in (0, 1)  # 1: some claims FAIL (honestly)
    assert cli(["report", "--store", str(checks)])[0] == 0
    (tmp_path / "all").mkdir()
    result = open_in_chromium(checks / "report.html", tmp_path / "all")
    from groklab.store import Store

    rows = Store(checks).query("SELECT count(*) FROM claim_verdicts").fetchall()[0][0]
    assert result["verdict_rows"] == rows and rows >= 36
    assert result["images"] >= 10 and result["broken"] == 0 and result["overflow"] <= 0, result


def test_report_shows_planned_trials_that_are_missing(cli, tmp_path):
    from groklab.store import Store
    from groklab.store.plans import planned, record_plan

    store = tmp_path / "store"
    code, _, err = cli(["run", "parity", "--n", "8", "--k", "2", "--width", "16", "--trials", "2", "--max-steps", "500",
                        "--store", str(store)])
    assert code in (0, 1), err
    (plan,) = planned(store)  # the run recorded what it was asked for
    assert plan["trials"] == 2 and plan["experiment"] == "parity"
    (config_hash,) = {row[0] for row in Store(store).query("SELECT config_hash FROM trials").fetchall()}
    assert plan["config_hashes"] == [config_hash]
    assert set(plan["run_keys"]) == {config_hash}  # the keys its trials were trained under
    from groklab.store.plans import plan_progress

    assert [p["done"] for p in plan_progress(store)] == [2]
    record_plan(store, "parity", plan["seed"], 2, [config_hash], {config_hash: "a-newer-run-key"})
    assert [p["done"] for p in plan_progress(store)] == [0]  # rows of another run key are not this run's
    record_plan(store, "parity", plan["seed"], 2, [config_hash], plan["run_keys"])
    record_plan(store, "parity", plan["seed"], 5, [config_hash])  # as if a larger sweep had been killed
    assert cli(["report", "--store", str(store)])[0] == 0
    page = (store / "report.html").read_text()
    assert "3 of 5 planned trials missing" in page and "of 2 planned" not in page  # the finished plan: nothing
