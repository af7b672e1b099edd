# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""A training recipe for small corpora: nested, speaker-independent CV (#21).

Compares, on EmoDB, URDU and nEMO (eGeMAPS functionals, 4 classes), a
randomly searched feed-forward network with logistic regression and an RBF
SVM tuned the same way, under global and per-speaker normalisation, and then
re-measures the transfer methods on top of the chosen network settings.

Every number is nested: the outer folds hold out speakers
(:class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold`,
``protocol='speaker_independent'``); hyperparameters are chosen on inner
speaker-independent folds of the outer training speakers only, then refitted
on all of them. The network is searched in two stages on the same inner
folds: the best of ``--n-configs`` random configurations, then whether an
ensemble of ``3`` seeds (averaged probabilities) beats one seed.

Phases (``--phase``), each resumable (results are appended per outer fold to
CSV files in ``--out``; a finished fold is never recomputed):

- ``search``: linear baselines and the network search, every corpus;
- ``choose``: the rule that picks ``SMALL_CORPUS`` from the inner scores;
- ``fixed``: the paper's network and the preset in the same outer folds;
- ``transfer``: DNN, PT/FT, ProgNet and residual adapter (speaker source
  task) with the preset, on EmoDB, speaker normalisation;
- ``report``: the table (reST) and the figure of the docs page, written in
  ``--out`` (``small_corpus_table.txt``, ``small_corpus_transfer.txt``,
  ``small_corpus_uar.png``); ``--write-docs`` overwrites the docs' own
  files instead (``docs/user_guide/small_corpus_table.txt``,
  ``docs/user_guide/small_corpus_transfer.txt``,
  ``docs/_static/small_corpus_uar.png``).

The networks are trained with the batched engine (``--engine batched``,
:func:`~sklearn_prognet.model_selection.fit_batched`): all outer x inner
folds (x seeds) of a configuration are one stack; ``--engine per-fit``
fits them one at a time, for timing. ``timing.csv`` holds every call's wall
time. A search call covers all unfinished outer folds of a cell (corpus,
normalisation), which is what a resumed run recomputes.

Run it with ``python benchmarks/study_small_corpus.py --phase all``: the
results go to ``results/study_small_corpus`` (``--out``), and nothing under
``docs/`` changes unless ``--write-docs`` is given.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
    SpeakerStandardScaler,
)
from sklearn_prognet.experiments import load_corpus
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold, fit_batched
from sklearn_prognet.presets import (
    PAPER,
    SMALL_CORPUS,
    SMALL_CORPUS_SEARCH_SPACE,
    draw_candidates,
    nested_search_recipe,
)
from sklearn_prognet.stats import corrected_repeated_cv_ttest

# What the network search draws from (uniformly, independently): the space
# that SMALL_CORPUS was chosen from, declared with the search in the library.
SPACE = SMALL_CORPUS_SEARCH_SPACE
ENSEMBLE_SIZE = 3
LINEAR_GRIDS = {
    "logreg": [{"C": c} for c in (0.001, 0.01, 0.1, 1.0, 10.0)],
    # gamma as a multiple of 1 / n_features, the 'scale' of standardised input
    "svm": [{"C": c, "gamma": g} for c in (0.1, 1.0, 10.0) for g in (0.3, 1.0, 3.0)],
}
# ``--space wide``: more values of every dimension, for the fuller study
# that the batched engine makes affordable. The default space is the one
# SMALL_CORPUS was chosen from (its draws stay reproducible).
WIDE_SPACE = {
    "hidden_layer_sizes": [
        (64,),
        (128,),
        (256,),
        (512,),
        (64, 64),
        (128, 128),
        (256, 128),
        (256, 256),
        (128, 128, 128),
    ],
    "activation": ["relu", "tanh", "sigmoid"],
    "dropout": [0.0, 0.1, 0.3, 0.5],
    "input_dropout": [0.0, 0.1, 0.2, 0.3],
    "weight_decay": [0.0, 0.001, 0.01, 0.1, 0.3],
    "input_noise": [0.0, 0.05, 0.1, 0.3, 0.5],
    "label_smoothing": [0.0, 0.05, 0.1, 0.2],
    "lr": [0.0001, 0.0003, 0.001, 0.003, 0.01],
    "batch_size": [32, 64, 128, 256],
    "max_epochs": [25, 50, 100, 200],
    "early_stopping": [True, False],
    "patience": [10, 20, 50, 100],
    "validation_fraction": [0.1, 0.3],
}
WIDE_LINEAR_GRIDS = {
    "logreg": [{"C": c} for c in (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0)],
    "svm": [
        {"C": c, "gamma": g}
        for c in (0.1, 1.0, 10.0, 100.0)
        for g in (0.1, 0.3, 1.0, 3.0)
    ],
}


def linear_grids(args):
    """The linear models' grids of ``--space``."""
    return WIDE_LINEAR_GRIDS if args.space == "wide" else LINEAR_GRIDS


CORPORA = ("emodb", "urdu", "nemo")
NORMALISATIONS = ("global", "speaker")


def load(name, root, cache_dir):
    """Features, labels and speakers of a corpus, as numpy arrays."""
    spec = {
        "emodb": "emodb",
        "urdu": f"urdu:{root}/urdu",
        "nemo": f"{root}/nemo/nemo_egemaps.csv.gz",
    }[name]
    resample = 16000 if name == "urdu" else None
    corpus = load_corpus(spec, resample=resample, cache_dir=cache_dir)
    return (
        np.asarray(corpus.X, dtype=np.float64),
        np.asarray(corpus.emotion),
        np.asarray(corpus.speaker).astype(str),
    )


def speaker_normalised(X, speakers):
    """Per-speaker z-scores (each speaker's own statistics, no labels used)."""
    frame = pd.DataFrame(X)
    frame.columns = [f"f{i}" for i in range(X.shape[1])]
    frame["speaker"] = speakers
    return np.asarray(SpeakerStandardScaler().fit_transform(frame), dtype=np.float64)


def scaled(X, train, test, normalisation):
    """``X[train], X[test]``, standardised on ``X[train]`` for 'global'.

    For 'speaker', ``X`` is already normalised per speaker: it uses every
    speaker's own (unlabelled) data, the usual per-speaker normalisation.
    """
    if normalisation == "speaker":
        return X[train], X[test]
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[test])


def folds(y, speakers, n_splits, seed):
    """Speaker-independent, class-stratified folds."""
    cv = RepeatedStratifiedGroupKFold(n_splits=n_splits, n_repeats=1, random_state=seed)
    return list(cv.split(np.zeros((len(y), 1)), y, speakers))


def draw_configs(n_configs, max_epochs, seed=0, space=None):
    """``n_configs`` network settings drawn from ``space``, the same every run.

    ``space`` defaults to ``SPACE``; :func:`~sklearn_prognet.presets.draw_candidates`
    draws them, and ``max_epochs`` caps their epochs.
    """
    configs = draw_candidates(space, n_configs, random_state=seed)
    return [{**c, "max_epochs": min(c["max_epochs"], max_epochs)} for c in configs]


def fit_networks(models, fits, args):
    """Fit networks on their fit arguments; return them, fitted.

    With ``--engine batched`` (the default) the networks that the batched
    engine trains go to one :func:`~sklearn_prognet.model_selection.fit_batched`
    call, which stacks every configuration's networks (all outer folds x
    inner folds x seeds of it) into one model axis; the others
    (the residual adapter) and ``--engine per-fit`` fit one at a time in
    ``--n-jobs`` processes of one torch thread each.
    """
    fits = [{**fit, "X": np.asarray(fit["X"], dtype=np.float32)} for fit in fits]
    batched = [
        i
        for i, model in enumerate(models)
        if args.engine == "batched" and not isinstance(model, ResidualAdapterClassifier)
    ]
    if batched:
        fit_batched(
            [models[i] for i in batched], [fits[i] for i in batched], n_jobs=args.n_jobs
        )
    rest = [i for i in range(len(models)) if i not in set(batched)]
    fitted = joblib.Parallel(n_jobs=args.n_jobs)(
        joblib.delayed(_fit_one)(models[i], fits[i]) for i in rest
    )
    for i, model in zip(rest, fitted, strict=True):
        models[i] = model
    return models


def _fit_one(model, fit):
    torch.set_num_threads(1)  # small networks: threads only contend
    warnings.filterwarnings("ignore", category=UserWarning)
    return model.fit(**fit)


def mean_proba(models, X):
    """The mean class probabilities of fitted networks (a seed ensemble)."""
    X = np.asarray(X, dtype=np.float32)
    return np.mean([model.predict_proba(X) for model in models], axis=0)


def linear_model(kind, params, n_features):
    """A logistic regression or an RBF SVM with the grid's parameters."""
    if kind == "logreg":
        return LogisticRegression(C=params["C"], max_iter=5000)
    return SVC(C=params["C"], gamma=params["gamma"] / n_features)


def inner_scores(fit_predict, candidates, data, inner_folds, normalisation):
    """Mean inner-fold UAR of every candidate, and the probabilities.

    ``fit_predict(candidate, X_train, y_train, g_train, X_test)`` returns
    ``(labels or proba, classes or None)``.
    """
    X, y, g = data
    scores = np.zeros((len(candidates), len(inner_folds)))
    kept = {}
    for j, (train, test) in enumerate(inner_folds):
        X_train, X_test = scaled(X, train, test, normalisation)
        for i, candidate in enumerate(candidates):
            out, classes = fit_predict(candidate, X_train, y[train], g[train], X_test)
            pred = out if classes is None else classes[out.argmax(axis=1)]
            scores[i, j] = uar_score(y[test], pred)
            kept[i, j] = out
    return scores.mean(axis=1), kept


def tune_linear(kind, grid, data, inner_folds, normalisation):
    """The grid point with the best inner UAR, and all inner means."""
    n_features = data[0].shape[1]

    def fit_predict(params, X_train, y_train, g_train, X_test):
        model = linear_model(kind, params, n_features).fit(X_train, y_train)
        return model.predict(X_test), None

    means, _ = inner_scores(fit_predict, grid, data, inner_folds, normalisation)
    return grid[int(np.argmax(means))], means


def _uar(models, X_test, y_test):
    """The UAR of a seed ensemble (mean probabilities) of fitted networks."""
    proba = mean_proba(models, X_test)
    return uar_score(y_test, models[0].classes_[proba.argmax(axis=1)])


def search_networks(configs, data, splits, normalisation, args):
    """The network search of many outer folds at once; results by fold.

    :func:`~sklearn_prognet.presets.nested_search_recipe` with ``configs`` as
    its candidates: each outer fold's best configuration on inner
    speaker-independent folds of its training speakers, then whether an
    ensemble of ``--ensemble-size`` seeds beats one seed, refitted on the
    outer training speakers and scored on the held-out ones. All folds are
    trained together, in two calls of the batched engine. Under 'global'
    normalisation a scaler is fitted on each fit's training rows.
    """
    X, y, g = data
    network = DNNClassifier(random_state=0)
    estimator = (
        network
        if normalisation == "speaker"
        else make_pipeline(StandardScaler(), network)
    )
    nested = nested_search_recipe(
        estimator,
        X,
        y,
        groups=g,
        outer_cv=list(splits.values()),
        cv=RepeatedStratifiedGroupKFold(
            n_splits=args.inner, n_repeats=1, random_state=1
        ),
        search_space=configs,
        ensemble_size=args.ensemble_size,
        engine=args.engine,
        n_jobs=args.n_jobs,
    )
    results = {}
    for fold, uar, search in zip(
        splits, nested["test_score"], nested["search"], strict=True
    ):
        means = search.cv_results["mean_test_score"]
        rows = [{"candidate": i, "inner_uar": m} for i, m in enumerate(means)]
        rows.append({"candidate": "ensemble", "inner_uar": search.ensemble_score})
        chosen = {"config": search.best_index, "n_seeds": search.n_seeds}
        results[fold] = (float(uar), chosen, rows)
    return results


class Store:
    """Append-only CSV files of outer and inner results, for resuming."""

    KEY = ["corpus", "normalisation", "model", "fold"]

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.outer_path = self.folder / "outer.csv"
        self.inner_path = self.folder / "inner.csv"

    def outer(self):
        if not self.outer_path.exists():
            return pd.DataFrame(columns=[*self.KEY, "uar", "seconds", "chosen"])
        return pd.read_csv(self.outer_path)

    def inner(self):
        return pd.read_csv(self.inner_path) if self.inner_path.exists() else None

    def timing(self, cell, model, n_folds, seconds, args):
        """Record the wall time of one call (all its folds) in timing.csv."""
        row = {
            "corpus": cell[0],
            "normalisation": cell[1],
            "model": model,
            "n_folds": n_folds,
            "seconds": round(seconds, 2),
            "engine": args.engine,
            "n_jobs": args.n_jobs,
        }
        path = self.folder / "timing.csv"
        pd.DataFrame([row]).to_csv(
            path, mode="a", index=False, header=not path.exists()
        )

    def done(self, *key):
        outer = self.outer()
        row = (outer[self.KEY].astype(str) == [str(k) for k in key]).all(axis=1)
        return bool(row.any())

    def add(self, key, uar, seconds, chosen, inner_rows=()):
        # inner rows first: a fold counts as done once its outer row exists
        if inner_rows:
            frame = pd.DataFrame(
                [{**dict(zip(self.KEY, key, strict=True)), **r} for r in inner_rows]
            )
            frame.to_csv(
                self.inner_path,
                mode="a",
                index=False,
                header=not self.inner_path.exists(),
            )
        row = {
            **dict(zip(self.KEY, key, strict=True)),
            "uar": uar,
            "seconds": round(seconds, 1),
            "chosen": json.dumps(chosen),
        }
        pd.DataFrame([row]).to_csv(
            self.outer_path, mode="a", index=False, header=not self.outer_path.exists()
        )


def outer_fold_linear(kind, data, train, test, normalisation, args):
    """Tune a linear model on the training speakers, score on the test ones."""
    X, y, g = data
    inner = folds(y[train], g[train], args.inner, seed=1)
    sub = (X[train], y[train], g[train])
    grid = linear_grids(args)[kind]
    params, means = tune_linear(kind, grid, sub, inner, normalisation)
    X_train, X_test = scaled(X, train, test, normalisation)
    model = linear_model(kind, params, X.shape[1]).fit(X_train, y[train])
    rows = [{"candidate": i, "inner_uar": m} for i, m in enumerate(means)]
    return uar_score(y[test], model.predict(X_test)), params, rows


def transfer_network(method, params):
    """A transfer network from an unfitted source with the same settings."""
    source = DNNClassifier(**params)
    net = {
        "ptft": lambda: FineTunedClassifier(source=source, **params),
        "prognet": lambda: ProgressiveNetClassifier(sources=[source], **params),
        "adapter": lambda: ResidualAdapterClassifier(source=source, **params),
    }[method]()
    return net.set_params(random_state=0)


def fixed_networks(params, data, splits, normalisation, args, transfer=None):
    """Networks with fixed settings on many outer folds, in one call.

    ``transfer`` names the method ('ptft', 'prognet' or 'adapter', from an
    unfitted source trained on the speaker task), None a plain network.
    """
    X, y, g = data
    models, fits, tests = [], [], {}
    for fold, (train, test) in splits.items():
        X_train, X_test = scaled(X, train, test, normalisation)
        fits.append({"X": X_train, "y": y[train], "groups": g[train]})
        tests[fold] = (X_test, y[test])
        if transfer is None:
            models.append(DNNClassifier(**params, random_state=0))
            continue
        fits[-1]["source_y"] = g[train]  # the speaker source task
        models.append(transfer_network(transfer, params))
    fitted = fit_networks(models, fits, args)
    return {
        fold: (_uar([model], *tests[fold]), {}, [])
        for fold, model in zip(splits, fitted, strict=True)
    }


def run_cells(store, cell, data, models, run, args, per_fold=False):
    """Run ``run(model, splits)`` on the unfinished outer folds of a cell.

    ``splits`` maps outer folds to ``(train, test)``: all unfinished folds
    of a model at once (one batched call for networks), or one at a time
    with ``per_fold``. A fold's seconds are the call's, shared out equally.
    """
    corpus, normalisation = cell
    X, y, g = data
    splits = dict(enumerate(folds(y, g, args.outer, seed=0)))
    for model in models:
        pending = {
            fold: split
            for fold, split in splits.items()
            if not store.done(corpus, normalisation, model, fold)
        }
        chunks = [{f: s} for f, s in pending.items()] if per_fold else [pending]
        for chunk in [c for c in chunks if c]:
            start = time.perf_counter()
            results = run(model, chunk)
            seconds = time.perf_counter() - start
            store.timing(cell, model, len(chunk), seconds, args)
            for fold, (uar, chosen, rows) in results.items():
                key = (corpus, normalisation, model, fold)
                store.add(key, uar, seconds / len(chunk), chosen, rows)
                print(
                    *key,
                    f"UAR {uar:.3f}",
                    f"{seconds / len(chunk):.0f} s",
                    json.dumps(chosen),
                    flush=True,
                )


def choose_preset(inner, configs):
    """The rule behind ``SMALL_CORPUS``: best mean rank across corpora.

    Every configuration's inner-fold UAR is averaged over the outer folds of
    a corpus, under the normalisation whose best configuration scores higher
    on the inner folds (per-speaker, unless a corpus's speakers mostly speak
    one emotion, as in URDU, where it removes the emotion).
    Configurations are ranked within each corpus (1 = best) and the lowest
    mean rank over the corpora wins, ties going to the higher mean UAR. Only
    inner folds enter.
    """
    rows = inner[(inner["model"] == "dnn") & (inner["candidate"] != "ensemble")]
    means = rows.groupby(["corpus", "normalisation", "candidate"])["inner_uar"].mean()
    best = means.groupby(["corpus", "normalisation"]).max().unstack()
    chosen = best.idxmax(axis=1)
    rows = rows[rows["normalisation"] == rows["corpus"].map(chosen)]
    rows = rows.astype({"candidate": int})
    table = rows.pivot_table(index="candidate", columns="corpus", values="inner_uar")
    summary = pd.DataFrame(
        {
            "mean_rank": table.rank(ascending=False).mean(axis=1),
            "mean_uar": table.mean(axis=1),
        }
    ).join(table)
    summary = summary.sort_values(["mean_rank", "mean_uar"], ascending=[True, False])
    winner = int(summary.index[0])
    return dict(configs[winner]), summary


def summarise(outer):
    """Mean and standard deviation of the outer-fold UAR of every cell."""
    grouped = outer.groupby(["corpus", "model", "normalisation"])["uar"]
    return grouped.agg(["mean", "std", "count"]).reset_index()


MODEL_ORDER = [
    "logreg",
    "svm",
    "paper",
    "dnn",
    "preset",
    "preset-ptft",
    "preset-prognet",
    "preset-adapter",
]


def format_table(summary):
    """A reST list-table: one row per model, one column per corpus x norm."""
    cols = [(c, n) for c in CORPORA for n in NORMALISATIONS]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - model"]
    lines += [
        f"     - {c} {'per-spk' if n == 'speaker' else 'global'}" for c, n in cols
    ]
    cells = summary.set_index(["model", "corpus", "normalisation"])
    for model in [m for m in MODEL_ORDER if m in set(summary["model"])]:
        lines.append(f"   * - {model}")
        for corpus, norm in cols:
            key = (model, corpus, norm)
            if key in cells.index:
                m, s = cells.loc[key, "mean"], cells.loc[key, "std"]
                lines.append(f"     - {m:.3f} ± {s:.3f}")
            else:
                lines.append("     - ")
    return "\n".join(lines) + "\n"


def transfer_rows(outer, corpus, n_outer):
    """Each transfer method against the preset DNN: mean, difference, p.

    Paired over the outer folds, with the corrected t-test (the training
    speakers of the folds overlap: ``n_test / n_train = 1 / (k - 1)``).
    """
    part = outer[(outer["corpus"] == corpus) & (outer["normalisation"] == "speaker")]
    table = part.pivot_table(index="fold", columns="model", values="uar")
    rows = []
    if "preset" not in table:
        return []
    compared = ["logreg", "svm", "preset-ptft", "preset-prognet", "preset-adapter"]
    for model in [m for m in compared if m in table]:
        pair = table[["preset", model]].dropna()
        test = corrected_repeated_cv_ttest(
            pair[model], pair["preset"], n_train=n_outer - 1, n_test=1
        )
        diff = float((pair[model] - pair["preset"]).mean())
        rows.append((model, float(pair[model].mean()), diff, float(test.pvalue)))
    return rows


def format_transfer(rows, corpus):
    """The transfer comparison as a reST list-table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    lines += [
        f"   * - {corpus}, per-speaker z-norm",
        "     - UAR",
        "     - minus preset DNN",
        "     - p (corrected t-test)",
    ]
    for model, mean, diff, pvalue in rows:
        lines += [
            f"   * - {model}",
            f"     - {mean:.3f}",
            f"     - {diff:+.3f}",
            f"     - {pvalue:.2f}",
        ]
    return "\n".join(lines) + "\n"


def draw(summary, path):
    """Mean outer UAR per corpus and model, one panel per normalisation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = [m for m in MODEL_ORDER if m in set(summary["model"])]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    width = 0.8 / len(models)
    for ax, norm in zip(axes, NORMALISATIONS, strict=True):
        part = summary[summary["normalisation"] == norm].set_index(["model", "corpus"])
        for i, model in enumerate(models):
            x = np.arange(len(CORPORA)) + (i - (len(models) - 1) / 2) * width
            mean = [part["mean"].get((model, c), np.nan) for c in CORPORA]
            std = [part["std"].get((model, c), np.nan) for c in CORPORA]
            ax.bar(x, mean, width, yerr=std, label=model, capsize=2)
        ax.set_xticks(range(len(CORPORA)), CORPORA)
        ax.set_title({"global": "global z-norm", "speaker": "per-speaker z-norm"}[norm])
        ax.axhline(0.25, color="0.4", linestyle="--", linewidth=0.8)  # chance
        ax.set_ylim(0.1, 1.0)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("UAR (outer folds)")
    axes[1].legend(fontsize=7, ncol=2, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def phase_search(store, datasets, args, configs):
    """Linear baselines under both normalisations, then the network search."""
    for corpus, (raw, spk) in datasets.items():
        for norm, data in (("global", raw), ("speaker", spk)):

            def linear(model, splits, data=data, norm=norm):
                return {
                    fold: outer_fold_linear(model, data, train, test, norm, args)
                    for fold, (train, test) in splits.items()
                }

            cell = (corpus, norm)
            run_cells(store, cell, data, ["logreg", "svm"], linear, args, True)
    for norm in args.network_normalisations:
        for corpus, (raw, spk) in datasets.items():
            data = spk if norm == "speaker" else raw

            def network(model, splits, data=data, norm=norm):
                return search_networks(configs, data, splits, norm, args)

            run_cells(store, (corpus, norm), data, ["dnn"], network, args)


def phase_fixed(store, datasets, args):
    """The preset under both normalisations; the paper's network where asked."""
    for corpus, (raw, spk) in datasets.items():
        for norm, data in (("speaker", spk), ("global", raw)):
            models = ["preset"] + (["paper"] if corpus in args.paper_corpora else [])

            def fixed(model, splits, data=data, norm=norm):
                params = SMALL_CORPUS if model == "preset" else PAPER
                return fixed_networks(params, data, splits, norm, args)

            run_cells(store, (corpus, norm), data, models, fixed, args)


def phase_transfer(store, datasets, args):
    """Transfer methods with the preset, speaker source task, speaker norm."""
    for corpus in args.transfer_corpora:
        data = datasets[corpus][1]

        def transfer(model, splits, data=data):
            method = model.removeprefix("preset-")
            return fixed_networks(SMALL_CORPUS, data, splits, "speaker", args, method)

        models = ["preset-ptft", "preset-prognet", "preset-adapter"]
        run_cells(store, (corpus, "speaker"), data, models, transfer, args)


def phase_report(store, args):
    """Write the table and the figure of the docs page; print the summary."""
    summary = summarise(store.outer())
    print(summary.to_string())
    Path(args.table).write_text(format_table(summary))
    tables = []
    for corpus in args.transfer_corpora:
        rows = transfer_rows(store.outer(), corpus, args.outer)
        if rows:
            tables.append(format_transfer(rows, corpus))
            print(tables[-1])
    if tables:
        # one file, one table per corpus
        Path(args.transfer_table).write_text("\n".join(tables))
    draw(summary, args.figure)
    timing = store.outer().groupby("corpus")["seconds"].sum() / 60
    print("minutes per corpus:", timing.round(1).to_dict())
    calls = store.folder / "timing.csv"
    if calls.exists():
        calls = pd.read_csv(calls)
        print(
            "minutes per engine:",
            (calls.groupby("engine")["seconds"].sum() / 60).round(1).to_dict(),
        )


#: The docs' files that the report phase writes with --write-docs (by
#: default it writes files of the same names in --out).
DOCS_FILES = {
    "table": "docs/user_guide/small_corpus_table.txt",
    "figure": "docs/_static/small_corpus_uar.png",
    "transfer_table": "docs/user_guide/small_corpus_transfer.txt",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--phase",
        default="all",
        choices=["search", "choose", "fixed", "transfer", "report", "all"],
    )
    parser.add_argument(
        "--out",
        default="results/study_small_corpus",
        help="folder of the results (CSV files, resumable) and, without "
        "--write-docs, of the report's table and figure "
        "(default: results/study_small_corpus)",
    )
    parser.add_argument("--corpora-root", default="../shared/corpora")
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--n-configs", type=int, default=8)
    parser.add_argument("--outer", type=int, default=5)
    parser.add_argument("--inner", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--ensemble-size", type=int, default=ENSEMBLE_SIZE)
    parser.add_argument(
        "--space",
        default="default",
        choices=["default", "wide"],
        help="the search space and linear grids (wide: the fuller study)",
    )
    parser.add_argument(
        "--engine",
        default="batched",
        choices=["batched", "per-fit"],
        help="train the networks with fit_batched, or one fit at a time",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=2,
        help="worker processes (fit_batched's n_jobs, or per-fit processes)",
    )
    parser.add_argument("--network-normalisations", default="speaker")
    parser.add_argument("--paper-corpora", default="emodb,urdu")
    parser.add_argument("--transfer-corpora", default="emodb")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="the report phase overwrites the docs' own table, transfer table "
        "and figure (" + ", ".join(DOCS_FILES.values()) + ") instead of "
        "writing them in --out",
    )
    parser.add_argument("--table", help="the report's table (default: see --out)")
    parser.add_argument("--figure", help="the report's figure (default: see --out)")
    parser.add_argument(
        "--transfer-table", help="the report's transfer table (default: see --out)"
    )
    args = parser.parse_args(argv)
    for name, docs_file in DOCS_FILES.items():
        if getattr(args, name) is None:
            default = (
                docs_file if args.write_docs else Path(args.out) / Path(docs_file).name
            )
            setattr(args, name, str(default))
    for name in (
        "corpora",
        "network_normalisations",
        "paper_corpora",
        "transfer_corpora",
    ):
        setattr(args, name, [v for v in getattr(args, name).split(",") if v])
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)  # small networks: threads only contend
    warnings.filterwarnings("ignore", category=UserWarning)
    store = Store(args.out)
    space = WIDE_SPACE if args.space == "wide" else SPACE
    configs = draw_configs(args.n_configs, args.max_epochs, space=space)
    phases = ["search", "choose", "fixed", "transfer", "report"]
    phases = phases if args.phase == "all" else [args.phase]
    datasets = {}
    if {"search", "fixed", "transfer"} & set(phases):
        for name in args.corpora:
            X, y, g = load(name, args.corpora_root, args.cache_dir)
            datasets[name] = ((X, y, g), (speaker_normalised(X, g), y, g))
    for phase in phases:
        if phase == "search":
            phase_search(store, datasets, args, configs)
        elif phase == "choose":
            preset, ranking = choose_preset(store.inner(), configs)
            print(ranking.round(3).to_string(), "\nSMALL_CORPUS =", preset)
        elif phase == "fixed":
            phase_fixed(store, datasets, args)
        elif phase == "transfer":
            phase_transfer(store, datasets, args)
        else:
            phase_report(store, args)


if __name__ == "__main__":
    main()
