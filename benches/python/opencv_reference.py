"""The pipeline a Python user writes today, for benches/versus_python.rs: OpenCV reads and
resizes the video, the LiteRT interpreter from PyPI runs the model (ssd_litert.py: the same
threshold and suppression as headcount). No ffmpeg child: OpenCV decodes in-process (its own
bundled FFmpeg).

Prints one JSON document: per-frame counts, frames, seconds.
"""
import json
import time

import cv2

from ssd_litert import Ssd

ssd = Ssd()
capture = cv2.VideoCapture(ssd.video)
counts = []
start = time.perf_counter()
while True:
    ok, bgr = capture.read()
    if not ok:
        break
    small = cv2.resize(bgr, (ssd.width, ssd.height), interpolation=cv2.INTER_AREA)
    counts.append(ssd.people(cv2.cvtColor(small, cv2.COLOR_BGR2RGB)))
seconds = time.perf_counter() - start
capture.release()
print(json.dumps({"frames": len(counts), "seconds": seconds, "counts": counts}))
