"""experiments/train.py end to end, on a small subset in a temporary workdir."""

import json
import shutil

import pytest
import tensorflow as tf

from tests.experiments.script_runner import run
from tfcnn import training
from tfcnn.fast import threads

SMALL = ["--train_limit=256", "--test_limit=100", "--epochs=1", "--model=conv4k3-maxpool2-flatten-dense10"]


def test_trains_writes_the_workdir_and_resumes_instead_of_restarting(tmp_path):
  workdir = tmp_path / "run"
  first = run("experiments.train", *SMALL, f"--workdir={workdir}")
  assert first.returncode == 0, first.stderr
  assert "test accuracy" in first.stdout
  # Unless told, threads and batch shards are chosen for the step on this
  # machine's cores (on 2 cores: 2 units of 16 side by side, one inter-op thread each).
  plan = threads.plan(training.TrainConfig(model=SMALL[-1].split("=")[1]))
  assert f"TensorFlow threads: {plan.threads.inter_op} inter-op, {plan.threads.intra_op} " \
      "intra-op (0: TensorFlow's choice), chosen for conv4k3-maxpool2-flatten-dense10 at " \
      "batch 32" in first.stderr
  assert f"batch shards: {plan.batch_shards}, chosen for " in first.stderr
  assert f"TensorBoard: tensorboard --logdir {workdir / 'tb'}" in first.stdout
  # TensorFlow's start-up chatter and its own INFO lines are kept out.
  for noise in ("cuInit", "oneDNN custom operations", "absl::InitializeLog",
                "Sharding callback duration", "Assets written", "_serve"):
    assert noise not in first.stderr, noise
  assert "epoch 1/1: train loss" in first.stderr
  assert json.loads((workdir / "run.json").read_text())["batch_shards"] == plan.batch_shards
  assert "batch_shards" not in json.loads((workdir / "config.json").read_text())
  for name in ("flags.json", "config.json", "run.json", "results.json", "ckpt/checkpoint",
               "saved_model/saved_model.pb"):
    assert (workdir / name).exists(), name
  flags = json.loads((workdir / "flags.json").read_text())
  assert flags["train_limit"] == 256 and flags["dataset"] == "mnist_sample"
  assert {"seed", "compute_dtype", "augment_shift", "histograms"} <= set(flags)
  assert "verbosity" not in flags   # absl's own flags are not part of the run
  results = json.loads((workdir / "results.json").read_text())
  assert results["dataset"] == "mnist_sample" and results["steps"] == 8
  model = tf.saved_model.load(str(workdir / "saved_model"))
  out = model.signatures["serving_default"](images=tf.zeros([3, 28, 28, 1]))
  assert out["probabilities"].shape == (3, 10)

  second = run("experiments.train", *SMALL, f"--workdir={workdir}")
  assert second.returncode == 0, second.stderr
  assert "resumed from" in second.stderr
  again = json.loads((workdir / "results.json").read_text())
  assert again["weights_sha256"] == results["weights_sha256"] and again["steps"] == 8


def test_flagfile_works(tmp_path):
  flagfile = tmp_path / "flags.txt"
  flagfile.write_text("\n".join(SMALL + ["--seed=9", "--intra_op_threads=2", "--batch_shards=3",
                                          f"--workdir={tmp_path / 'run'}"]) + "\n")
  result = run("experiments.train", f"--flagfile={flagfile}")
  assert result.returncode == 0, result.stderr
  # One thread flag given: the other keeps its automatic value (a thread per
  # shard); 3 shards for a batch of 32 (two units of 16) are cut back to 2.
  assert "3 batch shards asked for; 2 used" in result.stderr
  assert "TensorFlow threads: 2 inter-op, 2 intra-op (0: TensorFlow's choice)\n" in result.stderr
  assert json.loads((tmp_path / "run" / "run.json").read_text())["batch_shards"] == 2
  assert json.loads((tmp_path / "run" / "results.json").read_text())["seed"] == 9


@pytest.mark.parametrize("args,message", [
    (["--epochs=0"], "--epochs"),
    (["--dataset=cifar"], "--dataset"),
    (["--optimizer=adagrad"], "--optimizer"),
    (["--model=conv32k3-convx"], "token 2 'convx'"),
    (["--learning_rate=-1"], "--learning_rate"),
    (["--model=conv8k9-conv8k9-conv8k9-conv8k9"], "layer conv_3: input 4x4 is smaller"),
    (["--workdir=/proc/no/such/place"], "is not a writable folder"),
    (["--no_such_flag=1"], "no_such_flag"),
    (["--batch_shards=0"], "--batch_shards"),
    (["--deterministic", "--intra_op_threads=2"], "--deterministic needs one intra-op thread"),
    (["--deterministic", "--jit_compile"], "--jit_compile cannot be --deterministic"),
    (["--learning_rate=inf"], "learning_rate must be a finite number"),
    (["--l2=inf"], "l2 must be a finite number"),
    (["--model=flatten-dense5"], "ends in 5 outputs, but the dataset has 10 classes"),
    (["--dataset=mnist", "--data_dir=/no/such/folder"], "--data_dir /no/such/folder is not a"),
    (["--optimizer=adam", "--momentum=0.5"], "--momentum only applies to"),
    (["--tensorboard=false", "--summary_every_steps=5"], "--summary_every_steps needs"),
    (["--train_limit=10", "--validation_fraction=0.95"], "no training batch"),
])
def test_bad_input_is_one_line_and_a_nonzero_exit(tmp_path, args, message):
  if not any(a.startswith("--workdir") for a in args):
    args = args + [f"--workdir={tmp_path / 'run'}"]
  result = run("experiments.train", *args)
  assert result.returncode != 0
  # TensorFlow's own start-up lines may precede it; ours is exactly one line.
  errors = [l for l in result.stderr.splitlines() if l.startswith("train.py: error:")]
  assert len(errors) == 1 and message in errors[0], result.stderr
  assert "Traceback" not in result.stderr
  assert not (tmp_path / "run" / "results.json").exists()


def test_visualize_script_writes_valid_pngs_of_the_expected_sizes(tmp_path):
  workdir = tmp_path / "run"
  assert run("experiments.train", *SMALL, f"--workdir={workdir}", "--tensorboard=false").returncode == 0
  out = tmp_path / "vis"
  result = run("experiments.visualize", f"--workdir={workdir}", f"--out={out}", "--steps=20",
               "--classes=3,7", "--max_filters=2", "--top_k=4", "--test_limit=200")
  assert result.returncode == 0, result.stderr[-2000:]
  def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return tf.io.decode_png(data).shape
  # conv_0: the image and its classes beside 4 maps of 26x26, scaled 2x, in a 2x2 grid.
  maps = sorted((out / "feature_maps").glob("conv_0_image*_class3.png"))
  assert len(maps) == 1
  height, width, channels = png_size(maps[0])
  assert channels == 3 and height > 2 * 52 and width > 84 + 2 * 52
  # Receptive-field answers: conv_0's are 3x3, 4 of them in a 2x2 grid, in colour (dead: red).
  assert png_size(out / "activation_max" / "conv_0.png") == (1 + 2 * 31, 1 + 2 * 31, 3)
  # Top patches of conv_0: 4 crops of 3x3 → 2x2 grid, scale ceil(28/3) = 10.
  assert png_size(out / "top_patches" / "conv_0_filter1.png") == (1 + 2 * 31, 1 + 2 * 31, 1)
  report = json.loads((out / "activation_max.json").read_text())
  assert len(report["conv_0"]["achieved"]) == len(report["conv_0"]["test_best"]) == 4
  assert report["conv_0"]["saturation"] <= 0.30
  # A card per conv filter, and an index page linking them.
  cards = sorted(p.name for p in (out / "cards").glob("conv_0_filter*.png"))
  assert len(cards) == 4 and "conv_0_filter000.png" in (out / "cards" / "index.html").read_text()
  # Each probe image explained: true/predicted class, saliency, Grad-CAM, maps with indices.
  explained = sorted(p.name for p in (out / "explained").glob("*.png"))
  assert len(explained) == 2 and explained[0].endswith("_class3.png")
  assert png_size(out / "explained" / explained[0])[2] in (3, 4)
  # Logged at the trained model's step (8 batches of 32), not at step 0.
  from tensorboard.backend.event_processing import event_accumulator
  events = event_accumulator.EventAccumulator(str(out / "tb"),
                                              size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  assert {e.step for tag in events.Tags()["tensors"] for e in events.Tensors(tag)} == {8}
  assert any(tag.startswith("explained/") for tag in events.Tags()["tensors"])
  bad = run("experiments.visualize", f"--workdir={workdir}", "--layers=conv_9")
  assert bad.returncode != 0 and "unknown conv layer(s) conv_9" in bad.stderr
  missing = run("experiments.visualize", f"--workdir={tmp_path / 'nothing'}")
  assert missing.returncode != 0 and "is not a training workdir" in missing.stderr


@pytest.mark.skipif(threads.cpu_cores() < 2 or not shutil.which("taskset"),
                    reason="needs two cores and taskset")
def test_a_deterministic_run_learns_the_same_weights_on_one_core_as_on_two(tmp_path):
  # The shards and threads follow the cores; the weights must not.
  args = [*SMALL, "--deterministic", "--model=conv4k3-maxpool2-dropout0.2-flatten-dense10",
          "--tensorboard=false", "--batch_size=40"]
  both = run("experiments.train", *args, f"--workdir={tmp_path / 'both'}")
  one = run("experiments.train", *args, f"--workdir={tmp_path / 'one'}", prefix=["taskset", "-c", "0"])
  assert both.returncode == 0 and one.returncode == 0, (both.stderr[-2000:], one.stderr[-2000:])
  assert "batch shards: 1," in one.stderr and "batch shards: 1," not in both.stderr
  digests = [json.loads((tmp_path / name / "results.json").read_text())["weights_sha256"]
             for name in ("both", "one")]
  assert digests[0] == digests[1]


def test_a_flagfile_that_is_not_utf8_is_one_line(tmp_path):
  flagfile = tmp_path / "flags.txt"
  flagfile.write_bytes(b"--epochs=1\n--seed=\xff\xfe\n")
  result = run("experiments.train", f"--flagfile={flagfile}")
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert "train.py: error: a flag file is not UTF-8 text" in result.stderr


def test_a_refused_run_leaves_flags_json_as_it_was(tmp_path):
  workdir = tmp_path / "run"
  assert run("experiments.train", *SMALL, f"--workdir={workdir}",
             "--tensorboard=false").returncode == 0
  before = (workdir / "flags.json").read_bytes()
  refused = run("experiments.train", *SMALL, f"--workdir={workdir}", "--seed=7",
                "--tensorboard=false")
  assert refused.returncode != 0 and "another configuration" in refused.stderr
  assert (workdir / "flags.json").read_bytes() == before


def test_help_lists_the_speed_flags():
  result = run("experiments.train", "--help")   # (absl's --help exits with 1)
  assert "Traceback" not in result.stderr
  for flag in ("--batch_shards", "--inter_op_threads", "--intra_op_threads", "--unit_size",
               "--steps_per_call"):
    assert flag in result.stdout, flag
