# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Multi-task learning: whether dimensional ratings help emotion classification.

Arms, on the same folds: a single-task DNN (``dimensional_weight=0``) and,
for every weight of ``dimensional_weights``, the same DNN trained on the
emotion classes plus the corpus's ratings (arousal, valence, dominance, or
RAVDESS's intensity) with ``cross-entropy + weight * dimensional loss``.
Every step of one (repeat, fold) gives all arms the same random state, so
the paired differences are those of the ratings, not of initialisations.

The networks see the ratings of their training rows only; the estimator
standardises them with the training rows' mean and standard deviation.
The results folder keeps every utterance's ratings in ``ratings.csv.gz``
(folders of older runs: in ``config.json``'s ``ratings``), with which the
report scores the predicted ratings of every test fold (CCC per
dimension); ``config.json`` holds their digest only.
"""

import csv
import gzip
import hashlib
import io
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_prognet.experiments import _format, _skeleton, _stats
from sklearn_prognet.experiments._execution import log
from sklearn_prognet.experiments._fits import NetworkWrapper, derive_seed
from sklearn_prognet.experiments._folds import make_folds
from sklearn_prognet.experiments._inputs import (
    RATING_COLUMNS,
    ExperimentInputError,
    describe_corpus,
    load_corpus,
    parse_spec,
)
from sklearn_prognet.experiments._options import Option, float_list, name_list
from sklearn_prognet.experiments._plots import plot_bars, plot_learning_curves
from sklearn_prognet.experiments._skeleton import run_experiment
from sklearn_prognet.experiments._store import write_atomic
from sklearn_prognet.metrics import ccc_score
from sklearn_prognet.utils._messages import Param

__all__ = ["run_multitask"]

#: The dimensional losses of the estimators' ``dimensional_loss`` (they
#: validate it again; torch is not imported to read them from there).
DIMENSIONAL_LOSSES = ("mse", "ccc")
# Decimals of the predicted ratings saved in every record.
_RATING_DECIMALS = 4
#: Every utterance's ratings in the results folder: the report's truth. Not
#: in config.json, whose lists would hold one line per utterance and rating
#: (30,000 for IEMOCAP); that holds their digest (``config["corpus"]``).
RATINGS_FILE = "ratings.csv.gz"
# Every arm of a step starts from this label's random state (paired seeds).
_SEED_LABEL = "network"


def weight_arm(weight):
    """The arm of a dimensional weight (the one home of its format).

    Examples
    --------
    >>> from sklearn_prognet.experiments._multitask import weight_arm
    >>> weight_arm(0.3), weight_arm(1.0)
    ('mtl-0.3', 'mtl-1')
    """
    return f"mtl-{weight:g}"


class MultiTask(_skeleton.Experiment):
    """Single-task DNN against DNNs that also learn dimensional ratings."""

    name = "multitask"
    format_version = 1

    def __init__(self, corpus="emodb", dimensions=None, weights=(0.3, 1.0), loss="mse"):
        self.corpus = corpus
        self.dimensions = dimensions
        self.weights = weights
        self.loss = loss

    def check(self, options):
        """Refuse an unknown loss, bad weights, and lateral connections."""
        if options.lateral != "linear":
            raise ExperimentInputError(
                f"lateral={options.lateral!r}: the multitask experiment trains no "
                "progressive network, so it has no lateral connections; leave "
                "lateral at its default."
            )
        if self.loss not in DIMENSIONAL_LOSSES:
            raise ExperimentInputError(
                Param("dimensional_loss", self.loss),
                f": choose among {list(DIMENSIONAL_LOSSES)}.",
            )
        weights = list(self.weights)
        bad = [w for w in weights if not _positive_number(w)]
        if not weights or bad:
            raise ExperimentInputError(
                Param("dimensional_weights", weights),
                ": give one or more positive, "
                "finite weights (the single-task DNN, weight 0, is always run).",
            )
        if len({weight_arm(float(w)) for w in weights}) != len(weights):
            raise ExperimentInputError(
                Param("dimensional_weights", weights), " repeats a weight."
            )

    def arms(self, config):
        """The single-task DNN, then one multi-task DNN per weight."""
        arms = [_skeleton.Arm("dnn", "dnn", "Single-task DNN")]
        for weight in config["dimensional_weights"]:
            title = f"Multi-task w={weight:g}"
            arms.append(_skeleton.Arm(weight_arm(weight), "multitask", title))
        return arms

    def arm_name(self, record):
        """``dnn``, or ``mtl-<weight>``."""
        if record["method"] == "dnn":
            return "dnn"
        return weight_arm(record["dimensional_weight"])

    def planned_keys(self, config):
        """The key of every fit of the run."""
        return _skeleton.step_keys(config, self.arms(config))

    def plan(self, options, network):
        """Load the corpus and its ratings, make the folds, check them, plan."""
        corpus = load_corpus(self.corpus, **options.corpus_options())
        if options.verbose:
            log(describe_corpus(corpus))
        values, names = corpus_ratings(corpus, self.dimensions)
        folds, notes = make_folds(corpus, **options.fold_options())
        check_training_ratings(folds, values, names)
        weights = sorted(float(w) for w in self.weights)
        settings = {
            "corpus": {
                **_skeleton.corpus_id(corpus),
                "ratings": ratings_digest(values),
            },
            "dimensions": names,
            "dimensional_weights": weights,
            "dimensional_loss": self.loss,
        }
        arms = self.arms(settings)
        weight_of_arm = {a.name: w for a, w in zip(arms[1:], weights, strict=True)}
        tasks = [_task(f, arm, options) for f in folds for arm in arms]
        networks = RatedNetworks(values, names, weight_of_arm, self.loss)
        fields = {"networks": networks, "record_predictions": True}
        plan = _skeleton.corpus_plan(
            self, corpus, options, network, settings, tasks, notes, **fields
        )
        plan.state["ratings"] = (names, values)  # for fit_data
        return plan

    def fit_data(self, store, plan, options):
        """Save the ratings in the results folder (the report's truth)."""
        # Written again when a run resumes: the same bytes (the digest in
        # the configuration is that of the same ratings).
        write_atomic(store.folder / RATINGS_FILE, ratings_csv(*plan.state["ratings"]))
        return plan.data

    def read_files(self, folder, saved):
        """Add the ratings of ``ratings.csv.gz`` to ``saved`` as ``ratings``.

        Folders of older runs hold them in ``config.json``, kept as they are;
        a folder without either gets no ratings (its report, no CCC).
        """
        path = folder / RATINGS_FILE
        if "ratings" in saved or not path.is_file():
            return saved
        try:
            names, values = read_ratings_csv(path)
        except (OSError, EOFError, ValueError, IndexError) as exc:
            raise ExperimentInputError(
                f"{str(path)!r} is not a readable ratings file ({exc}); restore "
                "it or run the experiment again."
            ) from None
        expected = saved["config"].get("corpus", {}).get("ratings")
        if names != list(saved["config"]["dimensions"]) or (
            ratings_digest(values) != expected
        ):
            raise ExperimentInputError(
                f"{str(path)!r} does not hold the ratings of this run (their "
                "columns or digest differ from config.json's); restore the file "
                "or run the experiment again."
            )
        # as config.json held them: JSON lists, None where missing
        ratings = {
            name: [None if math.isnan(v) else v for v in column]
            for name, column in zip(names, values.T.tolist(), strict=True)
        }
        return {**saved, "ratings": ratings}

    def summary_table(self, results, analysis):
        """Mean test UAR of every arm, and mean test CCC of every dimension."""
        scores = results.scores.copy()  # the caller's frame is left alone
        add_ccc_columns(scores, results.saved)
        results = replace(results, scores=scores)
        return _summary_table(results, analysis, self.arms(results.config))

    def report(self, folder, results, analysis):
        """The table, the t-tests, the bar plots and the learning curves."""
        # in place: scores.csv, written after the report, gets them too
        add_ccc_columns(results.scores, results.saved)
        config = results.config
        arms = self.arms(config)
        lines = _introduction(self.status(results), results.saved)
        lines += _format.section(
            "Test UAR and CCC",
            _summary_table(results, analysis, arms),
            _format.table_note(_TABLE_NOTE, analysis),
        )
        tests = _tests(results, analysis, arms)
        lines += _format.significance_section("Arms", tests, analysis.alpha)
        lines += _plot_lines(folder, results, arms)
        curve_lines, rows = _learning_curve_lines(folder, results, arms)
        return lines + curve_lines, rows


def _positive_number(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and value > 0


def corpus_ratings(corpus, dimensions=None):
    """The ratings to learn, as a float array (NaN missing), and their names.

    ``dimensions`` None means every rating column of the corpus.
    """
    present = [c for c in RATING_COLUMNS if c in (corpus.ratings or {})]
    if not present:
        raise ExperimentInputError(
            f"Corpus {corpus.name!r} ({corpus.spec}) has no rating columns "
            f"({', '.join(RATING_COLUMNS)}): the multitask experiment learns "
            "them beside the emotions. Use iemocap:PATH or msp-improv:PATH (whose "
            "loaders read arousal, valence and dominance), ravdess:PATH (intensity), "
            "or a feature table with such columns."
        )
    names = present if dimensions is None else [str(d) for d in dimensions]
    unknown = [d for d in names if d not in present]
    if not names or unknown or len(set(names)) != len(names):
        raise ExperimentInputError(
            Param("dimensions", list(names)),
            ": choose one or more distinct columns "
            f"among those corpus {corpus.name!r} has: {present}.",
        )
    columns = [_numeric(corpus.ratings[name], name, corpus.name) for name in names]
    return np.column_stack(columns), names


def _numeric(values, name, corpus_name):
    """One rating column as float64; refuse text and infinite values."""
    import pandas as pd  # parsing text ratings as numbers

    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    given = pd.notna(pd.Series(values)).to_numpy()
    unparsed = given & np.isnan(numbers)
    # text is not a rating, even when it reads as a number ("1.0")
    text = unparsed | np.array([isinstance(v, (str, bytes)) for v in values], bool)
    if text.any():
        first = int(np.argmax(unparsed if unparsed.any() else text))
        raise ExperimentInputError(
            f"Corpus {corpus_name!r}: the {name!r} ratings must be numbers (empty "
            f"for a missing rating); {int(text.sum())} are not, e.g. "
            f"{values[first]!r}."
        )
    if np.isinf(numbers).any():
        raise ExperimentInputError(
            f"Corpus {corpus_name!r}: the {name!r} ratings hold infinite values; "
            "leave a missing rating empty (NaN)."
        )
    if np.isnan(numbers).all():
        raise ExperimentInputError(
            f"Corpus {corpus_name!r} has no {name!r} rating at all (every value is "
            "missing): drop it from ",
            Param("dimensions"),
            ".",
        )
    return numbers


def check_training_ratings(folds, values, names):
    """Refuse a step whose training folds lack every rating of a dimension.

    The network standardises each dimension on its training rows and
    cannot learn one that has no rating there.
    """
    for fold in folds:
        unrated = np.isnan(values[fold.train]).all(axis=0)
        if unrated.any():
            missing = [n for n, u in zip(names, unrated, strict=True) if u]
            raise ExperimentInputError(
                f"The training folds of repeat {fold.repeat}, fold {fold.fold} have "
                f"no {missing} rating (only NaN): a network cannot learn a dimension "
                "without ratings. Drop it from ",
                Param("dimensions"),
                ", or use fewer folds (",
                Param("n_splits"),
                ").",
            )


def ratings_digest(values):
    """SHA-256 (hex, 16 characters) of the ratings, as float64 in C order."""
    digest = hashlib.sha256(np.ascontiguousarray(values, np.float64).tobytes())
    return digest.hexdigest()[:16]


def ratings_csv(names, values):
    """The ratings as gzipped CSV: a column per name, a row per utterance.

    Missing ratings are empty cells; every value is written with ``repr``
    (Python's shortest form that reads back as the same float), so that the
    ratings read back equal, and so does their digest.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in np.asarray(values, dtype=float).tolist():
        writer.writerow(["" if math.isnan(v) else repr(v) for v in row])
    # mtime=0: the same ratings always give the same bytes
    return gzip.compress(out.getvalue().encode(), mtime=0)


def read_ratings_csv(path):
    """The names and the ratings (float, NaN missing) of :func:`ratings_csv`."""
    with open(path, "rb") as f:
        rows = list(csv.reader(io.StringIO(gzip.decompress(f.read()).decode())))
    values = [[float(v) if v else math.nan for v in row] for row in rows[1:]]
    return rows[0], np.array(values, dtype=float).reshape(-1, len(rows[0]))


def _task(fold, arm, options):
    seed = derive_seed(options.seed, fold.repeat, fold.fold, _SEED_LABEL)
    return _skeleton.step_task(fold, arm, options, seed)


class RatedNetwork(NetworkWrapper, ClassifierMixin, BaseEstimator):
    """A DNN that also learns the ratings of its training rows.

    It declares the DNN it trains (a :class:`._fits.NetworkWrapper`), so
    that the batched engine trains it with the other arms.

    ``ratings`` are those of the rows ``fit`` gets, in the same order (the
    task's training folds); it never holds those of other rows.
    ``record_fields(X)`` predicts the ratings of the test fold ``X`` for the
    fit's record (:func:`._fits.fit_record` calls it): the report scores
    them against the test ratings.
    """

    def __init__(self, *, ratings, dimension_names, dimensional_weight,
                 dimensional_loss, network, random_state=None):  # fmt: skip
        self.ratings = ratings
        self.dimension_names = dimension_names
        self.dimensional_weight = dimensional_weight
        self.dimensional_loss = dimensional_loss
        self.network = network
        self.random_state = random_state

    def inner_estimator(self):
        """The unfitted DNN that ``fit`` trains (the batched engine trains it)."""
        from sklearn_prognet.networks._estimators import DNNClassifier

        return DNNClassifier(
            **self.network,
            dimensional_weight=self.dimensional_weight,
            dimensional_loss=self.dimensional_loss,
            random_state=self.random_state,
        )

    def inner_fit_arguments(self, X, y, X_val=None, y_val=None):
        """The DNN's fit arguments: this fit's, and the ratings of its rows."""
        import pandas as pd  # the ratings' names travel as DataFrame columns

        dimensions = pd.DataFrame(self.ratings, columns=list(self.dimension_names))
        return {"X": X, "y": y, "X_val": X_val, "y_val": y_val,
                "dimensions": dimensions}  # fmt: skip

    def predict(self, X):
        """Predict the classes."""
        return self.net_.predict(X)

    def record_fields(self, X):
        """The fit's own fields of its record, with the ratings predicted for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The test fold, as the network sees it.

        Returns
        -------
        dict
            ``dimensional_weight``, ``dimensional_loss``, ``n_rated_train``
            (the rated training rows of each dimension) and
            ``dimensions_pred`` (each dimension's predicted ratings of
            ``X``, rounded).
        """
        rated = (~np.isnan(np.asarray(self.ratings, dtype=float))).sum(axis=0)
        predicted = np.round(self.net_.predict_dimensions(X), _RATING_DECIMALS)
        return {
            "dimensional_weight": float(self.dimensional_weight),
            "dimensional_loss": self.dimensional_loss,
            "n_rated_train": dict(
                zip(self.dimension_names, rated.tolist(), strict=True)
            ),
            "dimensions_pred": {
                name: predicted[:, j].tolist()
                for j, name in enumerate(self.dimension_names)
            },
        }


class RatedNetworks:
    """Builds the network of a ``multitask`` task (``FitData.networks``)."""

    def __init__(self, ratings, names, weight_of_arm, loss):
        self.ratings = ratings
        self.names = names
        self.weight_of_arm = weight_of_arm
        self.loss = loss

    def __call__(self, task, params):
        """The network of a task: its arm's weight, its training rows' ratings."""
        arm = task.key.rsplit("/", 1)[-1]
        return RatedNetwork(
            ratings=self.ratings[task.train],
            dimension_names=list(self.names),
            dimensional_weight=self.weight_of_arm[arm],
            dimensional_loss=self.loss,
            network=dict(params),
            random_state=task.random_state,
        )


def fit_ccc(record, truth, name):
    """CCC of one fit's predicted ratings of ``name`` on its rated test rows."""
    predicted = record.get("dimensions_pred")
    if not isinstance(predicted, dict) or name not in predicted:
        return float("nan")
    y_true = truth[name][np.asarray(record["test_index"])]
    y_pred = np.asarray(predicted[name], dtype=float)
    rated = ~np.isnan(y_true)
    if rated.sum() < 2:
        return float("nan")
    return float(ccc_score(y_true[rated], y_pred[rated]))


def add_ccc_columns(scores, saved):
    """Add ``ccc_<dimension>`` (NaN for the DNN) to the scores, in place.

    ``saved`` is ``config.json`` with the true ratings of every utterance
    (``ratings``, None or NaN where missing; see :meth:`MultiTask.read_files`).
    """
    ratings = saved.get("ratings")
    if scores.empty or not ratings:
        return
    truth = {n: np.array(v, dtype=float) for n, v in ratings.items()}
    for name in saved["config"]["dimensions"]:
        scores[f"ccc_{name}"] = [
            fit_ccc(record, truth, name) for record in scores.to_dict("records")
        ]


def ccc_summary(frame, name, n_repeats):
    """Mean test CCC of ``name`` over an arm's fits (a Summary, or None)."""
    column = f"ccc_{name}"
    if frame is None or column not in frame or frame[column].isna().all():
        return None
    return _stats.summarize(frame.assign(uar=frame[column]), n_repeats)


def _tests(results, analysis, arms):
    frames = _skeleton.frames_by_arm(results.scores)
    return [
        ("Multi-task", f"{arm.title} vs DNN",
         _stats.paired_test(frames.get(arm.name), frames.get("dnn"), analysis.ttest_df))
        for arm in arms[1:]
    ]  # fmt: skip


def _summary_table(results, analysis, arms):
    config = results.config
    frames = _skeleton.frames_by_arm(results.scores)
    tests = {a.name: t for a, t in zip(arms[1:], _tests(results, analysis, arms),
                                       strict=True)}  # fmt: skip
    names = config["dimensions"]
    rows = []
    for arm in arms:
        frame = frames.get(arm.name)
        mark = ""
        if arm.name in tests and _stats.is_better(tests[arm.name][2], analysis.alpha):
            mark = "*"
        cells = [
            _format.score_cell(_stats.summarize(frame, config["n_repeats"])) + mark
        ]
        cells += [
            _format.score_cell(ccc_summary(frame, n, config["n_repeats"]))
            for n in names
        ]
        rows.append([arm.title, *cells])
    header = ["Arm", "UAR", *[f"CCC {n}" for n in names]]
    return _format.md_table(header, rows, [":--"] + ["--:"] * (len(names) + 1))


_TABLE_NOTE = (
    "Mean over all folds and repeats ± the mean over repeats of the standard "
    "deviation of the fold scores within a repeat. UAR: unweighted average "
    "recall of the emotions on the test fold. CCC: concordance correlation "
    "coefficient of the predicted and true ratings on the rated utterances of "
    "the test fold (a missing rating is skipped); the single-task DNN predicts "
    "no ratings. * significantly better UAR than the single-task DNN: corrected "
    "repeated cross-validation t-test (Nadeau & Bengio 2003; Bouckaert & Frank "
    "2004), two-sided, p < {alpha}, degrees of freedom: {df}."
)


def _introduction(status, saved):
    config = saved["config"]
    info = saved.get("corpus_info", {"name": config["corpus"]["name"]})
    weights = ", ".join(f"{w:g}" for w in config["dimensional_weights"])
    return [
        "# Multi-task learning: emotion classes and dimensional ratings",
        "",
        "Does learning the continuous ratings of a corpus beside its emotion "
        "classes help classification? A single-task DNN (dimensional_weight = 0) "
        "against the same DNN trained with cross-entropy + w × "
        f"{config['dimensional_loss'].upper()} loss on the ratings, "
        f"w in {{{weights}}}.",
        "",
        f"- Status: {status}",
        f"- Corpus: {_format.corpus_text(info)}.",
        f"- Ratings learned: {', '.join(config['dimensions'])}. Each network sees "
        "the ratings of its training folds only, standardised with their mean and "
        "standard deviation; utterances without a rating add nothing to that "
        "dimension's loss. The validation fold is scored by its UAR alone.",
        f"- Protocol: {_format.protocol_text(config)}",
        f"- Networks: {_format.training_text(config, lateral=False)}; a linear "
        "regression head on the last hidden layer predicts the ratings.",
        f"- Seed {config['seed']}: the folds and, with (repeat, fold), the random "
        "state of the step's fits derive from it; all arms of a step share it.",
        "",
    ]


def _plot_lines(folder, results, arms):
    """Bar plots: UAR per arm, CCC per dimension and weight."""
    config = results.config
    frames = _skeleton.frames_by_arm(results.scores)
    n_repeats = config["n_repeats"]
    lines = []
    uar = [(a.title, a.title, s.mean, s.std) for a in arms
           if (s := _stats.summarize(frames.get(a.name), n_repeats))
           is not None]  # fmt: skip
    chance = 1.0 / len(config["emotions"])
    if plot_bars(uar, Path(folder) / "uar.png", title="Test UAR per arm",
                 ylabel="test UAR", reference=chance):  # fmt: skip
        lines += ["![Test UAR per arm](uar.png)", ""]
    ccc = [(name, a.title, s.mean, s.std) for name in config["dimensions"]
           for a in arms[1:]
           if (s := ccc_summary(frames.get(a.name), name, n_repeats))]  # fmt: skip
    if plot_bars(ccc, Path(folder) / "ccc.png", title="Test CCC per dimension",
                 ylabel="test CCC"):  # fmt: skip
        lines += ["![Test CCC per dimension and weight](ccc.png)", ""]
    return lines


def _learning_curve_lines(folder, results, arms):
    scores = results.scores
    if scores.empty:
        return [], []
    arms_labels = [(a.name, a.title) for a in arms]
    curves, best = _stats.learning_curves(scores, results.histories, arms_labels)
    best = best if _format.stops_early(results.config) else None  # no best epoch
    lines = ["## Learning curves", ""]
    if plot_learning_curves(curves, Path(folder) / "learning_curves.png",
                            title="Validation UAR per epoch", best_epochs=best,
                            chance=1.0 / len(results.config["emotions"])):  # fmt: skip
        lines += ["![Learning curves](learning_curves.png)", ""]
    lines += [
        "Validation-fold UAR after every epoch: mean ± standard deviation across "
        "the fits of each arm.",
        "",
    ]
    return lines, _stats.curve_rows(
        curves, {title: name for name, title in arms_labels}
    )


@_skeleton.takes_run_options
def run_multitask(
    out,
    corpus,
    *,
    dimensions=None,
    dimensional_weights=(0.3, 1.0),
    dimensional_loss="mse",
    **options,
):
    """Run the multi-task experiment: emotions with and without dimensional ratings.

    For every step of a repeated k-fold cross-validation (one test fold, one
    validation fold for early stopping, the other folds for training) it fits
    a single-task :class:`~sklearn_prognet.DNNClassifier` and, for every
    weight of ``dimensional_weights``, the same network trained on the
    emotions and on the corpus's ratings (``dimensional_weight``,
    ``dimensional_loss``; see :ref:`multitask`). All arms of a step share
    the folds and the random state, so they draw the same initial weights
    (but the regression head's), batch orders and dropout masks, whichever
    stack trains them. The ratings of the training folds only
    reach the networks, which standardise them on those folds. The report
    gives the test UAR of every arm with corrected repeated cross-validation
    t-tests against the single-task DNN, and the test CCC of every
    dimension (rated test utterances only), with bar plots.

    .. versionadded:: 0.1

    Parameters
    ----------
    out : str or os.PathLike
        Results folder. An existing folder is resumed if it holds a run with
        the same settings and refused otherwise.
    corpus : str or Corpus
        A corpus with rating columns (see :func:`load_corpus`):
        ``'iemocap:PATH'`` or ``'msp-improv:PATH'`` (arousal, valence,
        dominance), ``'ravdess:PATH'`` (intensity), or a feature table with
        ``arousal``, ``valence``, ``dominance`` or ``intensity`` columns
        (empty cells are missing ratings).
    dimensions : sequence of str, default=None
        The rating columns to learn; None means all those the corpus has.
    dimensional_weights : sequence of float, default=(0.3, 1.0)
        The weights of the multi-task arms, each positive.
    dimensional_loss : {'mse', 'ccc'}, default='mse'
        The loss on the (standardised) ratings: mean squared error or
        ``1 - CCC``.
    emotions : sequence of str, default=PAPER_EMOTIONS
        Emotion classes (the paper's four: angry, happy, sad, neutral).
    {run_parameters}
    seed : int, default=0
        Seed of the folds and, with (repeat, fold), of every fit.
    {network_parameters}

    {returns}

    See Also
    --------
    run_paralinguistic : Speaker and gender as source tasks.
    sklearn_prognet.metrics.ccc_score : The CCC of the report.

    Examples
    --------
    A tiny run on IEMOCAP (its audio is licensed by USC SAIL):

    >>> from sklearn_prognet.experiments import run_multitask
    >>> result = run_multitask(  # doctest: +SKIP
    ...     "results/mtl", "iemocap:/data/IEMOCAP_full_release",
    ...     n_splits=5, n_repeats=1, dimensional_weights=[0.5],
    ...     network={"hidden_layer_sizes": (64,), "max_epochs": 20})
    >>> result.scores.groupby("arm")["uar"].size()  # doctest: +SKIP
    arm
    dnn        5
    mtl-0.5    5
    Name: uar, dtype: int64
    """
    options = _skeleton.RunOptions(**options)
    experiment = MultiTask(corpus, dimensions, dimensional_weights, dimensional_loss)
    return run_experiment(experiment, out, options)


_skeleton.register(
    MultiTask,
    _skeleton.Command(
        "multitask",
        help="do dimensional ratings (arousal, valence, dominance) help emotion "
        "classification? single-task vs multi-task DNNs",
        description="Multi-task learning: a single-task DNN against the same DNN "
        "trained on the emotions plus the corpus's dimensional ratings (arousal, "
        "valence, dominance; RAVDESS: intensity), with cross-entropy + w x the "
        "dimensional loss for every weight w of --dimensional-weights, on the "
        "same folds and random states. Only the training folds' ratings reach "
        "the networks. Reports test UAR per arm, corrected repeated-CV t-tests "
        "against the single-task DNN, and the test CCC of every dimension.",
        options=(
            Option(
                "corpus",
                None,
                flag={
                    "required": True,
                    "metavar": "CORPUS",
                    "help": "a corpus with ratings: iemocap:PATH, "
                    "msp-improv:PATH, ravdess:PATH, or a feature table with "
                    "arousal, valence, dominance or intensity columns (empty "
                    "cells: missing ratings)",
                },
            ),
            Option(
                "dimensions",
                None,
                flag={
                    "type": name_list,
                    "metavar": "LIST",
                    "help": "rating columns to learn, comma-separated (default: "
                    "all the corpus has)",
                },
            ),
            Option(
                "dimensional_weights",
                (0.3, 1.0),
                flag={
                    "type": float_list,
                    "default": [0.3, 1.0],
                    "metavar": "LIST",
                    "help": "weights of the dimensional loss, one multi-task arm "
                    "each, comma-separated, each > 0 (default: 0.3,1)",
                },
            ),
            Option(
                "dimensional_loss",
                "mse",
                flag={
                    "choices": DIMENSIONAL_LOSSES,
                    "help": "loss on the standardised ratings: mean squared error "
                    "or 1 - CCC (default: %(default)s)",
                },
            ),
        ),
        function="run_multitask",
        default_out=lambda args: (
            Path("results") / f"multitask-{parse_spec(args.corpus)[1]}"
        ),
        # the multitask arms are DNNs: no ProgNet, no lateral connections
        hidden=("lateral",),
    ),
)
