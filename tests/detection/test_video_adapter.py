"""The OpenCV frame sources, on small videos and images written here.

Skipped where OpenCV is not installed (it is an optional extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection import BBox, Detection, DetectionError

cv2: Any = pytest.importorskip("cv2")
video: Any = pytest.importorskip("detection.video")


def write_video(path: Path, *, frames: int, fps: float, size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 10 * i, dtype=np.uint8))  # frame i is grey 10*i
    writer.release()
    return path


def test_reads_every_frame_with_index_and_time(tmp_path: Path) -> None:
    source = video.OpenCvFrameSource(write_video(tmp_path / "a.avi", frames=10, fps=10.0))

    frames = list(source)

    assert source.fps == pytest.approx(10.0)
    assert [(i, round(t, 3)) for i, t, _ in frames] == [(i, i / 10) for i in range(10)]
    assert frames[0][2].shape == (48, 64, 3)
    assert frames[0][2].dtype == np.uint8
    assert [round(float(f.mean()) / 10) for _, _, f in frames] == list(range(10))


def test_samples_at_the_target_rate_keeping_source_indices(tmp_path: Path) -> None:
    source = video.OpenCvFrameSource(
        write_video(tmp_path / "a.avi", frames=20, fps=10.0), target_fps=2.5
    )

    frames = list(source)

    assert [i for i, _t, _f in frames] == [0, 4, 8, 12, 16]
    assert [round(t, 3) for _i, t, _f in frames] == [0.0, 0.4, 0.8, 1.2, 1.6]
    assert [round(float(f.mean()) / 10) for _, _, f in frames] == [0, 4, 8, 12, 16]


def test_max_frames_stops_early(tmp_path: Path) -> None:
    source = video.OpenCvFrameSource(
        write_video(tmp_path / "a.avi", frames=10, fps=10.0), max_frames=3
    )

    assert len(list(source)) == 3


def test_missing_or_broken_videos_raise_a_frame_source_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")

    with pytest.raises(video.FrameSourceError, match="does not exist"):
        video.OpenCvFrameSource(tmp_path / "missing.mp4")
    with pytest.raises(video.FrameSourceError, match="cannot open"):
        video.OpenCvFrameSource(broken)
    assert issubclass(video.FrameSourceError, DetectionError)


def test_image_folder_in_name_order(tmp_path: Path) -> None:
    for name, grey in [("b.png", 200), ("a.png", 100), ("notes.txt", 0)]:
        if name.endswith(".png"):
            cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), grey, np.uint8))
        else:
            (tmp_path / name).write_text("not an image")

    frames = list(video.ImageFolderSource(tmp_path, fps=2.0))

    assert [(i, t, int(f[0, 0, 0])) for i, t, f in frames] == [(0, 0.0, 100), (1, 0.5, 200)]


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(video.FrameSourceError, match="does not exist"):
        video.ImageFolderSource(tmp_path / "nope")
    with pytest.raises(video.FrameSourceError, match="holds no images"):
        video.ImageFolderSource(tmp_path)
    (tmp_path / "bad.jpg").write_bytes(b"xx")
    with pytest.raises(video.FrameSourceError, match="cannot decode"):
        list(video.ImageFolderSource(tmp_path))


def test_encode_jpeg_round_trips_an_evidence_crop() -> None:
    crop = np.full((40, 30, 3), (10, 120, 240), dtype=np.uint8)

    data = video.encode_jpeg(crop, quality=95)

    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert data[:2] == b"\xff\xd8"
    assert decoded.shape == (40, 30, 3)
    assert np.abs(decoded.astype(int) - crop.astype(int)).max() <= 4
    with pytest.raises(ValueError, match="quality"):
        video.encode_jpeg(crop, quality=0)
    with pytest.raises(video.FrameSourceError, match="empty"):
        video.encode_jpeg(crop[:0])


def test_annotate_draws_on_a_copy_in_the_zone_colour() -> None:
    frame = np.zeros((100, 100, 3), dtype=np.uint8)
    swimmer = Detection("swimmer", 0.9, BBox(20, 30, 60, 70), track_id=4)

    out = video.annotate(frame, [swimmer], zones={4: "deep_water"})

    assert frame.max() == 0
    assert tuple(out[50, 20]) == (0, 0, 255)  # left edge of the box, red for deep water
    assert tuple(out[50, 40]) == (0, 0, 0)  # inside stays untouched


def test_video_writer_writes_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "annotated.avi"

    with video.OpenCvVideoWriter(path, fps=5.0, fourcc="MJPG") as writer:
        for i in range(4):
            writer.write(np.full((48, 64, 3), 40 * i, dtype=np.uint8))

    frames = list(video.OpenCvFrameSource(path))
    assert writer.frames_written == 4
    assert len(frames) == 4
    assert [round(t, 3) for _i, t, _f in frames] == [0.0, 0.2, 0.4, 0.6]


def _redirecting_servers() -> tuple[str, list[str], Any]:
    """A loopback HTTP server that redirects every request to a second loopback server,
    which records what reaches it. Returns (url, hits, stop)."""
    import http.server
    import socketserver
    import threading

    hits: list[str] = []

    class Target(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    target = socketserver.TCPServer(("127.0.0.1", 0), Target)
    target_port = target.server_address[1]

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target_port}/inside")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirect = socketserver.TCPServer(("127.0.0.1", 0), Redirect)
    servers = (target, redirect)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        for server in servers:
            server.shutdown()
            server.server_close()

    return f"http://127.0.0.1:{redirect.server_address[1]}/live.mp4", hits, stop


def test_a_stream_redirect_is_not_followed_unless_asked() -> None:
    url, hits, stop = _redirecting_servers()
    try:
        with pytest.raises(DetectionError, match="cannot open"):
            video.OpenCvFrameSource(url)
        refused_hits = list(hits)
        with pytest.raises(DetectionError, match="cannot open"):  # the target has no video
            video.OpenCvFrameSource(url, follow_redirects=True)
    finally:
        stop()

    assert refused_hits == []  # the redirect's target was never contacted
    assert hits == ["/inside"]  # it is reached only when redirects are followed
