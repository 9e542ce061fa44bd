"""Bounding-box labels: IoU on corner (xyxy) boxes in the usual written forms."""
from __future__ import annotations

import pytest

from vstar_data.testing.labels import LabelTypeContract
from vstar_data.verify.labels.base import Profile
from vstar_data.verify.labels.bbox import BboxLabel, box_iou, stated_boxes

P = Profile("default", min_iou=0.5)
SPEC = {"type": "bbox", "name": "object", "box": [100, 50, 200, 150], "frame_time": 12.0, "coords": "pixels",
        "min_iou": 0.5}


class TestBboxContract(LabelTypeContract):
    label_type_cls = BboxLabel
    spec = SPEC
    passing = [(SPEC, "The cup is at [100, 50, 200, 150]."), (SPEC, "(105, 55), (205, 148)")]
    failing = [(SPEC, "[150, 100, 250, 200]"), (SPEC, "It is not at [100, 50, 200, 150]."),
               (SPEC, "Maybe [100, 50, 200, 150].")]


@pytest.mark.parametrize("answer", [
    "The cup is at [100, 50, 200, 150].", "box: (100, 50, 200, 150)", "from (105, 55) to (205, 148)",
    "top-left (110, 60), bottom-right (210, 160)", "[100.0, 50.0, 200.0, 150.0]",
])
def test_written_forms_pass(answer: str) -> None:
    assert BboxLabel().verify(SPEC, answer, P).passed, answer


@pytest.mark.parametrize("answer, reason", [
    ("[150, 100, 250, 200]", "low_iou"), ("It is not at [100, 50, 200, 150].", "negated"),
    ("Maybe [100, 50, 200, 150].", "hedged"), ("[100, 50, 200, 150] or [300, 10, 350, 40]", "competing_value"),
    ("[0.25, 0.25, 0.5, 0.75]", "coords_mismatch"), ("[200, 150, 100, 50]", "invalid_box"),
    ("The cup is on the table.", "not_found"),
])
def test_failures(answer: str, reason: str) -> None:
    result = BboxLabel().verify(SPEC, answer, P)
    assert not result.passed and result.reason == reason, (answer, result)


def test_iou_is_computed_on_corners_not_centres() -> None:
    """A 10x10 box and one shifted by 5 px: IoU 25/175 in xyxy. Read as centre-x, centre-y, width,
    height (the released code's mistake) both would be ~110 px boxes overlapping almost fully."""
    small = {"type": "bbox", "name": "object", "box": [100, 100, 110, 110]}
    assert box_iou([100, 100, 110, 110], [105, 105, 115, 115]) == pytest.approx(25 / 175)
    result = BboxLabel().verify(small, "[105, 105, 115, 115]", P)
    assert not result.passed and result.reason == "low_iou" and result.score == pytest.approx(25 / 175)


def test_normalised_answers_convert_with_image_size() -> None:
    sized = dict(SPEC, image_size=[400, 200])
    assert BboxLabel().verify(sized, "[0.25, 0.25, 0.5, 0.75]", P).passed
    norm = {"type": "bbox", "name": "object", "box": [0.25, 0.25, 0.5, 0.75], "coords": "normalized"}
    assert BboxLabel().verify(norm, "[0.26, 0.25, 0.5, 0.74]", P).passed
    assert stated_boxes("(1, 2), (3, 4) and [5, 6, 7, 8]")[0][0] == (1.0, 2.0, 3.0, 4.0)
