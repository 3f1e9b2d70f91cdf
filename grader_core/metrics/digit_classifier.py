"""The trusted digit classifier: its predictions score class coverage, its features define FID/KID.

A small CNN on binary 28x28 digits::

    [conv3x3 -> ReLU -> maxpool2] x 3 (16, 32, 64 channels)  ->  flatten (576)
    -> linear 128 -> ReLU  (the feature layer)  ->  linear 10 (logits)

The features are divided by ``feature_scale``, their root mean square over the training split
(stored with the weights), so that their scale, and with it the magnitude of FID and KID, is about
the same for every trained classifier instead of an accident of its training run.

Generative-model metrics need a feature space in which real digits of a dataset cluster and
corrupted or off-distribution digits do not; the penultimate layer of a classifier trained on that
dataset is such a space (as Inception's pool layer is for natural images), and a small one runs on
a CPU in seconds. One classifier is trained per dataset by ``scripts/train_digit_classifier.py``.

Weights are stored as ``weights/digit_classifier_<dataset>.safetensors``; next to each is a JSON
file holding its SHA-256 (checked on every load, so a swapped or corrupted file is refused) and how
it was trained.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
NUM_CLASSES = 10
NUM_FEATURES = 128
_BATCH = 500


class WeightsChecksumError(RuntimeError):
    """A weights file is not the one its recorded SHA-256 was computed from."""


class DigitClassifier(nn.Module):
    feature_scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for in_channels, out_channels in ((1, 16), (16, 32), (32, 64)):
            layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 3 * 3, NUM_FEATURES), nn.ReLU())
        self.head = nn.Linear(NUM_FEATURES, NUM_CLASSES)
        self.register_buffer("feature_scale", torch.ones(()))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Scaled penultimate activations [N, 128] of images [N, 1, 28, 28] with values in [0, 1]."""
        return self.body(images) / self.feature_scale

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))


class DigitFeatures(nn.Module):
    """The classifier's feature layer as a torchmetrics ``feature`` module.

    Takes images [N, 1, 28, 28] of any real dtype with values in [0, 1] and returns float64
    features [N, 128]; ``num_features`` saves torchmetrics a probing forward pass. The input is cast
    to the network's own dtype, so the module keeps working after ``Metric.set_dtype``.
    """

    num_features = NUM_FEATURES

    def __init__(self, classifier: DigitClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        dtype = next(self.classifier.parameters()).dtype
        batches = images.to(dtype).split(_BATCH)
        with torch.inference_mode():
            features = torch.cat([self.classifier.features(batch) for batch in batches])
        return features.double()


def weights_path(dataset: str) -> Path:
    return WEIGHTS_DIR / f"digit_classifier_{dataset}.safetensors"


def manifest_path(dataset: str) -> Path:
    return WEIGHTS_DIR / f"digit_classifier_{dataset}.json"


def save_classifier(model: DigitClassifier, dataset: str, info: dict[str, Any]) -> Path:
    """Write the weights and, next to them, a manifest with their SHA-256 and ``info``."""
    path = weights_path(dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().float().contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(path), metadata={"dataset": dataset})
    manifest = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "dataset": dataset, **info}
    manifest_path(dataset).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    load_classifier.cache_clear()
    classifier_checksum.cache_clear()
    return path


@cache
def classifier_checksum(dataset: str = "hoda") -> str:
    """The SHA-256 of the shipped weights: feature-space metrics (FID, KID) are only comparable
    between values measured with the same weights."""
    return str(json.loads(manifest_path(dataset).read_text(encoding="utf-8"))["sha256"])


@cache
def load_classifier(dataset: str = "hoda") -> DigitClassifier:
    """The trained classifier for ``dataset`` (float32, eval mode, frozen), checksum-verified.

    Shared between callers: copy it (:func:`feature_module` does) before changing its dtype.
    """
    path, manifest = weights_path(dataset), manifest_path(dataset)
    if not path.is_file() or not manifest.is_file():
        raise FileNotFoundError(f"no trained classifier for {dataset!r}: expected {path} and {manifest}")
    expected = json.loads(manifest.read_text(encoding="utf-8"))["sha256"]
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise WeightsChecksumError(f"{path} has SHA-256 {actual}, but {manifest.name} records {expected}")
    model = DigitClassifier()
    model.load_state_dict(load_file(str(path)))
    model.eval().requires_grad_(False)
    return model


def feature_module(dataset: str = "hoda", dtype: torch.dtype = torch.float64) -> DigitFeatures:
    """A private copy of the classifier's feature layer, in ``dtype``."""
    return DigitFeatures(copy.deepcopy(load_classifier(dataset)).to(dtype))


def as_image_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Digits [N, 28, 28] or [N, 1, 28, 28] (uint8, bool or float, values in [0, 1]) as float64 [N, 1, 28, 28].

    Values outside [0, 1] (say, 0..255 images) are refused rather than silently misread.
    """
    if isinstance(images, torch.Tensor):
        tensor = images.detach().cpu().to(torch.float64)
    else:
        # A copy: torch refuses to share the memory of read-only arrays such as a DigitDataset's.
        tensor = torch.from_numpy(np.array(images, dtype=np.float64))
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(1)
    if tensor.ndim != 4 or tensor.shape[1:] != (1, 28, 28):
        raise ValueError(f"expected images [N, 28, 28] or [N, 1, 28, 28], got {tuple(tensor.shape)}")
    if torch.isnan(tensor).any():
        raise ValueError("images contain NaN")
    if tensor.numel() and (tensor.min() < 0 or tensor.max() > 1):
        raise ValueError("image values must lie in [0, 1] (binary digits: 0 background, 1 digit)")
    return tensor


def classify(model: DigitClassifier, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Class probabilities [N, 10] that ``model`` gives the images."""
    dtype = next(model.parameters()).dtype
    batches = as_image_tensor(images).to(dtype).split(_BATCH)
    with torch.inference_mode():
        logits = torch.cat([model(batch) for batch in batches])
    return torch.softmax(logits, dim=1).numpy()


def predict_proba(images: np.ndarray | torch.Tensor, dataset: str = "hoda") -> np.ndarray:
    """Class probabilities [N, 10] from the trusted classifier trained on ``dataset``."""
    return classify(load_classifier(dataset), images)


def predict(images: np.ndarray | torch.Tensor, dataset: str = "hoda") -> np.ndarray:
    """Predicted labels int64 [N] from the trusted classifier trained on ``dataset``."""
    return predict_proba(images, dataset).argmax(axis=1).astype(np.int64)
