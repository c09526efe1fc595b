"""Benchmarks: tfcnn against Keras and numpy, and what limits its speed (not installed)."""
