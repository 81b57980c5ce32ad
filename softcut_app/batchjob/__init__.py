"""``softcut batch``: a whole folder (or list file, or fsspec URL) cut out into an output folder, resumably.

The parts that are not the command line:

- :mod:`.job`: the job (cut's options, a key over what changes the outputs) and :class:`.job.Cutter`,
  which holds one model session and turns one input into its files and a manifest record;
- :mod:`.sources`: the inputs, listed lazily (a folder searched recursively, a list file, a URL);
- :mod:`.manifest`: the JSON Lines record in the output folder, and the lock that keeps one run per folder;
- :mod:`.storage`: output folders given as fsspec URLs, and writing every file atomically (temporary name, move);
- :mod:`.local`: a pool of worker processes on this machine, each with one session, with bounded queues;
- :mod:`.on_ray`: the same job through Ray Data (an optional extra, ``softcut[ray]``).
"""
