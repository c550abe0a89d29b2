"""The command lines as a user meets them: options checked up front (exit 2, one line), no run
overwritten, extending a run, Ctrl-C, bad files in one line, metrics.json, evaluate and debug."""
import json
import shutil

import pytest

import retina_lesson.train as train_module
from retina_lesson import debug, evaluate
from retina_lesson.checkpoint import load_checkpoint
from retina_lesson.train_cli import train_parser
from retina_lesson.shapes import make_shapes
from retina_lesson.train import main

FAST = ["--quick", "--epochs", "1", "--batch-size", "8", "--no-progress"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes"), num_train=16, num_val=4, image_size=64,
                       progress=False)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """A finished one-epoch run and what its command printed."""
    out = tmp_path_factory.mktemp("run")
    metrics = main([*FAST, "--data", str(data), "--out", str(out)])
    return out, metrics


@pytest.mark.parametrize("argv, words", [
    (["--epochs", "0"], "argument --epochs: '0' must be positive (> 0)"),
    (["--epochs", "-3"], "argument --epochs: '-3' must be positive (> 0)"),
    (["--batch-size", "0"], "argument --batch-size: '0' must be positive"),
    (["--lr", "-1"], "argument --lr: '-1' must be positive"),
    (["--lr", "nan"], "argument --lr: 'nan' is not a finite number"),
    (["--image-size", "0"], "argument --image-size: '0' must be positive"),
    (["--minutes", "0"], "argument --minutes: '0' must be positive"),
    (["--epochs", "2.5"], "argument --epochs: '2.5' is not a whole number"),
])
def test_bad_numbers_are_refused_by_the_parser_in_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as end:
        train_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert end.value.code == 2 and words in err and err.count("\n") == 1


def test_a_run_writes_its_checkpoint_metrics_and_a_table_in_fractions(run, data, capsys):
    out, metrics = run
    record = json.loads((out / "metrics.json").read_text())
    label = f"{data.name} val"
    entry = record["evaluations"][label]
    assert record["config"]["epochs"] == 1 and record["epochs_trained"] == 1
    assert record["data"] == str(data.resolve()) and entry["images"] == 4
    assert entry["metrics"]["AP"] == pytest.approx(metrics["AP"]) and 0 <= metrics["AP"] <= 1
    assert load_checkpoint(out / "last.pt")["epoch"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["last.pt", "metrics.json"]  # no .tmp left


def test_a_finished_run_is_never_overwritten_and_resume_extends_it(run, data, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(run[0], out)
    before = (out / "last.pt").read_bytes()
    with pytest.raises(SystemExit) as end:
        main([*FAST, "--data", str(data), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert end.value.code == 1 and "\n" not in err
    assert "holds a finished run (1 of 1 epochs)" in err and "--resume" in err and "--out" in err
    assert (out / "last.pt").read_bytes() == before
    # --resume --epochs 2: the same run, one more epoch (its other settings come from the checkpoint)
    main(["--data", str(data), "--out", str(out), "--resume", "--epochs", "2", "--no-progress",
          "--quick"])
    state = load_checkpoint(out / "last.pt")
    assert state["epoch"] == 2 and state["config"]["epochs"] == 2 and len(state["history"]) == 4
    assert state["config"]["batch_size"] == 8
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--out", str(out), "--resume", "--lr", "0.1", "--quick"])
    assert "differs in ['lr']" in capsys.readouterr().err


def test_the_default_folder_moves_on_to_a_fresh_one(run, data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(run[0], tmp_path / "runs" / "shapes")
    before = (tmp_path / "runs/shapes/last.pt").read_bytes()
    main([*FAST, "--data", str(data)])
    out = capsys.readouterr().out
    assert "runs/shapes holds a finished run (1 of 1 epochs) (--resume continues it); this run " \
           "goes to runs/shapes_2" in out
    assert (tmp_path / "runs/shapes/last.pt").read_bytes() == before
    assert (tmp_path / "runs/shapes_2/last.pt").is_file()


def test_ctrl_c_keeps_the_last_epoch_and_prints_the_resume_command(data, tmp_path, monkeypatch,
                                                                   capsys):
    real_train = train_module.train

    def interrupted_after_one_epoch(*args, **kwargs):
        def stop(epoch, model):
            raise KeyboardInterrupt
        return real_train(*args, on_epoch_end=stop, **kwargs)

    monkeypatch.setattr(train_module, "train", interrupted_after_one_epoch)
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as end:
        main(["--quick", "--epochs", "2", "--batch-size", "8", "--no-progress", "--data", str(data),
              "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert end.value.code == 130 and "\n" not in err
    assert err == (f"interrupted: {out}/last.pt holds an unfinished run (1 of 2 epochs); continue "
                   f"with: python -m retina_lesson.train --out {out} --resume --data {data} --quick")
    assert sorted(p.name for p in out.iterdir()) == ["last.pt"]


def test_bad_data_and_bad_checkpoints_end_in_one_line(data, tmp_path, capsys):
    with pytest.raises(SystemExit) as end:
        main([*FAST, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "a")])
    err = capsys.readouterr().err.strip()
    assert end.value.code == 1 and "\n" not in err and f"{tmp_path / 'nowhere'}" in err
    with pytest.raises(FileNotFoundError):  # --debug: the traceback
        main([*FAST, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "a"), "--debug"])
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "last.pt").write_bytes(b"")
    with pytest.raises(SystemExit):
        main([*FAST, "--data", str(data), "--out", str(tmp_path / "b"), "--resume"])
    err = capsys.readouterr().err.strip()
    assert err.endswith("last.pt: empty file (0 bytes), not a checkpoint") and "\n" not in err
    with pytest.raises(SystemExit):
        evaluate.main(["--checkpoint", str(tmp_path / "b" / "last.pt")])
    assert "empty file (0 bytes)" in capsys.readouterr().err


def test_evaluate_command_prints_the_table_and_adds_to_metrics_json(run, data, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(run[0], out)
    metrics = evaluate.main(["--checkpoint", str(out / "last.pt"), "--no-progress"])  # its data
    printed = capsys.readouterr().out
    assert metrics["AP"] == pytest.approx(run[1]["AP"])
    assert f"COCO AP on {data.name} val (4 images), as fractions" in printed
    evaluate.main(["--checkpoint", str(out / "last.pt"), "--data", str(data), "--split", "train",
                   "--no-progress"])
    record = json.loads((out / "metrics.json").read_text())
    assert sorted(record["evaluations"]) == [f"{data.name} train", f"{data.name} val"]
    assert record["evaluations"][f"{data.name} train"]["images"] == 16


def test_debug_command_reports_coverage_and_writes_figures(data, tmp_path, capsys):
    summary = debug.main(["--data", str(data), "--sizes", "12", "24", "48", "96", "192",
                          "--out", str(tmp_path / "report"), "--no-progress"])
    printed = capsys.readouterr().out
    assert "positive anchors per level:" in printed and "object size (px)" in printed
    assert summary["objects"] > 0 and 0 <= summary["recall"] <= summary["recall_low_quality"] <= 1
    names = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert names == ["best_iou.png", "object_shapes.png", "positives_per_level.png", "report.txt",
                     "summary.json"]
    with pytest.raises(SystemExit) as end:  # a report is not overwritten either
        debug.main(["--data", str(data), "--out", str(tmp_path / "report"), "--no-progress"])
    assert end.value.code == 1 and "holds an earlier report" in capsys.readouterr().err
    with pytest.raises(SystemExit) as end:
        debug.main(["--data", str(data), "--sizes", "12", "24"])
    assert end.value.code == 1 and "one size per stride" in capsys.readouterr().err


def test_ctrl_c_anywhere_else_is_one_line_too(data, tmp_path, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(debug, "analyse_dataset", interrupt)
    monkeypatch.setattr("retina_lesson.debug_cli.analyse_dataset", interrupt)
    with pytest.raises(SystemExit) as end:
        debug.main(["--data", str(data), "--out", str(tmp_path / "r"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert end.value.code == 130 and err.startswith("interrupted:") and "\n" not in err
    assert not (tmp_path / "r").exists()
