"""Store-backed dataset, chunk-aware sampler and loader for one split part (train or test).

Reading is by Zarr chunk: a worker decodes a whole chunk of `joints` once and keeps the last
decoded chunks (an LRU cache), and the sampler shuffles chunks, then samples inside a group of
chunks that fits `data.shuffle_buffer_mb`, so consecutive batches hit the cache instead of
decoding a chunk per sample.
The array is never loaded whole, and it is opened lazily in each worker (never pickled across
fork). Only `frames` and `label` (one number per sample) are held in memory.

Distributed: the sampler builds the same global order on every rank and gives rank r the r-th
slice of every global batch, so a run on W ranks sees exactly the batches of a 1-process run
with the same global batch (the per-rank batch is global / W).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from stgnode.config import ConfigError
from stgnode.store import StoreError, StoreInfo, open_store
from stgnode.transforms import (
    NORMALIZERS,
    Augment,
    bone_parents,
    mirror_permutation,
    registered,
    transform_sample,
)

ORDER_STREAM = 0x5EED  # separates the sampler's random stream from the augmentation's
TEST_VIEW_SEED = 0x7E57  # seeds the test-time views: the same for every run, whatever its seed


class StoreDataset(Dataset):
    """Samples `indices` of a store as (x (C, window, V, M) float32, label, store index)."""

    def __init__(
        self,
        info: StoreInfo,
        indices: np.ndarray,
        window: int,
        stream: str,
        augment: Augment | None,
        seed: int = 0,
        cache_chunks: int = 8,
        check_labels: bool = True,
        normalize: str = "none",
    ) -> None:
        registered(NORMALIZERS, normalize, "data.normalize")  # fails here, not in a worker
        root = info.group()
        self.path = str(info.path)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.frames = np.asarray(root["frames"][:], dtype=np.int64)
        self.labels = np.asarray(root["label"][:], dtype=np.int64)
        bad = self.labels[self.indices] if check_labels else np.zeros(0, np.int64)
        bad = bad[(bad < 0) | (bad >= info.num_classes)]
        if bad.size:
            raise StoreError(
                f"store {info.path}: labels {sorted(set(bad.tolist()))[:5]} outside [0, {info.num_classes})"
            )
        self.chunk = info.chunk
        self.window = window
        self.stream = stream
        self.augment = augment
        self.normalize = normalize
        self.seed = seed
        self.epoch = 0
        self.channels = info.channels
        self.parents = bone_parents(info.edges, info.centre, info.shape[3])
        self.twins = None
        if augment is not None and augment.mirror > 0:
            try:
                if "x" not in info.channels:
                    raise ValueError(f"no x channel among {list(info.channels)}")
                self.twins = mirror_permutation(info.layout["joints"])
            except ValueError as err:
                raise StoreError(f"store {info.path}: cannot mirror: {err}") from None
        self.cache_chunks = cache_chunks
        self._joints: Any = None
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_joints"], state["_cache"] = None, OrderedDict()
        return state

    def __len__(self) -> int:
        return len(self.indices)

    def chunk_ids(self) -> np.ndarray:
        """The Zarr chunk (along N) each position of this dataset lives in."""
        return self.indices // self.chunk

    def _decoded_chunk(self, chunk: int) -> np.ndarray:
        if chunk in self._cache:
            self._cache.move_to_end(chunk)
            return self._cache[chunk]
        if self._joints is None:
            import zarr

            self._joints = zarr.open_array(self.path + "/joints", mode="r")
        data = self._joints[chunk * self.chunk : (chunk + 1) * self.chunk]
        self._cache[chunk] = data
        if len(self._cache) > self.cache_chunks:
            self._cache.popitem(last=False)
        return data

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, int, int]:
        """Sample at `position` for augmentation epoch `self.epoch`, or `(position, epoch)`.

        The sampler sends the epoch with each position, so persistent DataLoader workers (whose
        dataset copies never see `self.epoch` change) augment for the right epoch.
        """
        position, epoch = key if isinstance(key, tuple) else (key, self.epoch)
        index = int(self.indices[position])
        chunk, row = divmod(index, self.chunk)
        raw = self._decoded_chunk(chunk)[row]
        rng = None if self.augment is None else np.random.default_rng([self.seed, epoch, index])
        x = transform_sample(
            raw,
            self.frames[index],
            self.window,
            self.stream,
            self.parents,
            self.channels,
            rng,
            self.augment or Augment.off(),
            self.twins,
            self.normalize,
        )
        return torch.from_numpy(x), int(self.labels[index]), index


class ChunkSampler(Sampler[tuple[int, int]]):
    """Positions in a chunk-friendly order, sliced for one rank.

    Shuffled (training): chunks are permuted, taken `group` at a time, and positions are
    permuted within each group; rank r then takes the r-th of `world` equal slices of every
    global batch, and an incomplete last global batch is dropped. In order (testing): each
    rank takes one contiguous block, so every sample is seen exactly once across ranks.
    """

    def __init__(
        self,
        chunk_ids: np.ndarray,
        global_batch: int,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world: int = 1,
        group: int = 4,
    ) -> None:
        if global_batch % world:
            raise ConfigError(f"global batch {global_batch} is not divisible by {world} ranks")
        self.chunk_ids = np.asarray(chunk_ids)
        self.global_batch = global_batch
        self.shuffle = shuffle
        self.seed, self.rank, self.world, self.group = seed, rank, world, group
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order is produced next (as DistributedSampler.set_epoch)."""
        self.epoch = epoch

    def global_order(self) -> np.ndarray:
        """The order of all positions for this epoch, identical on every rank."""
        n = len(self.chunk_ids)
        if not self.shuffle:
            return np.arange(n)
        rng = np.random.default_rng([self.seed, self.epoch, ORDER_STREAM])
        chunks = rng.permutation(np.unique(self.chunk_ids))
        parts = []
        for start in range(0, len(chunks), self.group):
            members = np.flatnonzero(np.isin(self.chunk_ids, chunks[start : start + self.group]))
            parts.append(rng.permutation(members))
        return np.concatenate(parts) if parts else np.arange(0)

    def _mine(self) -> np.ndarray:
        order = self.global_order()
        if not self.shuffle:
            return np.array_split(order, self.world)[self.rank]
        per_rank = self.global_batch // self.world
        batches = order[: len(order) // self.global_batch * self.global_batch]
        batches = batches.reshape(-1, self.world, per_rank)
        return batches[:, self.rank].reshape(-1)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(position, epoch) pairs: the dataset augments for the epoch it is told."""
        return iter((int(p), self.epoch) for p in self._mine())

    def __len__(self) -> int:
        if not self.shuffle:
            return len(np.array_split(np.arange(len(self.chunk_ids)), self.world)[self.rank])
        return len(self.chunk_ids) // self.global_batch * (self.global_batch // self.world)


def shuffle_group(info: StoreInfo, buffer_mb: float) -> int:
    """Chunks shuffled together: as many decoded `joints` chunks as fit in `buffer_mb` MiB.

    A store whose sample order follows the class (MSR Action3D's names start with the action)
    needs a group that spans many classes, or every batch holds one or two of them; a small
    store is therefore shuffled whole, a large one (NTU at 300 frames: 11 MiB a chunk, 23 chunks
    in 256 MiB) in groups of thousands of samples.
    """
    _, c, t, v, m = info.shape
    chunk_mib = info.chunk * c * t * v * m * 4 / 2**20
    return max(1, int(buffer_mb // chunk_mib))


def make_loader(
    store: str | StoreInfo,
    split: str,
    part: str,
    config: dict,
    train: bool,
    rank: int = 0,
    world: int = 1,
    indices: np.ndarray | None = None,
    view: int = 0,
) -> DataLoader:
    """A DataLoader over `splits/<split>/<part>` yielding (x, y, store index) batches.

    `indices` (store rows) replaces the split part: inference over any samples, whose labels
    are not checked (an unlabelled store's are -1).

    `train=True` shuffles chunk-aware, augments per `config["data"]` and drops an incomplete
    last batch; `train=False` is the deterministic test transform over every sample. The
    per-rank batch is `config["train"]["batch_size"]` (the global batch) divided by `world`.
    Call `set_epoch(loader, epoch)` before each epoch.

    `view` k >= 1 (with `train=False`) is test-time view k: every sample in order, each a
    random temporal crop as in training (a fraction in [crop_min, 1] of the valid frames,
    resized to the window) drawn from a fixed random stream of its own (seed
    `TEST_VIEW_SEED`, epoch k), without rotation or scale, so that a test pass can be
    repeated under several clips and their scores averaged (`stgnode evaluate --views`). Crops
    alone were chosen on the validation splits of NW-UCLA and MSR over the whole training
    augmentation, and over rotation and scale alone (docs/results.md).
    """
    info = store if isinstance(store, StoreInfo) else open_store(store)
    data, run = config["data"], config["train"]
    group = shuffle_group(info, data["shuffle_buffer_mb"])
    if view and train:
        raise ValueError("test-time views are for train=False loaders")
    augment = None
    if train and data["augment"]:
        augment = Augment(
            data["crop_min"],
            data["rotate_deg"],
            data["scale"],
            data["yaw_deg"],
            data["mirror"],
            data["sampling"],
        )
    elif view:
        augment = Augment(data["crop_min"], rotate_deg=0.0, scale=0.0)
    dataset = StoreDataset(
        info,
        info.split_indices(split, part) if indices is None else indices,
        window=data["window"],
        stream=data["stream"],
        augment=augment,
        seed=TEST_VIEW_SEED if view else run["seed"],
        cache_chunks=group + 1,
        check_labels=indices is None,
        normalize=data["normalize"],
    )
    global_batch = run["batch_size"]
    sampler = ChunkSampler(
        dataset.chunk_ids(), global_batch, train, run["seed"], rank, world, group
    )
    if train and len(sampler) == 0:
        raise ConfigError(
            f"split {split!r} part {part!r} of {info.path} has {len(dataset)} samples, fewer than "
            f"one global batch of {global_batch}"
        )
    workers = data["num_workers"]
    loader = DataLoader(
        dataset,
        batch_size=global_batch // world,
        sampler=sampler,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        generator=torch.Generator(),
        prefetch_factor=4 if workers else None,
        persistent_workers=workers > 0,  # no process start per epoch; chunk caches stay warm
    )
    if view:
        set_epoch(loader, view)
    return loader


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Make the next pass over `loader` epoch `epoch`: order, augmentation and worker seeds."""
    loader.sampler.set_epoch(epoch)
    loader.dataset.epoch = epoch
    loader.generator.manual_seed(loader.dataset.seed * 100_003 + epoch)
