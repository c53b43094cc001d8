"""video: eased camera moves, exact clip lengths, a decodable intermediate."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_vision import OPTIONS, make_story

from storyreel.backends.image.animatic import AnimaticRenderer
from storyreel.backends.motion import kenburns as kb
from storyreel.media import count_frames, probe, shot_frames
from storyreel.stages import video, vision

SIZE = (1536, 864)


def test_shot_frames_tile_the_timeline_exactly():
    cuts = [0.0, 1.013, 2.987, 4.5, 7.333, 9.871]
    for fps in (25, 30):
        total = sum(shot_frames(a, b, fps) for a, b in zip(cuts, cuts[1:], strict=False))
        assert total == round(cuts[-1] * fps)
        for a, b in zip(cuts, cuts[1:], strict=False):
            assert abs(shot_frames(a, b, fps) - (b - a) * fps) <= 1


def test_ease_is_smooth_and_monotonic():
    values = [kb.ease(k / 100) for k in range(101)]
    assert values[0] == 0 and values[-1] == pytest.approx(1)
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert values[1] - values[0] < values[51] - values[50]  # slow at the ends


@pytest.mark.parametrize("move", kb.CAMERA_MOVES)
def test_every_move_stays_inside_the_keyframe_and_keeps_the_aspect(move: str):
    boxes = kb.boxes(move, 50, SIZE, 1.2)
    for x0, y0, x1, y1 in boxes:
        assert x0 >= -1e-6 and y0 >= -1e-6 and x1 <= SIZE[0] + 1e-6 and y1 <= SIZE[1] + 1e-6
        assert (x1 - x0) / (y1 - y0) == pytest.approx(SIZE[0] / SIZE[1], rel=1e-6)
    first, last = boxes[0], boxes[-1]
    centre = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in (first, last)]
    width = [b[2] - b[0] for b in (first, last)]
    if move == "push_in":
        assert width[1] < width[0] * 0.9
    elif move == "pull_out":
        assert width[1] > width[0] * 1.1
    elif move == "pan_left":
        assert centre[1][0] < centre[0][0] - 100
    elif move == "pan_right":
        assert centre[1][0] > centre[0][0] + 100
    elif move == "tilt_up":
        assert centre[1][1] < centre[0][1] - 50
    elif move == "tilt_down":
        assert centre[1][1] > centre[0][1] + 50
    steps = [b[0] - a[0] for a, b in zip(boxes, boxes[1:], strict=False)]
    assert max(abs(s) for s in steps) < 20  # no jumps


@pytest.mark.parametrize("fps", [25, 30])
def test_clip_has_exact_frames_plus_crossfade_overlap(fps: int, tmp_path: Path):
    idea, shotlist = make_story("16:9", shots=3, duration=3.0)
    plans = vision.plan_story(idea, shotlist, OPTIONS)[1]
    renderer = AnimaticRenderer({"headroom": 1.2})
    for plan in plans[1:]:  # sh002 crossfades into sh003, sh003 cuts
        png = tmp_path / f"{plan['id']}.png"
        renderer.save(plan, png)
        out = tmp_path / f"{plan['id']}.mp4"
        made = video.render_clip(png, plan, out, {"backend": "kenburns"}, {"fps": fps},
                                 video.crossfade_length(plan))
        expected = shot_frames(plan["start"], plan["end"], fps)
        if plan["transition"] == "crossfade":
            expected += round(shotlist["crossfade_s"] * fps)
        assert made == expected == count_frames(out)
        stream = probe(out).first("video")
        assert (stream.width, stream.height, stream.fps) == (1280, 720, fps)
        assert stream.pix_fmt == "yuv420p"


def test_crossfade_length_sources():
    assert video.crossfade_length({"crossfade_s": 0.7}, 0.2) == 0.7
    assert video.crossfade_length({}, 0.2) == 0.2
    assert video.crossfade_length({}) > 0  # the config default
