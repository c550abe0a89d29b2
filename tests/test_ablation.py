"""The focal-loss ablation runner (lesson 13): settings, paper references, table, findings."""
import math
from dataclasses import asdict

import pytest

from retina_lesson import ablation
from retina_lesson.data import shapes_datasets
from retina_lesson.shapes import make_shapes
from retina_lesson.train import TrainConfig


def test_configs_differ_only_in_the_loss_settings():
    base = TrainConfig(epochs=3, preset="paper")
    configs = ablation.ablation_configs(base)
    assert list(configs) == list(ablation.SETTINGS)
    for name, config in configs.items():
        diff = {k for k, v in asdict(config).items() if asdict(base)[k] != v}
        assert diff <= {"focal_gamma", "focal_alpha", "prior"}, (name, diff)
        assert (config.focal_gamma, config.focal_alpha, config.prior) == ablation.SETTINGS[name]
    assert configs["fl_g2_a0.25"] == base               # the base is the paper's default loss
    assert configs["fl_g2_a0.25_noprior"].prior == 0
    assert set(ablation.QUICK_SETTINGS) <= set(ablation.SETTINGS)
    with pytest.raises(ValueError, match="unknown setting"):
        ablation.ablation_configs(base, ["fl_g3"])


def test_labels_and_paper_references():
    assert ablation.setting_label(0.0, -1.0, 0.01) == "CE"
    assert ablation.setting_label(0.0, 0.75, 0.01) == "CE, α=0.75"
    assert ablation.setting_label(2.0, 0.25, 0.0) == "FL γ=2, α=0.25, no prior init"
    assert ablation.paper_reference(0.0, -1.0) == (30.2, 46.7, 32.8)  # plain CE ~ alpha 0.5
    assert ablation.paper_reference(0.0, 0.75) == (31.1, 49.4, 33.0)
    assert ablation.paper_reference(2.0, 0.25) == (34.0, 52.5, 36.5)
    assert ablation.paper_reference(2.0, 0.25, prior=0.0) is None
    assert ablation.paper_reference(3.0, 0.25) is None
    # Table 1b's best row is gamma 2, alpha .25
    assert max(ablation.PAPER_TABLE1B, key=lambda k: ablation.PAPER_TABLE1B[k][0]) == (2.0, 0.25)


def _row(name, ap):
    gamma, alpha, prior = ablation.SETTINGS[name]
    return {"name": name, "label": ablation.setting_label(gamma, alpha, prior), "gamma": gamma,
            "alpha": alpha, "prior": prior, "AP": ap, "AP50": min(1.0, ap + 0.2),
            "AP75": ap * 0.9}


def test_table_has_the_papers_layout_and_numbers():
    rows = [_row("ce", 0.40), _row("ce_a0.75", 0.42), _row("fl_g2_a0.25", 0.45),
            _row("fl_g2_a0.25_noprior", 0.44)]
    text = ablation.format_ablation_table(rows)
    assert "Table 1a" in text and "Table 1b" in text and "prior" in text
    line = next(s for s in text.splitlines() if s.startswith("gamma = 2, alpha = 0.25"))
    assert line.split()[-6:] == ["45.0", "65.0", "40.5", "34.0", "52.5", "36.5"]
    paper_only = next(s for s in text.splitlines() if s.startswith("gamma = 0.1, alpha = 0.75"))
    assert paper_only.split()[-6:-3] == ["-", "-", "-"]
    plain = next(s for s in text.splitlines() if "plain CE" in s)
    assert "30.2" in plain and "40.0" in plain


def test_findings_are_computed_from_the_numbers():
    rows = [_row("ce", 0.40), _row("ce_a0.75", 0.405), _row("fl_g2_a0.25", 0.45),
            _row("fl_g5_a0.25", 0.47), _row("fl_g2_a0.25_noprior", 0.30)]
    text = "\n".join(ablation.findings(rows, noise=0.01))
    assert ("alpha-balancing CE (alpha 0.75 vs none): +0.5 AP here, +0.9 in the paper - "
            "within noise") in text
    assert "gamma 2 vs alpha-balanced CE: +4.5 AP here, +2.9 in the paper - agrees" in text
    assert "gamma 5 vs gamma 2: +2.0 AP here, -1.8 in the paper - disagrees" in text
    assert "best gamma here: 5" in text and "disagrees." in text
    assert "+15.0 AP - the prior initialisation helps" in text
    assert ablation.findings([]) == []


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp("shapes"), num_train=16, num_val=8, image_size=64,
                       progress=False)
    return shapes_datasets(root, progress=False)


def test_run_ablation_trains_once_then_reuses(tiny_data, tmp_path):
    train_set, val_set = tiny_data
    base = TrainConfig(epochs=1, batch_size=8, fpn_channels=16, warmup_iters=1)
    configs = ablation.ablation_configs(base, ["fl_g2_a0.25", "fl_g2_a0.25_noprior"])
    rows = ablation.run_ablation(configs, train_set, val_set, tmp_path, progress=False,
                                 device="cpu")
    assert [r["name"] for r in rows] == ["fl_g2_a0.25", "fl_g2_a0.25_noprior"]
    assert (tmp_path / "fl_g2_a0.25" / "last.pt").is_file() and not any(r["reused"] for r in rows)
    for r in rows:
        assert len(r["history"]) == 2 and r["train_seconds"] > 0
        assert all(0 <= r[k] <= 1 or r[k] == -1 for k in ("AP", "AP50", "AP75"))
    # same seed and data: the box branch sees the same weights and batches at iteration 0
    assert math.isclose(rows[0]["history"][0]["bbox_regression"],
                        rows[1]["history"][0]["bbox_regression"], rel_tol=1e-5)
    # no prior: p = 0.5 on every anchor, a far larger first classification loss
    assert rows[1]["history"][0]["classification"] > 10 * rows[0]["history"][0]["classification"]
    again = ablation.run_ablation(configs, train_set, val_set, tmp_path, progress=False,
                                  device="cpu")
    assert all(r["reused"] for r in again)
    assert [r["AP"] for r in again] == [r["AP"] for r in rows]
    assert [r["history"] for r in again] == [r["history"] for r in rows]
