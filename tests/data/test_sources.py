"""Dataset lookup, cache and download, against a local HTTP server."""

import gzip
import os

import numpy as np
import pytest

from tests.data import fake_datasets as fake
from tfcnn import data
from tfcnn.data import sources
from tfcnn.errors import DataError


@pytest.fixture
def served(tmp_path, monkeypatch):
  """A fake 'mnist' (40/20 images) served over HTTP, pinned by archive SHA-256."""
  arrays = fake.make_arrays()
  folder = fake.write_folder(tmp_path / "mirror", arrays)
  monkeypatch.setitem(sources.DATASETS, "mnist", fake.info_for("mnist", folder, 40, 20))
  monkeypatch.delenv("TFCNN_DATA_DIR", raising=False)
  with fake.http_server(folder) as url:
    yield arrays, folder, url


def test_mnist_sample_is_packaged_with_its_attribution():
  sample = data.load("mnist_sample")
  assert sample.name == "mnist_sample"
  assert sample.train_images.shape == (8000, 28, 28)
  assert sample.test_images.shape == (2000, 28, 28)
  assert set(np.unique(sample.train_labels)) == set(range(10))
  readme = (sources.packaged_dir() / "README.md").read_text()
  assert "CC BY-SA 3.0" in readme and "LeCun" in readme


def test_download_verifies_and_caches_atomically(served, tmp_path):
  arrays, _, url = served
  cache = tmp_path / "cache"
  ds = data.load("mnist", cache_dir=cache, mirrors=(url,), fallback_to_sample=False)
  assert ds.name == "mnist" and ds.source == str(cache / "mnist")
  np.testing.assert_array_equal(ds.test_images, arrays["test_images"])
  assert sorted(os.listdir(cache / "mnist")) == sorted(
      f.name for f in sources.DATASETS["mnist"].files.values())
  # Second load comes from the cache: no server needed.
  again = data.load("mnist", cache_dir=cache, mirrors=(), fallback_to_sample=False)
  np.testing.assert_array_equal(again.train_labels, arrays["train_labels"])


def test_content_pins_accept_a_recompressed_copy(tmp_path, monkeypatch):
  arrays = fake.make_arrays()
  folder = fake.write_folder(tmp_path / "orig", arrays)
  monkeypatch.setitem(sources.DATASETS, "mnist", fake.info_for("mnist", folder, 40, 20, pin="content"))
  for f in folder.iterdir():  # recompress, as Debian does
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes()), compresslevel=1, mtime=123))
  with fake.http_server(folder) as url:
    ds = data.load("mnist", cache_dir=tmp_path / "cache", mirrors=(url,), fallback_to_sample=False)
  np.testing.assert_array_equal(ds.train_images, arrays["train_images"])


def test_checksum_mismatch_leaves_nothing_in_the_cache(served, tmp_path):
  _, folder, url = served
  target = folder / "t10k-labels-idx1-ubyte.gz"
  target.write_bytes(gzip.compress(gzip.decompress(target.read_bytes())[:-1] + b"\x09"))
  cache = tmp_path / "cache"
  with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz does not match its pinned SHA-256"):
    data.load("mnist", cache_dir=cache, mirrors=(url,))
  leftovers = os.listdir(cache / "mnist")
  assert "t10k-labels-idx1-ubyte.gz" not in leftovers
  assert not [f for f in leftovers if f.endswith(".part")]


def test_unreachable_mirror_falls_back_to_the_sample_with_a_warning(served, tmp_path, caplog):
  ds = data.load("mnist", cache_dir=tmp_path / "cache", mirrors=("http://127.0.0.1:9/",))
  assert ds.name == "mnist_sample"
  assert "FALLING BACK to the embedded mnist_sample" in caplog.text


def test_without_fallback_unavailable_is_an_error(served, tmp_path):
  with pytest.raises(data.DatasetUnavailable, match="mnist not found"):
    data.load("mnist", cache_dir=tmp_path / "cache", mirrors=("http://127.0.0.1:9/",),
              fallback_to_sample=False)


def test_a_corrupt_file_on_disk_is_an_error_never_a_fallback(served, tmp_path):
  arrays, _, url = served
  folder = fake.write_folder(tmp_path / "mine", arrays)
  (folder / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
  with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: matches none of the pinned"):
    data.load("mnist", data_dir=str(folder), cache_dir=tmp_path / "cache", mirrors=(url,))
  # Unverified, it is still parsed and refused, naming the problem.
  with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: bad IDX magic"):
    data.load("mnist", data_dir=str(folder), cache_dir=tmp_path / "cache", mirrors=(url,),
              verify=False)


def test_data_dir_wins_over_cache_and_env_var_is_honoured(served, tmp_path, monkeypatch):
  arrays, _, _ = served
  mine = fake.write_folder(tmp_path / "mine" / "mnist", arrays)
  ds = data.load("mnist", data_dir=str(mine.parent), cache_dir=tmp_path / "empty")
  assert ds.source == str(mine)
  monkeypatch.setenv("TFCNN_DATA_DIR", str(mine))
  assert data.load("mnist", cache_dir=tmp_path / "empty").source == str(mine)


@pytest.mark.parametrize("mutate,message", [
    (lambda a: a.update(train_labels=a["train_labels"][:-1]), "has 40 images but 39 labels"),
    (lambda a: a.update(test_labels=a["test_labels"] + 10), "labels out of range"),
    (lambda a: a.update(train_images=a["train_images"][:, :, :, None]), "expected uint8 images"),
    (lambda a: a.update(test_images=a["test_images"][:5], test_labels=a["test_labels"][:5]),
     "expected 20 test images for mnist, found 5"),
])
def test_inconsistent_files_are_errors(served, tmp_path, mutate, message):
  arrays = dict(served[0])
  mutate(arrays)
  folder = fake.write_folder(tmp_path / "mine", arrays)
  with pytest.raises(DataError, match="matches none of the pinned"):
    data.load("mnist", data_dir=str(folder))
  with pytest.raises(DataError, match=message):   # one's own files are still checked
    data.load("mnist", data_dir=str(folder), verify=False)


def test_incomplete_folder_is_an_error(served, tmp_path):
  folder = fake.write_folder(tmp_path / "mine", served[0])
  (folder / "t10k-labels-idx1-ubyte.gz").unlink()
  with pytest.raises(DataError, match="incomplete mnist: missing t10k-labels-idx1-ubyte.gz"):
    data.load("mnist", data_dir=str(folder))


def test_plain_http_is_refused_except_on_loopback(tmp_path):
  with pytest.raises(DataError, match="only https://"):
    sources.download("mnist", cache_dir=tmp_path, mirrors=("http://example.com/",))


def test_unknown_dataset():
  with pytest.raises(DataError, match="unknown dataset 'cifar'"):
    data.load("cifar")


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist_matches_the_pinned_content():
  ds = data.load("fashion_mnist", cache_dir="/nonexistent", download_ok=False)
  assert ds.source == "/usr/share/datasets/fashion-mnist"
  assert ds.train_images.shape == (60000, 28, 28) and ds.class_names[9] == "Ankle boot"


def test_a_redirect_to_another_host_is_refused(tmp_path, monkeypatch):
  import http.server
  import threading
  arrays = fake.make_arrays()
  folder = fake.write_folder(tmp_path / "mirror", arrays)
  monkeypatch.setitem(sources.DATASETS, "mnist", fake.info_for("mnist", folder, 40, 20))
  with fake.http_server(folder) as good_url:
    class Redirect(http.server.BaseHTTPRequestHandler):
      def do_GET(self):   # to the same files, but on "localhost": another host name
        self.send_response(302)
        self.send_header("Location", good_url.replace("127.0.0.1", "localhost") + self.path)
        self.end_headers()

      def log_message(self, *args):
        pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
      with pytest.raises(DataError, match="redirected to another host"):
        data.load("mnist", cache_dir=tmp_path / "cache",
                  mirrors=(f"http://127.0.0.1:{server.server_address[1]}/",),
                  fallback_to_sample=False)
    finally:
      server.shutdown()
      server.server_close()
  assert not list((tmp_path / "cache" / "mnist").glob("*.gz"))


def test_a_mistyped_data_dir_is_named(tmp_path):
  with pytest.raises(DataError, match=f"--data_dir {tmp_path / 'nope'} is not a folder"):
    data.load("mnist", data_dir=str(tmp_path / "nope"))


def test_files_on_disk_of_another_dataset_are_refused_unless_told(tmp_path, monkeypatch):
  # Fashion-MNIST-like files put where MNIST is looked for: they parse, but
  # match none of MNIST's pins.
  arrays = fake.make_arrays()
  pinned = fake.write_folder(tmp_path / "pinned", arrays)
  monkeypatch.setitem(sources.DATASETS, "mnist", fake.info_for("mnist", pinned, 40, 20))
  other = dict(arrays, train_images=255 - arrays["train_images"])
  mine = fake.write_folder(tmp_path / "mine", other)
  with pytest.raises(DataError, match="matches none of the pinned SHA-256 sums"):
    data.load("mnist", data_dir=str(mine), download_ok=False, fallback_to_sample=False)
  ds = data.load("mnist", data_dir=str(mine), download_ok=False, fallback_to_sample=False,
                 verify=False)
  assert not ds.verified
  np.testing.assert_array_equal(ds.train_images, other["train_images"])
  assert data.load("mnist", data_dir=str(pinned), download_ok=False).verified
