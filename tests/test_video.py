"""video: eased camera moves, exact clip lengths, the film's encoding, burned subtitles."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_vision import OPTIONS, make_story

from storyreel.backends.keyframes.animatic import AnimaticRenderer
from storyreel.backends.video import kenburns as kb
from storyreel.core.config import load_config
from storyreel.media import clip, ffmpeg
from storyreel.media.ffmpeg import count_frames, probe, shot_frames
from storyreel.stages import video, vision

from media_helpers import gray_frames

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
        output = load_config({"output": {"fps": fps}})["output"]
        made = video.render_clip(png, plan, out, {"backend": "kenburns"}, output,
                                 plan["crossfade_s"])
        expected = shot_frames(plan["start"], plan["end"], fps)
        if plan["transition"] == "crossfade":
            expected += round(shotlist["crossfade_s"] * fps)
        assert made == expected == count_frames(out)
        stream = probe(out).first("video")
        assert (stream.width, stream.height, stream.fps) == (1280, 720, fps)
        assert (stream.codec, stream.profile, stream.pix_fmt) == ("h264", "High", "yuv420p")


def test_cut_points_are_where_post_cuts():
    assert clip.cut_points(50, 12, 12) == [0, 12, 50]
    assert clip.cut_points(50, 0, 12) == [0, 12]
    assert clip.cut_points(50, 0, 0) == [0]
    assert clip.cut_points(8, 12, 12) == [0, 8]  # a shot shorter than the fade


def test_clip_burns_the_subtitles_of_its_own_time(tmp_path: Path):
    """A shot at 2-3 s shows the cue of 2.0-2.4 s on its first frames and no other cue."""
    from storyreel.media.subtitles import Cue, write_srt

    idea, shotlist = make_story("16:9", shots=2, duration=4.0)
    plan = vision.plan_story(idea, shotlist, OPTIONS)[1][1]
    plan = dict(plan, start=2.0, end=3.0, transition="cut")
    png = tmp_path / "key.png"
    AnimaticRenderer({"headroom": 1.2}).save(plan, png)
    srt = tmp_path / "subs.srt"
    write_srt(srt, [Cue(0.0, 1.9, ("An earlier cue, long gone",)),
                    Cue(2.0, 2.4, ("The cue of this shot",))])
    plain, burned = tmp_path / "plain.mp4", tmp_path / "burned.mp4"
    output = load_config({})["output"]
    video.render_clip(png, plan, plain, {"backend": "kenburns"}, output, 0.0)
    video.render_clip(png, plan, burned, {"backend": "kenburns"}, output, 0.0, subtitles=srt)
    _, a = gray_frames(plain, region=1.0, size=(128, 72))
    _, b = gray_frames(burned, region=1.0, size=(128, 72))
    bottom = slice(48, 72)
    change = [abs(a[k, bottom].astype(float) - b[k, bottom]).mean() for k in range(len(a))]
    assert min(change[:9]) > 3 * max(change[12:]) and max(change[12:]) < 1.0
    top = [abs(a[k, :36].astype(float) - b[k, :36]).mean() for k in range(len(a))]
    assert max(top) < 1.0  # the picture itself is the same


@pytest.mark.parametrize("rgb", [(200, 120, 40), (0, 0, 0), (255, 255, 255), (30, 90, 220)])
def test_yuv_planes_match_ffmpegs_bt709_conversion(rgb: tuple[int, int, int]):
    import subprocess

    from PIL import Image

    img = Image.new("RGB", (64, 36), rgb)
    y, cb, cr = clip.yuv_planes(img)
    assert (y.size, cb.size, cr.size) == ((64, 36), (32, 18), (32, 18))
    ours = [int(p.getpixel((0, 0))) for p in (y, cb, cr)]
    raw = subprocess.run(ffmpeg.ffmpeg_command(
        ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x36", "-i", "-", "-vf",
         "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p", "-f", "rawvideo", "-"]),
        input=img.tobytes(), capture_output=True, check=True).stdout
    theirs = [raw[0], raw[64 * 36], raw[64 * 36 + 32 * 18]]
    assert all(abs(a - b) <= 1 for a, b in zip(ours, theirs, strict=True)), (ours, theirs)
    frame = clip.yuv420_frame((y, cb, cr), (4.0, 2.0, 36.0, 20.0), (32, 18))
    assert len(frame) == 32 * 18 * 3 // 2
