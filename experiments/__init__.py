"""absl experiment scripts: train, reproducibility, visualize, benchmark."""

import os

# TensorFlow's C++ start-up chatter (oneDNN notices, a failed CUDA probe on
# CPU-only machines) hides the lines that matter; keep warnings and errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
