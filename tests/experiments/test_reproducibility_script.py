"""experiments/reproducibility.py end to end: 2 runs, 1 epoch, a small subset."""

import json

import pytest

from tests.experiments.script_runner import run


@pytest.mark.slow
def test_small_study_writes_report_figures_and_resumes(tmp_path):
  args = ["--runs=2", "--epochs=1", "--train_limit=256", "--test_limit=120", "--probe_size=60",
          "--model=conv6k3-maxpool2-conv8k3-flatten-dense10", f"--workdir={tmp_path}"]
  first = run("experiments.reproducibility", *args)
  assert first.returncode == 0, first.stderr[-3000:]
  report = json.loads((tmp_path / "report.json").read_text())
  assert report["determinism"]["same_seed_identical"] is True
  assert report["determinism"]["different_seeds_distinct"] is True
  pair = report["pairs"]["seed1-seed2"]
  assert [l["name"] for l in pair["layers"]] == ["conv_0", "conv_2"]
  for layer in pair["layers"]:
    for kind in ("weights", "activations"):
      stats = layer[kind]
      assert sorted(stats["permutation"]) == list(range(layer["filters"]))
      assert 0.0 <= stats["same_order_fraction"] <= 1.0
      assert {"mean", "median", "fraction_above_0.5", "fraction_above_0.8",
              "fraction_above_0.9", "greedy_mean"} <= set(stats)
  assert pair["permutation_check"]["max_abs_logit_change"] <= 1e-5
  assert 0.0 <= pair["cka"]["sanity_accuracy"] <= 1.0
  assert report["null_baseline"]["layers"][0]["activations"]["units"] == 6
  assert report["seed_variance"]["test_accuracy"]["runs"] == 2
  md = (tmp_path / "report.md").read_text()
  assert "## Determinism" in md and "IDENTICAL" in md and "linear CKA" in md
  for name in ("seed1-seed2_conv_0_matched_filters.png", "seed1-seed2_conv_2_correlation.png",
               "seed1-seed2_cka.png", "seed1_within_run_cka.png"):
    assert (tmp_path / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  for name in ("seed1", "seed2", "seed1_repeat"):
    assert (tmp_path / "runs" / name / "tb").is_dir()

  again = run("experiments.reproducibility", *args)
  assert again.returncode == 0, again.stderr[-3000:]
  assert again.stderr.count("finished earlier, not retrained") == 3

  # How the runs ran is not what they learned: another shard count keeps them.
  other = run("experiments.reproducibility", *args, "--batch_shards=1")
  assert other.returncode == 0, other.stderr[-3000:]
  assert other.stderr.count("finished earlier, not retrained") == 3


def test_bad_seeds_are_one_line_errors(tmp_path):
  result = run("experiments.reproducibility", "--seeds=1,1", f"--workdir={tmp_path}")
  assert result.returncode != 0
  errors = [l for l in result.stderr.splitlines() if l.startswith("reproducibility.py: error:")]
  assert len(errors) == 1 and "two distinct" in errors[0]


def test_a_seed_out_of_range_is_refused_before_any_training(tmp_path):
  result = run("experiments.reproducibility", "--seeds=1,2147483648", f"--workdir={tmp_path}")
  assert result.returncode != 0 and "--seeds must be below 2**31" in result.stderr
  assert not (tmp_path / "runs").exists()
