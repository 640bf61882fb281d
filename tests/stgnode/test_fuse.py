"""Score fusion by sample id: shuffled files, weights, raw vs softmax, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from stgnode.commands.fuse import fuse as fuse_command
from stgnode.fuse import Scores, fuse, load_scores, save_scores

CLASSES = ("wave", "clap", "kick")
IDS = np.array(["S001A001", "S001A002", "S001A003", "S002A001"])
LABELS = np.array([0, 1, 2, 0])
# Joint stream: right on samples 0 and 1 only. Bone stream: right on samples 2 and 3 only.
JOINT = np.array([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 0.0, 0.5], [0.0, 1.0, 0.0]])
BONE = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 4.0], [2.0, 0.0, 0.0]])


def write(path, order, logits) -> None:
    save_scores(Scores(IDS[order], LABELS[order], logits[order], CLASSES), path)


@pytest.fixture
def runs(tmp_path):
    """Two runs' scores.npz in run-directory layout, the second in a shuffled sample order."""
    joint, bone = tmp_path / "joint", tmp_path / "bone"
    write(joint / "eval" / "scores.npz", np.arange(4), JOINT)
    write(bone / "eval" / "scores.npz", np.array([3, 1, 0, 2]), BONE)
    return joint, bone


def test_scores_round_trip(tmp_path) -> None:
    path = save_scores(Scores(IDS, LABELS, JOINT.astype(np.float32), CLASSES), tmp_path / "s.npz")
    back = load_scores(path)
    assert back.sample.tolist() == IDS.tolist() and back.classes == CLASSES
    assert back.logits.dtype == np.float32 and back.label.dtype == np.int64
    np.testing.assert_array_equal(back.logits, JOINT)


def test_fuse_aligns_by_sample_id_with_weights(runs) -> None:
    joint, bone = (load_scores(r) for r in runs)
    fused = fuse([joint, bone], weights=[1.0, 0.5])
    # Fused in the first run's order, whatever the second file's order was.
    assert fused.sample.tolist() == IDS.tolist()
    np.testing.assert_allclose(fused.logits, JOINT + 0.5 * BONE)
    # By hand: argmax rows -> [0, 1, 2, 0]: all four right, although each stream gets 2 of 4.
    assert fused.logits.argmax(axis=1).tolist() == [0, 1, 2, 0]


def test_softmax_mode_adds_probabilities(runs) -> None:
    joint, bone = (load_scores(r) for r in runs)
    fused = fuse([joint, bone], weights=[2.0, 1.0], mode="softmax")
    soft = [np.exp(x) / np.exp(x).sum(axis=1, keepdims=True) for x in (JOINT, BONE)]
    np.testing.assert_allclose(fused.logits, 2 * soft[0] + soft[1], rtol=1e-6)
    np.testing.assert_allclose(fused.logits.sum(axis=1), 3.0, rtol=1e-6)


def test_missing_samples_are_listed(runs, tmp_path) -> None:
    partial = tmp_path / "partial.npz"
    write(partial, np.array([0, 1]), JOINT)
    with pytest.raises(ValueError, match=r"partial lacks 2 ids: S001A003, S002A001"):
        fuse([load_scores(runs[0]), load_scores(partial)], names=["joint", "partial"])


def test_label_disagreement_is_refused(runs, tmp_path) -> None:
    relabelled = tmp_path / "relabelled.npz"
    save_scores(Scores(IDS, np.array([0, 1, 2, 1]), BONE, CLASSES), relabelled)
    with pytest.raises(ValueError, match=r"other: labels disagree .* for S002A001"):
        fuse([load_scores(runs[0]), load_scores(relabelled)], names=["joint", "other"])


def test_weight_count_and_mode_are_checked(runs) -> None:
    scores = [load_scores(r) for r in runs]
    with pytest.raises(ValueError, match="1 weights given for 2 runs"):
        fuse(scores, weights=[1.0])
    with pytest.raises(ValueError, match="unknown fusion mode 'max'"):
        fuse(scores, mode="max")


def test_not_a_scores_file_names_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, logits=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"bad.npz: not a scores file"):
        load_scores(bad)
    with pytest.raises(FileNotFoundError, match="stgnode evaluate"):
        load_scores(tmp_path)


def test_fuse_command_reports_each_run_and_the_fusion(runs, tmp_path) -> None:
    out = tmp_path / "fused.npz"
    result = CliRunner().invoke(
        fuse_command, [str(runs[0]), str(runs[1]), "--weights", "1,0.5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines() if line.strip()}
    assert lines["joint"][1:3] == ["50.00", "100.00"]
    assert lines["bone"][1:3] == ["50.00", "100.00"]
    assert lines["fused"][1:3] == ["100.00", "100.00"]
    np.testing.assert_allclose(load_scores(out).logits, JOINT + 0.5 * BONE)


def test_fuse_command_refuses_bad_weights(runs) -> None:
    result = CliRunner().invoke(fuse_command, [str(runs[0]), str(runs[1]), "--weights", "1,x"])
    assert result.exit_code != 0
    assert "--weights" in result.output
