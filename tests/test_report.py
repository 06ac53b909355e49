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
