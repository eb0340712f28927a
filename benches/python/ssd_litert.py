"""What both Python references share: their arguments, the LiteRT interpreter from PyPI on the
SSD, and the people it finds in one frame (threshold, then the same class-agnostic suppression
as headcount: IoU or containment)."""
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


class Ssd:
    def __init__(self):
        video, model, threads, threshold, iou_max, contain_max = sys.argv[1:7]
        self.video = video
        self.threshold = float(threshold)
        self.iou_max, self.contain_max = float(iou_max), float(contain_max)
        self.interpreter = Interpreter(model_path=model, num_threads=int(threads))
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        _, self.height, self.width, _ = self.input["shape"]
        outs = {o["name"]: o["index"] for o in self.interpreter.get_output_details()}
        self.outputs = [outs["TFLite_Detection_PostProcess" + s] for s in ("", ":1", ":2", ":3")]

    def overlaps(self, b, k):
        iw = max(0.0, min(b[3], k[3]) - max(b[1], k[1]))
        ih = max(0.0, min(b[2], k[2]) - max(b[0], k[0]))
        inter = iw * ih
        area_b = (b[3] - b[1]) * (b[2] - b[0])
        area_k = (k[3] - k[1]) * (k[2] - k[0])
        union = area_b + area_k - inter
        smaller = min(area_b, area_k)
        return (union > 0 and inter / union > self.iou_max) or (
            smaller > 0 and inter / smaller > self.contain_max
        )

    def people(self, rgb):
        """How many people in `rgb` (height × width × 3, uint8, the model's input size)."""
        self.interpreter.set_tensor(self.input["index"], rgb[np.newaxis])
        self.interpreter.invoke()
        boxes, classes, scores, n = (self.interpreter.get_tensor(i)[0] for i in self.outputs)
        found = sorted(
            (
                (float(scores[i]), np.clip(boxes[i], 0.0, 1.0))
                for i in range(min(int(n), len(scores)))
                if int(round(classes[i])) == 0 and scores[i] >= self.threshold
            ),
            key=lambda d: -d[0],
        )
        kept = []
        for _, b in found:
            if (b[2] - b[0]) * (b[3] - b[1]) > 0 and not any(self.overlaps(b, k) for k in kept):
                kept.append(b)
        return len(kept)
