"""The suite's results cache: one results.json per (data set, seed) folder,
so that a rerun computes only the models it lacks (bench/suite.py,
bench/suite_classes.py)."""
import json
import os


def cached_results(workdir, fresh, models, reel_models, references, compute, heading):
    """The results in workdir, completed by compute(want_reel, want_refs)
    (a dict per model) for the models asked for and not yet there."""
    os.makedirs(workdir, exist_ok=True)
    cache = os.path.join(workdir, "results.json")
    res = {}
    if os.path.exists(cache) and not fresh:
        with open(cache) as f:
            res = json.load(f)
    want_reel = [m for m in models if m in reel_models and m not in res]
    want_refs = [m for m in models if m in references and m not in res]
    if not want_reel and not want_refs:
        return res
    print(heading, flush=True)
    res.update(compute(want_reel, want_refs))
    with open(cache + ".part", "w") as f:
        json.dump(res, f, indent=1)
    os.replace(cache + ".part", cache)
    return res
