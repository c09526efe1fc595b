"""What a user waits for: whole commands timed as processes, start-up included.

Each command runs in a fresh process and a fresh workdir; the contenders
alternate round by round, and each is summarised by its median. Measured:

* TensorBoard's cost: ``python -m experiments.train`` (the default job) and
  the main Fashion-MNIST job, each with TensorBoard on (the default) and with
  ``--tensorboard=false``;
* the main job against a plain Keras script (:mod:`benchmarks.keras_train`)
  that builds the same model and runs ``fit`` + ``evaluate`` on the same
  arrays.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

# The main job: two epochs of Fashion-MNIST at batch 500, as a Keras user
# would run it (RMSprop 1e-3, constant rate, no augmentation).
MAIN_JOB = ["--epochs=2", "--batch_size=500", "--optimizer=rmsprop", "--learning_rate=0.001"]
TFCNN_ONLY = ["--lr_schedule=constant", "--augment_shift=0", "--seed=1"]


def commands(dataset: str) -> dict[str, list[str]]:
  """The timed commands by name (each a ``python -m`` argument list)."""
  train = ["experiments.train"]
  main = [*train, f"--dataset={dataset}", *MAIN_JOB, *TFCNN_ONLY]
  return {"default": train, "default_no_tensorboard": [*train, "--tensorboard=false"],
          "main": main, "main_no_tensorboard": [*main, "--tensorboard=false"],
          "keras": ["benchmarks.keras_train", f"--dataset={dataset}", *MAIN_JOB]}


def _time(module_args: list[str], workdir: str, root: str) -> float:
  args = [sys.executable, "-m", *module_args]
  if module_args[0] == "experiments.train":
    args.append(f"--workdir={workdir}")
  env = dict(os.environ, PYTHONPATH=root)
  start = time.perf_counter()
  result = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
  seconds = time.perf_counter() - start
  if result.returncode:
    raise RuntimeError(f"{' '.join(module_args)} failed:\n{result.stderr[-2000:]}")
  return seconds


def measure(rounds: int, dataset: str, root: str, log=print) -> dict:
  """Alternating whole-process timings of :func:`commands`; medians and ratios."""
  timed = commands(dataset)
  seconds = {name: [] for name in timed}
  with tempfile.TemporaryDirectory(prefix="tfcnn-whole-") as scratch:
    for r in range(rounds):
      for name, module_args in timed.items():
        seconds[name].append(_time(module_args, os.path.join(scratch, f"{name}-{r}"), root))
        log(f"whole process, round {r + 1}/{rounds}: {name} {seconds[name][-1]:.1f} s")
  median = {name: statistics.median(s) for name, s in seconds.items()}
  return {
      "dataset": dataset, "rounds": rounds, "seconds": seconds, "median_seconds": median,
      "commands": {name: " ".join(["python -m", *args]) for name, args in timed.items()},
      "tensorboard": {job: {"ratio": median[job] / median[f"{job}_no_tensorboard"]}
                      for job in ("default", "main")},
      "keras": {"ratio": median["keras"] / median["main"]},
  }
