"""Datasets: IDX files, lookup/download/cache, and the tf.data pipeline."""

from tfcnn.data import arrays, idx, pipeline
from tfcnn.data.arrays import from_arrays, load_npz
from tfcnn.data.sources import (DATASETS, Dataset, DatasetInfo, DatasetUnavailable,
                                download, load, read_folder)

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "DatasetUnavailable", "arrays", "download",
           "from_arrays", "idx", "load", "load_npz", "pipeline", "read_folder"]
