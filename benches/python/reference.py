"""Python reference pipeline for benches/versus_python.rs: the same work as `headcount replay`,
done the way Coral's Python examples do it, with the LiteRT interpreter from PyPI.

Frames come from the same ffmpeg command headcount uses (scaled to the model input, rgb24), so
both see identical pixels; then numpy, invoke, person filter and the same class-agnostic NMS.
Prints one JSON document: per-frame counts, frames, seconds.
"""
import json
import subprocess
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

video, model, threads, threshold, iou_max, contain_max = sys.argv[1:7]
threads, threshold = int(threads), float(threshold)
iou_max, contain_max = float(iou_max), float(contain_max)

interpreter = Interpreter(model_path=model, num_threads=threads)
interpreter.allocate_tensors()
inp = interpreter.get_input_details()[0]
_, h, w, _ = inp["shape"]
outs = interpreter.get_output_details()
by_name = {o["name"]: o["index"] for o in outs}
boxes_i = by_name["TFLite_Detection_PostProcess"]
classes_i = by_name["TFLite_Detection_PostProcess:1"]
scores_i = by_name["TFLite_Detection_PostProcess:2"]
count_i = by_name["TFLite_Detection_PostProcess:3"]


def suppress(dets):
    dets.sort(key=lambda d: -d[0])
    kept = []
    for s, b in dets:
        ok = True
        for _, k in kept:
            iw = max(0.0, min(b[3], k[3]) - max(b[1], k[1]))
            ih = max(0.0, min(b[2], k[2]) - max(b[0], k[0]))
            inter = iw * ih
            area_b = max(0.0, b[3] - b[1]) * max(0.0, b[2] - b[0])
            area_k = max(0.0, k[3] - k[1]) * max(0.0, k[2] - k[0])
            union = area_b + area_k - inter
            iou = inter / union if union > 0 else 0.0
            smaller = min(area_b, area_k)
            if iou > iou_max or (smaller > 0 and inter / smaller > contain_max):
                ok = False
                break
        if ok:
            kept.append((s, b))
    return kept


ffmpeg = subprocess.Popen(
    ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-xerror", "-i", video,
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
    frame = np.frombuffer(raw, dtype=np.uint8).reshape(1, h, w, 3)
    interpreter.set_tensor(inp["index"], frame)
    interpreter.invoke()
    boxes = interpreter.get_tensor(boxes_i)[0]
    classes = interpreter.get_tensor(classes_i)[0]
    scores = interpreter.get_tensor(scores_i)[0]
    n = int(interpreter.get_tensor(count_i)[0])
    dets = []
    for i in range(min(n, len(scores))):
        if int(round(classes[i])) == 0 and scores[i] >= threshold:
            b = np.clip(boxes[i], 0.0, 1.0)
            if (b[2] - b[0]) * (b[3] - b[1]) > 0:
                dets.append((float(scores[i]), [float(v) for v in b]))
    counts.append(len(suppress(dets)))
seconds = time.perf_counter() - start
ffmpeg.wait()
print(json.dumps({"frames": len(counts), "seconds": seconds, "counts": counts}))
