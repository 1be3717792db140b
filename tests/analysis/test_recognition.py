"""A respondent's recognition y from its item answers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from analysis.recognition import ItemAnswer, recognition, recognition_matrix, score

YES = ItemAnswer(recognised=True, score=100)
NO = ItemAnswer(recognised=False, score=0)
UNKNOWN = ItemAnswer(recognised=False, excluded=True)  # 不了解


def test_share_of_rated_items_leaves_out_unknown():
    assert recognition([YES, YES, NO, UNKNOWN]) == pytest.approx(2 / 3)
    assert score([YES, YES, NO, UNKNOWN]) == pytest.approx(200 / 3)


def test_item_weights():
    heavy_no = ItemAnswer(recognised=False, weight=3.0)
    assert recognition([YES, heavy_no]) == pytest.approx(0.25)
    assert recognition([YES, ItemAnswer(recognised=False, weight=0.0)]) == 1.0


def test_overall_item_decides_alone():
    assert recognition([NO, NO, NO], overall=YES) == 1.0
    assert recognition([YES, YES], overall=NO) == 0.0
    assert recognition([YES, YES], overall=UNKNOWN) is None


def test_none_when_no_item_counts():
    assert recognition([UNKNOWN, UNKNOWN]) is None
    assert recognition([]) is None
    assert score([ItemAnswer(recognised=True)]) is None  # no scores declared


def test_matrix_matches_single_respondents():
    recognised = np.array([[1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0]], dtype=bool)
    excluded = np.array([[0, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    weights = np.array([1.0, 2.0, 1.0, 1.0])
    y = recognition_matrix(recognised, excluded, weights)
    for row in range(2):
        answers = [
            ItemAnswer(recognised=bool(r), excluded=bool(e), weight=w)
            for r, e, w in zip(recognised[row], excluded[row], weights, strict=True)
        ]
        assert y[row] == pytest.approx(recognition(answers))
    assert np.isnan(y[2])


def test_the_package_names_the_function_whoever_imported_the_submodule_first():
    """`analysis.recognition` is also a submodule: `from analysis import recognition` must still
    give the function after the submodule was imported on its own (a fresh interpreter)."""
    code = "import analysis.recognition\nfrom analysis import recognition\nprint(callable(recognition))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "True"
