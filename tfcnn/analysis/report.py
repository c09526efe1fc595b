"""A study's report: markdown tables, the summary figure and per-cell figures.

Everything here reads the JSON-plain report that
``experiments/reproducibility.py`` assembles from
:func:`tfcnn.analysis.study.summarize` and :func:`~tfcnn.analysis.study.dynamics`.
"""

import os
import pathlib
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tfcnn import model as model_lib  # noqa: E402
from tfcnn.analysis import figures, matching, profiles as profile_lib  # noqa: E402


def _ci(s: dict) -> str:
  return f"{s['mean']:.3f} [{s['low']:.3f}, {s['high']:.3f}]"


def _null(s: dict) -> str:
  if "null_mean" not in s:
    return "—"
  return (f"{s['null_mean']:.3f} [{s['null_low']:.3f}, {s['null_high']:.3f}], "
          f"z={s['z']:+.1f}, p={s['p_value']:.3f}")


def _p(p: float) -> str:
  return "<0.001" if p < 0.001 else f"{p:.3f}"


def _table(header: list[str], rows: list[list]) -> str:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
  return "\n".join(lines)


def _glance(report: dict) -> str:
  rows = []
  for name, cell in report["cells"].items():
    if cell["condition"] == "none":
      continue
    cka = {r["name"]: r for r in cell["summary"]["representations"]}
    for layer in cell["summary"]["layers"]:
      s, test = layer["statistics"], layer["same_order_test"]
      linear = cka.get(layer["name"], {}).get("linear_cka")
      rows.append([f"×{cell['width']:g}", cell["condition"], f"{layer['name']} ({layer['filters']})",
                   _ci(s["matched_activations"]), _null(s["matched_activations"]).split(", p=")[0],
                   _ci(s["same_index_activations"]),
                   f"{s['same_order_fraction']['mean']:.3f} (1/k={test['chance']:.3f}, "
                   f"p={_p(test['p_value'])})",
                   f"{_ci(linear)}; null {linear['null_mean']:.3f}" if linear else "—"])
  return _table(["width", "varied", "layer (filters)", "matched correlation [95% CI]",
                 "null (untrained) [range], z", "same index, unmatched",
                 "same-order fraction (chance, p)", "linear CKA [CI]; null"], rows)


def _cell_tables(cell: dict) -> list[str]:
  summary, parts = cell["summary"], []
  acc, dis = cell["test_accuracy"], cell["disagreement"]
  parts.append(
      f"Test accuracy {acc['mean']:.4f} [{acc['interval'][0]:.4f}, {acc['interval'][1]:.4f}] "
      f"(std {acc['std']:.4f}, {acc['runs']} runs); two runs disagree on "
      f"{dis['mean']:.2%} [{dis['interval'][0]:.2%}, {dis['interval'][1]:.2%}] of test images; "
      f"{cell['distinct_weights']} distinct weight digests among {len(cell['runs'])} runs; "
      f"re-ordering run 2 by the matching changes its logits by at most "
      f"{cell['permutation_check']:.1e}.")
  rows = []
  for layer in summary["layers"]:
    s, test = layer["statistics"], layer["same_order_test"]
    rows.append([layer["name"], f"{s['live_units']['mean']:.1f}/{layer['filters']}",
                 _ci(s["matched_activations"]), _null(s["matched_activations"]),
                 _ci(s["matched_activations_live"]), _ci(s["semi_matched_activations"]),
                 _ci(s["same_index_activations"]),
                 f"{s['same_order_fraction']['mean']:.3f} (p={_p(test['p_value'])})",
                 f"{_ci(s['best_between_live'])} vs {_ci(s['best_within_live'])}"])
  parts.append("Filters by activations (Pearson correlation of a filter's maps over the probe "
               "set, one-to-one matching; *semi* lets several filters share one partner; *best "
               "partner* compares a live filter's best match in the other network with its best "
               "match among the other filters of its own network, Li et al.'s baseline):\n\n"
               + _table(["layer", "live units", "matched [CI]", "null [range], p",
                         "matched, live pairs", "semi-matched", "same index",
                         "same order (p vs 1/k)", "best partner: other net vs own net"], rows))
  rows = [[layer["name"], _ci(s["matched_weights"]), _null(s["matched_weights"]),
           _ci(s["same_index_weights"]), f"{s['same_order_fraction_weights']['mean']:.3f}"]
          for layer in summary["layers"] for s in [layer["statistics"]]]
  parts.append("Filters by weights (cosine of flattened kernels; a layer's input channels "
               "permuted by the previous layer's matching):\n\n"
               + _table(["layer", "matched cosine [CI]", "null [range], p", "same index",
                         "same order"], rows))
  if summary["representations"]:
    rows = [[r["name"]] + [f"{_ci(r[m])}; {_null(r[m])}" for m in
                           ("linear_cka", "rbf_cka", "minibatch_cka")]
            + [f"{_ci(r['svcca'])}; null {r['svcca'].get('null_mean', float('nan')):.3f} "
               f"({r['svcca_cap']} of {r['svcca_needed']} directions)"
               if r["svcca_needed"] > r["svcca_cap"] else
               f"{_ci(r['svcca'])}; null {r['svcca'].get('null_mean', float('nan')):.3f}"]
            for r in summary["representations"]]
    sanity = [c["cka"]["sanity_accuracy"] for c in cell["pairs"].values() if "cka" in c]
    parts.append("Representations (each: mean [CI]; null [range], p). SVCCA keeps the "
                 "directions that explain 99% of the variance, *capped at a quarter of the "
                 "probe images*; where the cap bit, the cell says how many of how many needed "
                 "directions were kept:\n\n"
                 + _table(["layer", "linear CKA", "RBF CKA", "minibatch CKA (unbiased)",
                           "SVCCA"], rows)
                 + f"\n\nKornblith's sanity test (is each layer's most similar layer in the "
                 f"other run its counterpart, by linear CKA): {np.mean(sanity):.2f} of layers, "
                 f"mean over {len(sanity)} pairs.")
  if "dynamics" in cell:
    rows = []
    for layer in cell["dynamics"]["layers"]:
      for e in cell["dynamics"]["epochs"]:
        rows.append([layer["name"], e, f"{layer['matched'][e]:.3f} [{layer['matched_low'][e]:.3f}"
                     f", {layer['matched_high'][e]:.3f}]", f"{layer['same_order'][e]:.3f}",
                     f"{layer['distance_from_init'][e]:.3f}", f"{layer['same_as_final'][e]:.3f}"])
    parts.append("Training dynamics (epoch 0 = initial weights): matched correlation between "
                 "runs, same-order fraction, a filter's relative distance from its initial "
                 "value, and the fraction of filters that already match themselves at the "
                 "final epoch (identity settled):\n\n"
                 + _table(["layer", "epoch", "matched [CI]", "same order",
                           "‖w − w₀‖/‖w₀‖", "same as final"], rows))
  return parts


def _appendix(report: dict) -> list[str]:
  parts = ["## Appendix: every pair"]
  for name, cell in report["cells"].items():
    rows = []
    for pair, comp in cell["pairs"].items():
      cka = {l["layer"]: l["linear_cka"] for l in comp.get("cka", {}).get("per_layer", [])}
      for layer in comp["layers"]:
        a, w = layer["activations"], layer["weights"]
        rows.append([pair, layer["name"], f"{a['mean']:.3f}", f"{a['live_mean']:.3f}",
                     f"{a['same_order_fraction']:.3f}", f"{w['mean']:.3f}",
                     f"{layer['live'][0]}/{layer['live'][1]}",
                     f"{cka.get(layer['name'], float('nan')):.3f}"])
    parts += [f"### {name}", _table(["pair", "layer", "matched act.", "live pairs",
                                     "same order", "matched weights", "live A/B",
                                     "linear CKA"], rows)]
  return parts


def markdown(report: dict) -> str:
  """The report a person reads."""
  parts = [f"# Reproducibility study: {report['model']} on {report['dataset']}",
           f"Reproduce: `{report['command']}`",
           f"{report['epochs']} epochs per run at batch {report['batch_size']}, deterministic "
           f"kernels; probe set: the first {report['probe_size']} test images. Each condition "
           "varies one source of randomness and fixes the rest (the first seed is the fixed "
           "one). Intervals are 95% bootstrap intervals that resample *runs* (pairs share "
           "runs); the null of every pairwise statistic is the same statistic between each "
           f"trained run and {report['null_nets']} untrained networks (seeds "
           f"{report['null_seeds'][0]}…), given as its mean, central 95% range and the "
           "one-sided empirical p-value of the trained mean (at least 1/(1 + null values)) and its "
           "distance from the null mean in null standard deviations (z); the same-order test is binomial "
           "against chance 1/k.",
           "## The answer at a glance", _glance(report), "![summary](figures/summary.png)"]
  for name, cell in report["cells"].items():
    parts.append(f"## {name}: {cell['meaning']}")
    if cell["condition"] == "none":
      same = cell["distinct_weights"] == 1
      parts.append(f"The same configuration trained twice: weights "
                   f"{'IDENTICAL' if same else 'DIFFERENT'} (`{cell['runs'][0]['weights_sha256'][:16]}…`).")
      continue
    parts += _cell_tables(cell)
    parts.append(f"Figures: `figures/{name}_*.png`.")
  parts += _appendix(report)
  return "\n\n".join(parts) + "\n"


def headline(report: dict) -> str:
  """One line per condition: the first conv layer's answer."""
  lines = []
  for name, cell in report["cells"].items():
    if cell["condition"] == "none":
      lines.append(f"{name}: same run twice "
                   f"{'identical' if cell['distinct_weights'] == 1 else 'DIFFERENT'}")
      continue
    layer = cell["summary"]["layers"][0]
    s = layer["statistics"]
    lines.append(f"{name}: {layer['name']} matched {_ci(s['matched_activations'])} "
                 f"(null {s['matched_activations']['null_mean']:.3f}), same order "
                 f"{s['same_order_fraction']['mean']:.3f} (chance "
                 f"{layer['same_order_test']['chance']:.3f})")
  return "\n".join(lines)


def summary_figure(report: dict, path: str | os.PathLike) -> None:
  """Per width (rows) and condition (columns): matched vs same-index vs null, per conv layer."""
  cells = [c for c in report["cells"].values() if c["condition"] != "none"]
  if not cells:
    return
  widths = list(dict.fromkeys(c["width"] for c in cells))
  conditions = list(dict.fromkeys(c["condition"] for c in cells))
  fig, axes = plt.subplots(len(widths), len(conditions), squeeze=False, sharey=True,
                           figsize=(max(4.2 * len(conditions) + 0.5, 8.0),
                                    3.6 * len(widths) + 1.2))
  for cell in cells:
    ax = axes[widths.index(cell["width"])][conditions.index(cell["condition"])]
    layers = cell["summary"]["layers"]
    x = np.arange(len(layers))
    series = [("matched (one-to-one)", "matched_activations", "tab:blue", -0.2),
              ("same index, unmatched", "same_index_activations", "tab:orange", 0.0)]
    for label, key, colour, dx in series:
      s = [l["statistics"][key] for l in layers]
      mean = np.array([v["mean"] for v in s])
      err = np.array([[m - v["low"] for m, v in zip(mean, s)],
                      [v["high"] - m for m, v in zip(mean, s)]])
      ax.errorbar(x + dx, mean, yerr=err, fmt="o", color=colour, capsize=3, label=label)
    null = [l["statistics"]["matched_activations"] for l in layers]
    ax.errorbar(x + 0.2, [v["null_mean"] for v in null],
                yerr=[[v["null_mean"] - v["null_low"] for v in null],
                      [v["null_high"] - v["null_mean"] for v in null]],
                fmt="s", color="grey", capsize=3, label="matched, vs untrained (null)")
    for xi, layer in zip(x, layers):
      order = layer["statistics"]["same_order_fraction"]["mean"]
      ax.text(xi, 1.02, f"order {order:.2f}\n(1/k {layer['same_order_test']['chance']:.2f})",
              ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [f"{l['name']}\n({l['filters']})" for l in layers], fontsize=8)
    ax.set_ylim(-0.1, 1.15)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(f"width ×{cell['width']:g}: {cell['condition']} varies", fontsize=10, pad=22)
    ax.grid(axis="y", alpha=0.3)
  axes[0][0].set_ylabel("activation correlation of filter pairs")
  handles, labels = axes[0][0].get_legend_handles_labels()
  fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
  model = "\n".join(textwrap.wrap(report["model"], 90))
  fig.suptitle(f"Same filters? (blue vs grey)  Same order? (orange vs blue, and the "
               f"same-order fraction)\n{model}\non {report['dataset']}, "
               f"{report['epochs']} epochs, 95% intervals over runs", fontsize=9)
  fig.tight_layout(rect=(0, 0.05, 1, 1))
  fig.savefig(path, dpi=100)
  plt.close(fig)


def cell_figures(folder: pathlib.Path, name: str, net_a: model_lib.Sequential,
                 net_b: model_lib.Sequential, comparison: dict, probes: np.ndarray) -> None:
  """For the first pair of a cell: matched filters per conv layer, and the correlation matrix.

  A first layer on grey images shows its kernels, matched *by weights*
  (cosine); deeper layers show the maps each filter makes of probe image 0,
  matched *by activations* (correlation). The title states which.
  """
  pa = profile_lib.profile(net_a, probes, with_representations=False)
  pb = profile_lib.profile(net_b, probes, with_representations=False)
  acts_a, acts_b = profile_lib.outputs(net_a, probes[:1]), profile_lib.outputs(net_b, probes[:1])
  for entry in comparison["layers"]:
    i = entry["index"]
    kernel_a, kernel_b = pa.kernels[i], pb.kernels[i]
    correlation = pa.standardized[i].T @ pb.standardized[i]
    if kernel_a.shape[2] == 1:
      similarity = matching.weight_similarity(kernel_a, kernel_b)
      perm = np.asarray(entry["weights"]["permutation"])
      tiles_a, tiles_b = kernel_a[:, :, 0, :], kernel_b[:, :, 0, :]
      what = "kernels matched by weights (cosine)"
    else:
      similarity, perm = correlation, np.asarray(entry["activations"]["permutation"])
      tiles_a, tiles_b = acts_a[i][0], acts_b[i][0]
      what = "maps of probe 0, matched by activations (correlation)"
    sims = similarity[np.arange(len(perm)), perm]
    figures.matched_filters(tiles_a, tiles_b, perm, sims,
                            folder / f"{name}_{entry['name']}_matched_filters.png",
                            f"{entry['name']}: {what}; {name}, first pair",
                            signed=kernel_a.shape[2] == 1)
    act_perm = np.asarray(entry["activations"]["permutation"])
    figures.heatmap(correlation[:, act_perm], folder / f"{name}_{entry['name']}_correlation.png",
                    f"{entry['name']}: activation correlation, B reordered by the matching",
                    "run B filter (matched order)", "run A filter", vmin=-1, vmax=1)
  if "cka" in comparison:
    layers = comparison["cka"]["layers"]
    figures.heatmap(np.array(comparison["cka"]["linear_matrix"]), folder / f"{name}_cka.png",
                    f"linear CKA across runs ({name}, first pair)", "run B layer",
                    "run A layer", layers, layers)
