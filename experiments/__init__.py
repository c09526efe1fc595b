"""absl experiment scripts: train, reproducibility, visualize, benchmark."""
