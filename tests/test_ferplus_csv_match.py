"""FER+ votes reach the original-pixel CSV: each CSV row is matched to its JPEG in the image folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from fer.data import folder_files, load_split
from fer.ferplus import _match_csv_rows, read_votes, split_votes


@pytest.fixture(scope="module")
def csv_gz(fer2013_dir: Path) -> Path:
    path = fer2013_dir.parent / "fer2013-csv" / "fer2013.csv.gz"
    if not path.exists():
        pytest.fail(f"{path} is missing: the original-pixel CSV must lie beside the image folders")
    return path


def test_csv_rows_match_their_own_jpeg(fer2013_dir: Path, csv_gz: Path) -> None:
    """Nearly every PublicTest row finds a JPEG, and the JPEG really is that face: equalisation keeps the
    order of grey levels, so the row and its JPEG are rank-correlated near 1 on the full 48x48 (random
    pairs of faces: median 0.07, at most 0.71 in 200), not just on the matcher's thumbnails."""
    rows = load_split(csv_gz, "PublicTest")
    matches = _match_csv_rows(csv_gz, fer2013_dir, "PublicTest")
    assert len(matches) == len(rows)
    found = [i for i, m in enumerate(matches) if m is not None]
    assert len(found) >= 0.99 * len(rows)
    jpgs = load_split(fer2013_dir, "PublicTest")
    index = {
        f.relative_to(fer2013_dir).as_posix(): i for i, (f, _) in enumerate(folder_files(fer2013_dir, "PublicTest")[0])
    }
    rank_corr = []
    for i in found:
        jpg = jpgs.images[index[matches[i]]]
        rank_corr.append(spearmanr(rows.images[i].ravel(), jpg.ravel())[0])
        assert jpgs.labels[index[matches[i]]] == rows.labels[i]
    rank_corr_arr = np.array(rank_corr)
    assert np.median(rank_corr_arr) > 0.99
    assert (rank_corr_arr > 0.8).mean() > 0.99
    # one face, one file: rows sharing a file are FER2013's exact duplicates (identical pixels)
    by_file: dict[str, list[int]] = {}
    for i in found:
        by_file.setdefault(matches[i], []).append(i)
    shared = [rows_i for rows_i in by_file.values() if len(rows_i) > 1]
    assert len(shared) < 0.01 * len(found)
    for rows_i in shared:
        for other in rows_i[1:]:
            np.testing.assert_array_equal(rows.images[other], rows.images[rows_i[0]])


def test_votes_for_csv_rows_equal_the_votes_of_their_files(fer2013_dir: Path, csv_gz: Path) -> None:
    votes = read_votes(fer2013_dir / "ferplus.csv")
    matches = _match_csv_rows(csv_gz, fer2013_dir, "PrivateTest")
    aligned = split_votes(csv_gz, "PrivateTest")
    assert aligned is not None and len(aligned.votes) == len(matches)
    checked = 0
    for i, m in enumerate(matches):
        if m is not None and m in votes:
            np.testing.assert_array_equal(aligned.votes[i], votes[m])
            checked += 1
    assert checked >= 0.97 * len(matches)
    # the first row of ferplus.csv, read by hand: PrivateTest_10131363.jpg, anger 4 of 10
    np.testing.assert_array_equal(votes["test/angry/PrivateTest_10131363.jpg"], [2, 1, 2, 0, 4, 0, 0, 0, 1, 0])
