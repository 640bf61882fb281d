"""ST-GCN's spatial partition and the normalised semantic graph, against hand-worked values.

The two skeletons are literals (tests/stgnode/skeletons.py), never imported from skelprep.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from stgnode.graph import bone_adjacency, normalized_semantic, spatial_adjacency
from tests.stgnode.skeletons import LAYOUTS, NTU25_EDGES, OPENPOSE18_EDGES


def naive_spatial(
    num_joints: int, edges: list, centre: int, max_hop: int, exact: bool = False
) -> np.ndarray:
    """The partition straight from its definition: BFS distances, one (root, neighbour) at a time.

    With `exact=False` the distance to the centre is forgotten beyond `max_hop` (inf), as
    ST-GCN's published code does; with `exact=True` it is the true shortest path.
    """
    neighbours = {i: set() for i in range(num_joints)}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)

    def bfs(source: int) -> list[float]:
        dist = [float("inf")] * num_joints
        dist[source] = 0
        queue = deque([source])
        while queue:
            x = queue.popleft()
            for y in neighbours[x]:
                if dist[y] == float("inf"):
                    dist[y] = dist[x] + 1
                    queue.append(y)
        return dist

    dist = [bfs(i) for i in range(num_joints)]
    to_centre = [d[centre] if exact or d[centre] <= max_hop else float("inf") for d in dist]
    out = np.zeros((1 + 2 * max_hop, num_joints, num_joints))
    for root in range(num_joints):
        hood = [j for j in range(num_joints) if dist[root][j] <= max_hop]
        for j in hood:  # j sends to root; weight 1/|neighbourhood of root|
            hop = dist[root][j]
            if hop == 0:
                subset = 0
            elif to_centre[j] >= to_centre[root]:
                subset = 2 * hop - 1
            else:
                subset = 2 * hop
            out[int(subset), j, root] = 1.0 / len(hood)
    return out


def test_chain_of_four_by_hand() -> None:
    # 0 - 1 - 2 - 3, centre 1: degrees (self included) 2, 3, 3, 2; distances to centre 1, 0, 1, 2.
    a = spatial_adjacency(4, [(0, 1), (1, 2), (2, 3)], centre=1)
    third, half = 1 / 3, 1 / 2
    root = np.diag([half, third, third, half])
    farther = np.zeros((4, 4))  # [sender, receiver]: sender at least as far from the centre
    farther[0, 1] = farther[2, 1] = farther[3, 2] = third
    closer = np.zeros((4, 4))
    closer[1, 0] = half
    closer[1, 2] = third
    closer[2, 3] = half
    assert a.shape == (3, 4, 4) and a.dtype == np.float32
    np.testing.assert_allclose(a, np.stack([root, farther, closer]), rtol=1e-6)


def test_equal_distance_neighbours_join_the_farther_subset() -> None:
    # Triangle 0-1-2 with centre 0: joints 1 and 2 are both one hop from the centre.
    a = spatial_adjacency(3, [(0, 1), (0, 2), (1, 2)], centre=0)
    third = 1 / 3
    np.testing.assert_allclose(a[0], np.eye(3) * third, rtol=1e-6)
    expected_farther = np.array([[0, 0, 0], [third, 0, third], [third, third, 0]])
    expected_closer = np.array([[0, third, third], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(a[1], expected_farther, rtol=1e-6)
    np.testing.assert_allclose(a[2], expected_closer, rtol=1e-6)


def test_distance_beyond_max_hop_is_forgotten_as_in_stgcn() -> None:
    # Chain 0-1-2-3-4, centre 0. ST-GCN knows r only within one hop: r = 0, 1, inf, inf, inf,
    # so the edges 2-3 and 3-4 join subset 1 in both directions.
    chain = [(0, 1), (1, 2), (2, 3), (3, 4)]
    a = spatial_adjacency(5, chain, centre=0)
    third = 1 / 3
    assert a[1, 2, 3] == pytest.approx(third) and a[1, 3, 2] == pytest.approx(third)
    assert a[1, 3, 4] == pytest.approx(1 / 2) and a[1, 4, 3] == pytest.approx(third)
    assert a[2, :, 2:].sum() == pytest.approx(third)  # only 1 -> 2 is "closer"
    # With exact distances (0, 1, 2, 3, 4) each edge splits by direction.
    exact = spatial_adjacency(5, chain, centre=0, exact_centre_distance=True)
    assert exact[1, 3, 2] == pytest.approx(third) and exact[2, 2, 3] == pytest.approx(third)
    assert exact[1, 4, 3] == pytest.approx(third) and exact[2, 3, 4] == pytest.approx(1 / 2)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("max_hop", [1, 2])
@pytest.mark.parametrize("exact", [False, True])
def test_matches_naive_definition(layout: str, max_hop: int, exact: bool) -> None:
    v, edges, centre = LAYOUTS[layout]
    got = spatial_adjacency(v, edges, centre, max_hop=max_hop, exact_centre_distance=exact)
    expected = naive_spatial(v, edges, centre, max_hop, exact=exact)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # A D^-1: every receiving joint's weights over all subsets sum to one.
    np.testing.assert_allclose(got.sum(axis=(0, 1)), np.ones(v), rtol=1e-6)


def test_ntu_spot_values() -> None:
    a = spatial_adjacency(25, NTU25_EDGES, centre=20)
    # The spine (20) has neighbours 1, 2, 4, 8 and itself: degree 5.
    assert a[0, 20, 20] == pytest.approx(1 / 5)
    # Middle of spine (1) is one hop out; it sends to the spine in subset 1 (1/deg(20))...
    assert a[1, 1, 20] == pytest.approx(1 / 5)
    # ...and receives from the spine in subset 2 (1/deg(1), neighbours 0, 20 and itself).
    assert a[2, 20, 1] == pytest.approx(1 / 3)
    assert a[1, 20, 1] == 0 and a[2, 1, 20] == 0
    # Hand tip (21) and thumb (22) are beyond one hop from the spine: both r = inf in ST-GCN's
    # graph, so the tip receives from the thumb in subset 1, and nothing in subset 2.
    assert a[1, 22, 21] == pytest.approx(1 / 2) and a[2, :, 21].sum() == 0


def test_openpose_neck_is_the_root_of_everything() -> None:
    a = spatial_adjacency(18, OPENPOSE18_EDGES, centre=1)
    # Nothing is closer to the centre than the centre itself.
    assert a[2, :, 1].sum() == 0
    # Neck neighbours: nose 0, shoulders 2 and 5, itself: degree 4.
    for joint in (0, 2, 5):
        assert a[1, joint, 1] == pytest.approx(1 / 4)


def test_disconnected_joint_keeps_its_self_loop() -> None:
    a = spatial_adjacency(3, [(0, 1)], centre=0)
    assert a[0, 2, 2] == 1.0 and a[:, 2].sum() == 1.0 and a[:, :, 2].sum() == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((4, [(0, 4)], 0), "outside joints"),
        ((4, [(0, 1, 2)], 0), "not a pair"),
        ((4, [(0, 1)], 7), "centre joint 7"),
    ],
)
def test_bad_graph_is_refused(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spatial_adjacency(*args)


def test_max_hop_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_hop"):
        spatial_adjacency(4, [(0, 1)], 0, max_hop=0)


def test_normalized_semantic_by_hand() -> None:
    # Path 0-1-2 without self-loops on the diagonal: the loops are added first.
    a = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=np.float32)
    got = normalized_semantic(a)
    deg = np.array([2.0, 3.0, 2.0])
    expected = (a + np.eye(3)) / np.sqrt(np.outer(deg, deg))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.dtype == np.float32


def test_normalized_semantic_spectrum_is_bounded() -> None:
    rng = np.random.default_rng(1)
    upper = np.triu(rng.random((25, 25)) < 0.3, 1)
    got = normalized_semantic((upper | upper.T).astype(np.float32))
    np.testing.assert_allclose(got, got.T, rtol=1e-6)
    eig = np.linalg.eigvalsh(got.astype(np.float64))
    assert eig.max() == pytest.approx(1.0, abs=1e-5) and eig.min() >= -1 - 1e-5


def test_bone_adjacency_is_symmetric_with_loops() -> None:
    a = bone_adjacency(4, [(0, 1), (2, 1)])
    expected = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.ones((3, 4)), "square"),
        (-np.eye(3), "non-negative"),
        (np.full((2, 2), np.nan), "finite"),
    ],
)
def test_normalized_semantic_refuses_bad_matrices(matrix: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalized_semantic(matrix)
