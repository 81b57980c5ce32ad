"""The random walker with a prior (Grady 2005, "Multilabel random walker image segmentation using
prior models"): each pixel's probability of being object, as the chance that a random walk from it,
steered by the image's contrast, meets an object seed before a background seed, pulled towards a
prior where the prior is given weight.

It minimises Σ w_ij (x_i − x_j)² + Σ c_i (x_i − p_i)² with x = 1 on the object seeds and 0 on the
background seeds, w_ij = exp(−β |I_i − I_j|²) between 8-neighbours (the diagonal ones / √2) and β =
1 / (2 · mean |ΔI|²) over the 4-neighbours, as GrabCut's smoothness term sets it. Unlike a graph
cut's colour models, a walk spreads a click over the region it sits in and stops at that region's
edges: a negative click inside a wrong object takes the object away, whatever its colour.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from core.alpha._solve import solve_spd

LINK_FLOOR = 1e-6
"""Added to every link's weight, so that the graph stays connected across the sharpest edge."""


def contrast_links(image: np.ndarray) -> scipy.sparse.csr_matrix:
    """(n, n) symmetric weights w_ij between 8-neighbours of ``image`` ((h, w, 3) float in [0, 1]),
    n = h·w, pixels in row-major order."""
    height, width = image.shape[:2]
    index = np.arange(height * width).reshape(height, width)
    colours = image.astype(np.float64)
    whole, head, tail = slice(None), slice(1, None), slice(None, -1)
    pairs = [((whole, head), (whole, tail), 1.0), ((head, whole), (tail, whole), 1.0),
             ((head, head), (tail, tail), 0.5 ** 0.5), ((head, tail), (tail, head), 0.5 ** 0.5)]
    squared = [((colours[a] - colours[b]) ** 2).sum(-1).ravel() for a, b, _ in pairs]
    straight = np.concatenate(squared[:2])
    beta = 1.0 / (2.0 * float(straight.mean()) + 1e-12) if straight.size else 0.0
    first = np.concatenate([index[a].ravel() for a, _, _ in pairs])
    second = np.concatenate([index[b].ravel() for _, b, _ in pairs])
    weights = np.concatenate([k * np.exp(-beta * d) + LINK_FLOOR for (_, _, k), d in zip(pairs, squared)])
    return scipy.sparse.coo_matrix((np.r_[weights, weights], (np.r_[first, second], np.r_[second, first])),
                                   shape=(height * width,) * 2).tocsr()


def random_walk(image: np.ndarray, prior: np.ndarray, weight: np.ndarray, object_seeds: np.ndarray,
                background_seeds: np.ndarray) -> np.ndarray:
    """(h, w) float32 in [0, 1]: each pixel's probability of being object.

    image: (h, w, 3) float in [0, 1] RGB; prior: (h, w) float in [0, 1], the probable object;
    weight: (h, w) float >= 0, how strongly each pixel is pulled to the prior (0: not at all);
    object_seeds, background_seeds: (h, w) bool, pixels held at 1 and at 0 (object wins where both).
    With neither seeds nor weight anywhere the answer is the prior.
    """
    height, width = prior.shape
    pull = np.asarray(weight, np.float64).ravel()
    seeds_object = np.asarray(object_seeds, bool).ravel()
    fixed = seeds_object | np.asarray(background_seeds, bool).ravel()
    if not fixed.any() and not pull.any():  # nothing to go by (and a system without a unique answer)
        return np.clip(prior, 0.0, 1.0).astype(np.float32)
    links = contrast_links(image)
    degree = np.asarray(links.sum(axis=1)).ravel()
    system = (scipy.sparse.diags(degree + pull) - links).tocsr()
    answer = seeds_object.astype(np.float64)
    free = ~fixed
    if free.any():
        rows = system[free]
        inner = rows[:, free]
        rhs = pull[free] * np.asarray(prior, np.float64).ravel()[free] - rows[:, fixed] @ answer[fixed]
        answer[free] = solve_spd(inner, rhs, preconditioner_of=inner, rtol=1e-5, discard_threshold=1e-3)
    return np.clip(answer, 0.0, 1.0).reshape(height, width).astype(np.float32)
