"""benchmarks/benchmark.py runs on a tiny configuration and writes well-formed JSON."""

import dataclasses
import json

import pytest

from tests.experiments.script_runner import run
from tfcnn import spec, training
from tfcnn.fast import threads


def test_tiny_benchmark_writes_well_formed_json(tmp_path):
  out = tmp_path / "benchmark.json"
  result = run("benchmarks.benchmark", "--dataset=mnist_sample", "--batch_sizes=16,40",
               "--dtypes=float32,bfloat16", "--images=80", "--repeats=1", "--keras_jit=false",
               "--unit_size=8", "--mlp=false", "--layer_times=4", "--whole_process=0", f"--out={out}")
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(out.read_text())
  machine = report["machine"]
  assert machine["cores"] >= 1 and machine["peak_gflops"]["float32"] > 0
  assert report["train_flops_per_image"] > 0
  assert [(r["batch_size"], r["dtype"]) for r in report["results"]] == [
      (16, "float32"), (40, "float32"), (16, "bfloat16"), (40, "bfloat16")]
  for r in report["results"]:
    assert r["tfcnn_images_per_second"] > 0 and r["tfcnn_gflops"] > 0
    assert r["keras"]["jit_compile=false"]["ratio"] > 0
    assert "tfcnn_xla" not in r   # XLA is timed only when asked for
    assert set(r["phases"]) == {"forward_s", "backward_s", "update_s", "step_s"}
    assert r["peak_rss_mb"] > 0
  # Each contender in its own process: tfcnn on the threads and shards that
  # experiments.train would choose, Keras on TensorFlow's default threads.
  for r in report["results"]:
    plan = threads.plan(training.TrainConfig(batch_size=r["batch_size"], unit_size=8))
    assert r["batch_shards"] == plan.batch_shards
    assert r["threads"] == dataclasses.asdict(plan.threads)
    assert r["keras_threads"] == {"inter_op": 0, "intra_op": 0}
  # tfcnn on one core alone, timed beside it: how far the cores scale.
  for r in report["results"]:
    alone = r["tfcnn_one_core"]
    assert alone["threads"] == {"inter_op": 1, "intra_op": 1} and alone["batch_shards"] == 1
    assert alone["images_per_second"] > 0 and len(alone["seconds"]) == 1
    assert alone["scaling"] == pytest.approx(
        r["tfcnn_images_per_second"] / alone["images_per_second"])
    assert alone["cores_times_one_core"] == pytest.approx(
        machine["cores"] * alone["images_per_second"])
    plan = threads.plan(training.TrainConfig(batch_size=r["batch_size"], unit_size=8))
    if plan == threads.Plan(threads.Threads(1, 1), batch_shards=1):   # the same: timed once
      assert alone["seconds"] == r["tfcnn_seconds"]
  assert all(r["unit_size"] == 8 for r in report["results"])
  assert set(report["bfloat16_speedup"]) == {"16", "40"}
  assert "batch     16 float32" in result.stdout
  # Each layer timed alone on one core, per precision.
  assert [(e["dtype"], e["batch_size"]) for e in report["layer_times"]] == [
      ("float32", 4), ("bfloat16", 4)]
  for e in report["layer_times"]:
    assert e["threads"] == {"inter_op": 1, "intra_op": 1}
    assert [r["layer"] for r in e["layers"]] == spec.canonical("seed_cnn").split("-")
    for r in e["layers"]:
      assert r["forward_backward_s"] > 0
      if r["train_flops"] == 0:   # pooling, flatten: no products to hold against the peak
        assert r["fraction_of_core_peak"] is None
  assert "layers timed alone on one core, batch 4, float32" in result.stdout
  assert report["goals"] == []   # the ratio goals are for batches 64 and 500
  overhead = report["summary_overhead"]
  assert overhead["epoch_seconds_without_logging"] > 0 and "train_step_overhead" in overhead


@pytest.mark.slow
def test_mlp_figure_per_thread_setting_and_tfcnn_under_xla(tmp_path):
  # Slow: five fresh processes for the mlp figures, and XLA compiles.
  out = tmp_path / "benchmark.json"
  result = run("benchmarks.benchmark", "--dataset=mnist_sample", "--batch_sizes=40",
               "--dtypes=float32,bfloat16", "--images=80", "--repeats=1", "--keras=false",
               "--phases=false", "--summary_overhead=false", "--tfcnn_xla", "--mlp_threads=auto,1",
               "--whole_process=0", f"--out={out}")
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(out.read_text())
  for r in report["results"]:
    xla = r["tfcnn_xla"]
    assert xla["speed_relative_to_default"] == pytest.approx(
        xla["images_per_second"] / r["tfcnn_images_per_second"])
  figures = report["mlp_35_epochs"]
  assert [(m["implementation"], m["dtype"], m["threads"]) for m in figures] == [
      ("tfcnn", "float32", "auto"), ("tfcnn", "float32", 1),
      ("tfcnn", "bfloat16", "auto"), ("tfcnn", "bfloat16", 1),
      ("numpy", "float32", "openblas")]
  auto = threads.plan(training.TrainConfig(model="mlp", batch_size=500))
  assert [m.get("batch_shards") for m in figures] == [auto.batch_shards, 1] * 2 + [None]
  for mlp in figures:
    assert mlp["epochs"] == 35 and mlp["seconds"] > 0 and mlp["images"] == 8000
    # The last of 35 epochs over the sample: the mlp has learnt (chance is 0.1).
    assert len(mlp["seconds_all"]) == 1 and mlp["train_accuracy_last_epoch"][0] > 0.8
  numpy_seconds = figures[-1]["seconds"]
  for mlp in figures[:-1]:
    assert mlp["speed_relative_to_numpy"] == pytest.approx(numpy_seconds / mlp["seconds"])
  assert "speed_relative_to_numpy" not in figures[-1]
  for printed in ("tfcnn float32, threads 1: ", "threads auto: ", "numpy float32"):
    assert printed in result.stdout
  assert "tfcnn[XLA]" in result.stdout
  # The mlp goals take each precision's faster thread setting (which one varies).
  assert [g["goal"].split(" (threads")[0] for g in report["goals"]] == [
      "mlp float32 under 7.3 s", "mlp bfloat16 under 7.3 s"]
  for goal, dtype in zip(report["goals"], ("float32", "bfloat16")):
    fastest = min((m for m in figures if m["implementation"] == "tfcnn" and m["dtype"] == dtype),
                  key=lambda m: m["seconds"])
    assert goal["measured"] == fastest["seconds"]


def test_accuracy_comparison_runs_once_per_seed_and_reports_means(tmp_path):
  out = tmp_path / "benchmark.json"
  result = run("benchmarks.benchmark", "--dataset=mnist_sample", "--model=mlp",
               "--batch_sizes=500", "--dtypes=float32,bfloat16", "--images=1000", "--repeats=1",
               "--keras_jit=false", "--phases=false", "--mlp=false", "--summary_overhead=false",
               "--accuracy_epochs=2", "--accuracy_seeds=0,1", "--whole_process=0", f"--out={out}")
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(out.read_text())
  assert [(e["dtype"], e["seeds"]) for e in report["accuracy"]] == [
      ("float32", [0, 1]), ("bfloat16", [0, 1])]
  for entry in report["accuracy"]:
    for who in ("tfcnn", "keras"):
      accuracies = entry[f"{who}_test_accuracy"]
      # Two short runs of a small model: better than chance (0.1), not yet good.
      assert len(accuracies) == 2 and all(0.2 < a <= 1 for a in accuracies), accuracies
      assert abs(entry[f"{who}_mean"] - sum(accuracies) / 2) < 1e-9
  f32, bf16 = (e["tfcnn_mean"] for e in report["accuracy"])
  assert abs(report["accuracy_bfloat16_minus_float32"]["500"] - (bf16 - f32)) < 1e-9
  # Batch 500 in both precisions, against Keras: two of the goals get a verdict.
  assert [g["goal"] for g in report["goals"]] == [
      "tfcnn/Keras >= 1.25 at batch 500", "bfloat16 >= 1.35x float32 at batch 500"]
  assert "goal tfcnn/Keras >= 1.25 at batch 500: " in result.stdout


@pytest.mark.parametrize("flag, message", [
    ("--accuracy_seeds=1,x", "--accuracy_seeds must be non-negative integers"),
    ("--batch_sizes=64,0", "--batch_sizes must be positive integers"),
    ("--mlp_threads=auto,-1", "--mlp_threads must be 'auto' or non-negative integers"),
    ("--layer_times=-1", "flag --layer_times=-1: -1 is not a non-negative integer"),
    ("--dtypes=float16", "--dtypes must be float32 and/or bfloat16"),
])
def test_bad_lists_are_a_one_line_error_before_any_work(tmp_path, flag, message):
  out = tmp_path / "benchmark.json"
  result = run("benchmarks.benchmark", flag, f"--out={out}")
  assert result.returncode != 0
  errors = [l for l in result.stderr.splitlines() if l.startswith("benchmark.py: error:")]
  assert len(errors) == 1 and message in errors[0], result.stderr
  assert "Traceback" not in result.stderr and not out.exists()


def test_an_out_path_that_cannot_be_written_is_refused_before_measuring(tmp_path):
  (tmp_path / "a_file").write_text("")
  result = run("benchmarks.benchmark", f"--out={tmp_path / 'a_file' / 'benchmark.json'}")
  assert result.returncode != 0
  errors = [l for l in result.stderr.splitlines() if l.startswith("benchmark.py: error:")]
  assert len(errors) == 1 and "cannot write there (checked before measuring)" in errors[0]
