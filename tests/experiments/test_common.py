"""experiments/common.py: what every experiment script shares."""

import concurrent.futures

from experiments import common


def test_workers_preparing_the_same_workdir_at_once_all_succeed(tmp_path):
  # The workers of a multi-worker job each check the shared workdir at the same moment.
  workdir = tmp_path / "run"

  def prepare_many(_):
    for _ in range(200):
      common.prepare_workdir(str(workdir))

  with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(prepare_many, range(8)))   # re-raises any worker's error
  assert workdir.is_dir() and not list(workdir.iterdir())   # no probe files left behind
