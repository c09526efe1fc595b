r"""How long comparing two networks takes (the study's inner loop), against its goal.

  python -m benchmarks.compare_speed                  # 500 probe images, 3 repeats

Times :func:`tfcnn.analysis.compare` of two seed CNNs (every conv layer
matched by activations and by weights, linear/RBF/minibatch CKA and SVCCA
for every representation layer, the permutation check) on the first
``--probes`` test images of mnist_sample, and :func:`compare_profiles` of
two already-profiled networks (what a study pays per pair once each network
is profiled). Prints the median of ``--repeats`` and the goal.
"""

import statistics
import time

from absl import app, flags

from experiments import quiet

quiet.import_tensorflow()

import tfcnn  # noqa: E402
from tfcnn import analysis  # noqa: E402
from tfcnn.data import pipeline  # noqa: E402

_PROBES = flags.DEFINE_integer("probes", 500, "Probe images.", lower_bound=10)
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed repeats (median).", lower_bound=1)
GOAL_SECONDS = 10.0   # compare() on 500 probe images, 2 cores


def measure(probes: int, repeats: int) -> dict:
  """Median seconds of compare() and of compare_profiles() on `probes` images."""
  images = pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:probes]).numpy()
  a, b = tfcnn.build_model("seed_cnn", seed=1), tfcnn.build_model("seed_cnn", seed=2)
  analysis.compare(a, b, images[:20])   # warm-up: traces the forward passes
  whole, pair = [], []
  for _ in range(repeats):
    start = time.perf_counter()
    analysis.compare(a, b, images)
    whole.append(time.perf_counter() - start)
    pa, pb = analysis.profile(a, images), analysis.profile(b, images)
    start = time.perf_counter()
    analysis.compare_profiles(pa, pb)
    pair.append(time.perf_counter() - start)
  return {"probes": probes, "compare_seconds": statistics.median(whole),
          "compare_profiles_seconds": statistics.median(pair), "goal_seconds": GOAL_SECONDS}


def main(argv: list[str]) -> None:
  del argv
  result = measure(_PROBES.value, _REPEATS.value)
  met = result["compare_seconds"] <= GOAL_SECONDS
  print(f"compare() on {result['probes']} probe images: {result['compare_seconds']:.2f} s "
        f"(goal ≤ {GOAL_SECONDS:.0f} s: {'met' if met else 'NOT met'}); per pair once profiled: "
        f"{result['compare_profiles_seconds']:.2f} s")


if __name__ == "__main__":
  app.run(main)
