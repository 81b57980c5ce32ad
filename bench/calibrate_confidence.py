"""How well ``Matte.low_confidence`` finds wrong results: Select Subject (best) on every 4th
ECSSD photo, counting flagged photos among those with IoU < 0.8 and those with IoU >= 0.9.

    python bench/calibrate_confidence.py MODEL_CACHE_DIR [ECSSD_DIR]
"""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from core.eval import folder
from core.eval.cache import CachedPredict
from core.imageio import load_image
from core.models.session import open_session
from core.subject.options import MatteOptions
from core.subject.select import select_subject
s = open_session("isnet", device="cpu")
predict = CachedPredict(s.predict, Path(sys.argv[1]).expanduser(), f"{s.name}|{s.spec.sha256}")
plan = folder.plan(Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "shared/data/ecssd", methods=("best",), every=4)
rows = []
for pair in plan.pairs:
    img = load_image(pair.image); gt = folder.load_mask(pair.gt) > 128
    m = select_subject(img, predict, MatteOptions(decontaminate=0.0))
    p = m.alpha >= 0.5
    iou = (p & gt).sum() / max(1, (p | gt).sum())
    rows.append((pair.name, iou, m.low_confidence, m.confidence))
iou = np.array([r[1] for r in rows]); flag = np.array([r[2] for r in rows])
bad, good = iou < 0.8, iou >= 0.9
print(f"bad {bad.sum()} flagged {flag[bad].sum()} ({flag[bad].mean():.2f}); good {good.sum()} flagged {flag[good].sum()} ({flag[good].mean():.3f}); all flagged {flag.sum()}")
print("missed bad:", [(r[0], round(r[1],2), round(r[3],2)) for r in rows if r[1] < 0.8 and not r[2]])
