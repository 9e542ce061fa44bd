"""check_clip (the template backend's clip check) decodes a window's first frame once per file and
frame: a million windows over a few clips (symlinks, windows of one long video) must not decode a
million frames (33 ms each: 9 hours at 1M), yet a changed or broken file is still caught."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vstar_data.errors import SkipRecord
from vstar_data.video import check
from vstar_data.video.check import check_clip, check_stats


def test_links_to_one_clip_decode_its_first_frame_once(tmp_path: Path, videos_dir: Path) -> None:
    clip = tmp_path / "yoga.mp4"            # a copy: a file no earlier test has checked
    shutil.copy(videos_dir / "yoga.mp4", clip)
    links = []
    for i in range(20):
        link = tmp_path / f"c{i}.mp4"
        os.symlink(clip, link)
        links.append(link)
    before = check_stats()
    for link in links:
        check_clip(link, 0, 10)
    check_clip(links[0], 4, 10)                 # another window: another first frame, decoded
    after = check_stats()
    assert after["decoded"] - before["decoded"] == 2
    assert after["remembered"] - before["remembered"] == 19


def test_a_broken_file_is_remembered_with_each_samples_path(tmp_path: Path, videos_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    clip = tmp_path / "real.mp4"
    shutil.copy(videos_dir / "arm_wrestling.mp4", clip)
    check_clip(clip, 0, 10)                      # decodes and is remembered as fine

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise SkipRecord("video_corrupt", "no frame decodes", file=args[0])

    monkeypatch.setattr(check, "sample_frames", broken)
    check_clip(clip, 0, 10)                      # same file, same frame: answered from memory
    os.utime(clip, ns=(1, 1))                    # the file changed (mtime): checked again, now broken
    links = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for link in links:
        os.symlink(clip, link)
    before = check_stats()
    for link in links:
        with pytest.raises(SkipRecord) as err:
            check_clip(link, 0, 10)
        assert err.value.reason == "video_corrupt" and err.value.file == str(link)
    after = check_stats()
    assert (after["decoded"] - before["decoded"], after["remembered"] - before["remembered"]) == (1, 1)
