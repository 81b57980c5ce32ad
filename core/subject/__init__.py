"""Select Subject and friends: the stages, one module each, called in order.

    image ──resize──▶ working image ──model views──▶ coarse mask ──▶ auto-trimap
          ──refine (none | fast | best)──▶ working alpha ──guided upsampling──▶ alpha
          ──edge controls──▶ alpha ──blur fusion──▶ decontaminated foreground

Heavy solvers run at a bounded working resolution; the result is brought back
to the input's size edge-aware (the guided filter's linear model, fitted at the
working size and applied to the full-size image), never by a plain upscale.

- :mod:`core.subject.options`: :class:`~core.subject.options.MatteOptions` (what Select Subject
  should produce), the refinement modes, their working sizes and the trimap's band;
- :mod:`core.subject.working`: the working resolution: its size, resizing to it, guided
  upsampling back to the input's size;
- :mod:`core.subject.stopwatch`: stage timings and the progress callback;
- :mod:`core.subject.coarse`: the model stage (the working image, the model's views);
- :mod:`core.subject.trimap`: the trimaps (Select Subject's, fitted to the unknown budget, at the
  image's size, around a rough selection);
- :mod:`core.subject.refine`: the refine stage (the solver guided by the model's matte, then
  upsampling, edges and colours);
- :mod:`core.subject.finish`: edge controls and decontamination on a full-size matte (also what
  re-adjusting an earlier result runs);
- :mod:`core.subject.result`: :class:`~core.subject.result.Matte` and when it is flagged
  ``low_confidence``;
- :mod:`core.subject.select`: :func:`~core.subject.select.select_subject`, both stages in one call;
- :mod:`core.subject.selection`: alpha from a user's trimap or rough selection.
"""
