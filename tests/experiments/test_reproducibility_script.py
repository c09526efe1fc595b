"""experiments/reproducibility.py end to end: 2 runs, 1 epoch, a small subset."""

import json

import pytest

from tests.experiments.script_runner import run


@pytest.mark.slow
def test_small_study_per_condition_writes_report_figures_and_resumes(tmp_path):
  args = ["--runs=3", "--epochs=1", "--train_limit=256", "--test_limit=120", "--probe_size=60",
          "--null_nets=2", "--model=conv6k3-maxpool2-conv8k3-flatten-dense10",
          f"--workdir={tmp_path}"]
  first = run("experiments.reproducibility", *args)
  assert first.returncode == 0, first.stderr[-3000:]
  report = json.loads((tmp_path / "report.json").read_text())
  cells = report["cells"]
  assert list(cells) == ["w1-init", "w1-data", "w1-both", "w1-none"]
  assert cells["w1-none"]["distinct_weights"] == 1          # the same run twice: bitwise
  for name in ("w1-init", "w1-data", "w1-both"):
    cell = cells[name]
    assert cell["distinct_weights"] == 3 and len(cell["pairs"]) == 3
    assert cell["permutation_check"] <= 1e-5
    layers = cell["summary"]["layers"]
    assert [l["name"] for l in layers] == ["conv_0", "conv_2"]
    for layer in layers:
      matched = layer["statistics"]["matched_activations"]
      assert matched["low"] <= matched["mean"] <= matched["high"]
      assert matched["null_count"] == 6 and 0 < matched["p_value"] <= 1
      assert 0 <= layer["same_order_test"]["p_value"] <= 1
    reps = cell["summary"]["representations"]
    assert {"linear_cka", "rbf_cka", "minibatch_cka", "svcca"} <= set(reps[0])
    assert reps[0]["svcca_cap"] == 15
    assert cell["dynamics"]["epochs"] == [0, 1]
  # Same initial weights: identical filters in the same order before training.
  data = cells["w1-data"]["dynamics"]["layers"][0]
  assert data["matched"][0] == pytest.approx(1.0) and data["same_order"][0] == 1.0
  assert cells["w1-init"]["dynamics"]["layers"][0]["matched"][0] < 0.99
  md = (tmp_path / "report.md").read_text()
  assert "## The answer at a glance" in md and "IDENTICAL" in md and "linear CKA" in md
  assert "## Appendix: every pair" in md and "capped at a quarter" in md
  for name in ("summary.png", "w1-both_conv_0_matched_filters.png",
               "w1-both_conv_2_correlation.png", "w1-both_cka.png"):
    assert (tmp_path / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  assert (tmp_path / "runs" / "w1-init2-data1" / "snapshots" / "epoch_001.npz").exists()
  assert (tmp_path / "runs" / "w1-init1-data1" / "tb").is_dir()

  # How the runs ran is not what they learned: another shard count keeps them.
  again = run("experiments.reproducibility", *args, "--batch_shards=1")
  assert again.returncode == 0, again.stderr[-3000:]
  assert again.stderr.count("finished earlier, not retrained") == 8

  # The filter cards of one run show each filter's partner in the others.
  cards = run("experiments.visualize", f"--workdir={tmp_path / 'runs' / 'w1-init1-data1'}",
              f"--study={tmp_path}", "--partner_runs=3", "--steps=5", "--max_filters=0",
              "--test_limit=120", "--classes=0", f"--out={tmp_path / 'vis'}")
  assert cards.returncode == 0, cards.stderr[-3000:]
  assert "partners from w1-init1-data2, w1-init2-data1, w1-init2-data2" in cards.stderr
  assert len(list((tmp_path / "vis" / "cards").glob("conv_2_filter*.png"))) == 8


def test_bad_seeds_are_one_line_errors(tmp_path):
  result = run("experiments.reproducibility", "--seeds=1,1", f"--workdir={tmp_path}")
  assert result.returncode != 0
  errors = [l for l in result.stderr.splitlines() if l.startswith("reproducibility.py: error:")]
  assert len(errors) == 1 and "two distinct" in errors[0]


def test_an_unknown_condition_is_a_one_line_error(tmp_path):
  result = run("experiments.reproducibility", "--vary=init,order", f"--workdir={tmp_path}")
  assert result.returncode != 0 and "unknown condition(s) order" in result.stderr
  assert not (tmp_path / "runs").exists()


def test_a_seed_out_of_range_is_refused_before_any_training(tmp_path):
  result = run("experiments.reproducibility", "--seeds=1,2147483648", f"--workdir={tmp_path}")
  assert result.returncode != 0 and "--seeds must be below 2**31" in result.stderr
  assert not (tmp_path / "runs").exists()
