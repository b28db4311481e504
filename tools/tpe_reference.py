#!/usr/bin/python3
# Writes tests/data/tpe_reference.txt: Optuna 3.1's TPE internals for small
# fixed histories (Debian's python3-optuna), read by tests/test_search.c:
#   - the Parzen estimators (weights, mus, sigmas, log densities) of
#     _ParzenEstimator with TPESampler's default parameters, per kind;
#   - the split into below/above of _get_observation_pairs (constant liar)
#     and _split_observation_pairs on a study with complete, pruned and
#     running trials.
# Optuna 3.1's _truncnorm.logpdf leaves out the -log(scale) of a scaled
# density (optuna/optuna#5109, fixed by #5110 in Optuna 3.5); lrscope uses the
# fixed density, so the reference is computed with that fix patched in.
# Run from the repository: tools/tpe_reference.py > tests/data/tpe_reference.txt
import numpy as np
import optuna
from optuna import distributions as D
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import (_get_observation_pairs, _split_observation_pairs,
                                          default_gamma, default_weights)
from optuna.trial import TrialState, create_trial

import optuna.samplers._tpe._truncnorm as _truncnorm

_logpdf_3_1 = _truncnorm.logpdf


def _logpdf_fixed(x, a, b, loc=0, scale=1):  # optuna/optuna#5110
    return _logpdf_3_1(x, a, b, loc, scale) - np.log(scale)


_truncnorm.logpdf = _logpdf_fixed

PARAMS = _ParzenEstimatorParameters(consider_prior=True, prior_weight=1.0, consider_magic_clip=True,
                                    consider_endpoints=False, weights=default_weights, multivariate=False)


def row(tag, xs):
    print(tag, len(xs), " ".join("%.17g" % x for x in xs))


# (the C test's --space spec, Optuna's distribution, observations, points for log_pdf)
rng = np.random.RandomState(7)
CASES = [
    ("momentum=uniform:0:1", D.FloatDistribution(0, 1), [0.5, 0.1, 0.93, 0.42], [0.0, 0.3, 0.77, 1.0]),
    ("lr=loguniform:0.0001:1", D.FloatDistribution(1e-4, 1, log=True),
     [0.01, 0.003, 0.2, 0.0005, 0.05, 0.9], [1e-4, 0.002, 0.04, 0.7]),
    ("batch_size=int:1:10", D.IntDistribution(1, 10), [3, 7, 4, 9], [1, 4, 5, 10]),
    ("batch_size=int:1:64:log", D.IntDistribution(1, 64, log=True), [2, 16, 5, 40], [1, 3, 17, 64]),
    ("optimizer=categorical:sgd,adam,adamw", D.CategoricalDistribution(["sgd", "adam", "adamw"]),
     [0, 2, 2, 1, 2], [0, 1, 2]),
    # more than 25 observations: the ramp of default_weights; distinct values
    ("momentum=uniform:0:1", D.FloatDistribution(0, 1), list(rng.permutation(40) / 40.0 + 0.0123),
     [0.05, 0.5, 0.95]),
    # no observation: the prior alone
    ("lr=loguniform:0.0001:1", D.FloatDistribution(1e-4, 1, log=True), [], [0.001, 0.5]),
]
for spec, dist, obs, pts in CASES:
    pe = _ParzenEstimator({"x": np.asarray(obs, dtype=float)}, {"x": dist}, PARAMS)
    print("parzen", spec)
    row("obs", obs)
    row("weights", pe._weights)
    if isinstance(dist, D.CategoricalDistribution):
        row("cw", pe._categorical_weights["x"].ravel())
    else:
        row("mus", pe._mus["x"])
        row("sigmas", pe._sigmas["x"])
    row("points", pts)
    cat = isinstance(dist, D.CategoricalDistribution)
    row("logpdf", pe.log_pdf({"x": np.asarray(pts, dtype=int if cat else float)}))

# The split. Trials: (state, value or intermediate values).
dist = D.FloatDistribution(0, 1)
optuna.logging.set_verbosity(optuna.logging.WARNING)
SPLIT = [
    ("complete", 0.61, None), ("complete", 0.72, None), ("pruned", None, [0.3, 0.35]),
    ("complete", 0.55, None), ("running", None, None), ("pruned", None, [0.5, 0.6, 0.8]),
    ("complete", 0.80, None), ("pruned", None, [0.4]), ("complete", 0.66, None),
    ("pruned", None, [0.2, 0.9, 0.1]), ("complete", 0.70, None), ("running", None, None),
    ("complete", 0.75, None), ("pruned", None, [0.45]), ("complete", 0.58, None),
    ("complete", 0.79, None), ("pruned", None, [0.1, 0.7]), ("complete", 0.62, None),
    ("complete", 0.81, None), ("complete", 0.64, None), ("pruned", None, [0.5, 0.65]),
    ("complete", 0.69, None),
]
# Mostly pruned: which pruned trials join the below set (more epochs first, then the value).
SPLIT2 = [
    ("pruned", None, [0.3, 0.35]), ("pruned", None, [0.5, 0.6, 0.8]), ("complete", 0.40, None),
    ("pruned", None, [0.4]), ("pruned", None, [0.2, 0.9, 0.7]), ("running", None, None),
    ("pruned", None, [0.45]), ("pruned", None, [0.1, 0.7]), ("pruned", None, [0.5, 0.65, 0.75]),
    ("pruned", None, [float("nan")]), ("pruned", None, []), ("pruned", None, [0.3, 0.2, 0.1]),
    ("pruned", None, [0.9, 0.95]), ("running", None, None), ("pruned", None, [0.5, 0.5, 0.79]),
    ("pruned", None, [0.2, 0.3, 0.2]), ("pruned", None, [0.6, 0.7]), ("pruned", None, [0.6, 0.7, 0.6]),
    ("pruned", None, [0.6, 0.7, 0.1]), ("pruned", None, [0.6, 0.7, 0.2]), ("pruned", None, [0.6, 0.7, 0.3]),
    ("pruned", None, [0.6, 0.7, 0.4]), ("complete", 0.30, None),
]
for direction, trials in (("maximize", SPLIT), ("minimize", SPLIT), ("maximize", SPLIT2), ("minimize", SPLIT2)):
    study = optuna.create_study(direction=direction)
    for i, (state, value, inter) in enumerate(trials):
        kw = dict(params={"x": i / 100.0}, distributions={"x": dist})
        if state == "complete":
            t = create_trial(state=TrialState.COMPLETE, value=value, **kw)
        elif state == "pruned":
            t = create_trial(state=TrialState.PRUNED, intermediate_values={e + 1: v for e, v in enumerate(inter)},
                             **kw)
        else:
            t = create_trial(state=TrialState.RUNNING, **kw)
        study.add_trial(t)
    values, scores, violations = _get_observation_pairs(study, ["x"], constant_liar=True)
    n = sum(s < float("inf") for s, v in scores)
    below, above = _split_observation_pairs(scores, default_gamma(n), violations)
    print("split", direction, len(trials))
    for state, value, inter in trials:
        vals = [value] if state == "complete" else (inter or [])
        print(state, len(vals), " ".join("%.17g" % v for v in vals))
    row("below", below)
    row("above", above)
