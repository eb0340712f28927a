"""Python reference pipeline for benches/versus_python.rs: the same work as `headcount replay`,
done the way Coral's Python examples do it, with the LiteRT interpreter from PyPI
(ssd_litert.py: the same threshold and suppression as headcount).

Frames come from the same ffmpeg command headcount uses (scaled to the model input, rgb24), so
both see identical pixels and per-frame counts can be compared exactly.
Prints one JSON document: per-frame counts, frames, seconds.
"""
import json
import subprocess
import time

import numpy as np

from ssd_litert import Ssd

ssd = Ssd()
w, h = ssd.width, ssd.height
ffmpeg = subprocess.Popen(
    ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-xerror", "-i", ssd.video,
     "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", f"scale={w}:{h}:flags=area",
     "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"],
    stdout=subprocess.PIPE,
)
frame_bytes = w * h * 3
counts = []
start = time.perf_counter()
while True:
    raw = ffmpeg.stdout.read(frame_bytes)
    if len(raw) < frame_bytes:
        break
    counts.append(ssd.people(np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)))
seconds = time.perf_counter() - start
ffmpeg.wait()
print(json.dumps({"frames": len(counts), "seconds": seconds, "counts": counts}))
