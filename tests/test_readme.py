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
