"""The README's library example runs as written."""

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_library_example_runs(tmp_path, monkeypatch, capsys):
  block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
  monkeypatch.chdir(tmp_path)
  exec(compile(block, "README.md", "exec"), {})
  out = capsys.readouterr().out
  assert "receptive field" in out and (tmp_path / "runs" / "lib-demo" / "results.json").exists()


def test_thread_plan_example_runs_first_thing_in_a_fresh_process():
  block = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[1]
  assert "threads.configure(plan.threads)" in block
  code = block + ("\nprint(run.batch_shards == plan.batch_shards, "
                  "threads.current() == plan.threads)")
  result = subprocess.run([sys.executable, "-c", code], cwd=README.parent, capture_output=True,
                          text=True, timeout=120)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip() == "True True"


def test_readme_names_only_flags_that_exist():
  # The scripts share flag names, so they cannot all be imported into one process:
  # read the definitions from their source instead.
  scripts = [*(README.parent / "experiments").glob("*.py"),
             *(README.parent / "benchmarks").glob("*.py")]
  defined = {"flagfile", "helpfull", "helpshort"}   # absl's own
  defined |= {"logdir", "samples_per_plugin"}       # tensorboard's, in its command line
  for script in scripts:
    defined |= set(re.findall(r'DEFINE_\w+\(\s*"(\w+)"', script.read_text()))
  mentioned = set(re.findall(r"--([a-z][a-z_0-9]*)", README.read_text()))
  assert mentioned - defined == set()


def test_the_summary_shown_is_what_summary_prints():
  import tfcnn
  shown = re.search(r"`model.summary\(\)` of the seed CNN:\n\n```\n(.*?)\n```", README.read_text(),
                    re.S).group(1)
  assert shown == tfcnn.build_model("seed_cnn", seed=1).summary(print_fn=None).table


def test_the_run_line_shown_has_the_form_the_train_script_prints():
  text = README.read_text()
  shown = re.search(r"one\nline per epoch, and ends with\n\n```\n(.*?)\n```", text, re.S).group(1)
  assert re.fullmatch(r"mnist_sample: test accuracy 0\.\d{4}, test loss \d\.\d{4}, weights "
                      r"[0-9a-f]{12}, workdir (\S+)", shown)
  from experiments import train
  from tfcnn import training
  assert shown.split("workdir ")[1] == train.default_workdir(training.TrainConfig())
  assert f"--workdir={train.default_workdir(training.TrainConfig())}" in text
  script = (README.parent / "experiments" / "train.py").read_text()
  assert ('print(f"{results[\'dataset\']}: test accuracy {results[\'test_accuracy\']:.4f}, "'
          in script)


def test_the_two_commands_a_newcomer_copies_are_the_ones_ci_runs():
  blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
  assert blocks[0].strip().endswith('pip install -e ".[test]" && python -m experiments.train')
  assert blocks[1].strip() == ". .venv/bin/activate && python -m pytest"
  ci = (README.parent / ".ci" / "run").read_text()
  assert 'pip install --quiet -e ".[test]"' in ci and "\npython -m pytest\n" in ci


def test_the_readme_stays_short():
  assert len(README.read_text().encode()) <= 12 * 1024
