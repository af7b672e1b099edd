# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Draw the import graph of sklearn_prognet, family by family.

The families of modules are declared once, here (:data:`FAMILIES`, bottom to
top), and the imports are read from the source with ``ast``
(:func:`package_imports`), those inside a function included: they are the
lazy ones, loaded when the function first runs. :func:`draw_import_graph`
draws one box per family and one arrow per pair of families that has at
least one import, from the importer to the imported, labelled with the
number of imports; an arrow whose imports are all lazy is dashed. Imports
run downwards; the few that run upwards are declared in :data:`EXCEPTIONS`,
each with its reason, and drawn in orange. ``tests/test_import_rules.py``
checks that every module has a family and that no other import runs upwards.

The documentation builds the figure with matplotlib's ``plot`` directive
(the package map of ``docs/contributing.rst``). To write it to a file::

    python scripts/draw_import_graph.py --out import_graph.png
"""

import argparse
import ast
import textwrap
from collections import Counter, namedtuple
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

import sklearn_prognet

NAME = "sklearn_prognet"
PACKAGE = Path(sklearn_prognet.__file__).resolve().parent

Family = namedtuple("Family", "name members")

#: The families, bottom to top: a module may import its own family and those
#: below it. A member is a module; a subpackage other than the root stands
#: for all of its modules, unless one of them is a member of its own.
FAMILIES = [
    # the helpers of every layer, and the table of the modules moved since
    # 0.1.0 (which imports nothing of the package)
    Family("utils", ("sklearn_prognet.utils", "sklearn_prognet._moved")),
    # networks/ holds three families: torch modules, the loop, estimators
    Family(
        "networks: torch modules",
        (
            "sklearn_prognet.networks._modules",
            "sklearn_prognet.networks._adapter_modules",
            "sklearn_prognet.networks._multitask",
            "sklearn_prognet.networks._columns",
        ),
    ),
    Family(
        "networks: the training loop",
        (
            "sklearn_prognet.networks._knobs",
            "sklearn_prognet.networks._training",
            "sklearn_prognet.networks._batched",
        ),
    ),
    Family(
        "networks: estimators",
        (
            # the subpackage: its __init__, and a new module until it is placed
            "sklearn_prognet.networks",
            "sklearn_prognet.networks._estimators",
            "sklearn_prognet.networks._adapters",
            "sklearn_prognet.networks._ratings",
            "sklearn_prognet.networks._batched_fit",
        ),
    ),
    Family("features: audio front ends", ("sklearn_prognet.features",)),
    Family(
        "evaluation and the rest",
        (
            "sklearn_prognet.model_selection",
            "sklearn_prognet.metrics",
            "sklearn_prognet.stats",
            "sklearn_prognet.preprocessing",
            "sklearn_prognet.plotting",
            "sklearn_prognet.presets",
            "sklearn_prognet._recipe_search",
            "sklearn_prognet._persistence",
        ),
    ),
    Family("datasets", ("sklearn_prognet.datasets",)),
    Family("experiments", ("sklearn_prognet.experiments",)),
    Family(
        "front door",
        (
            "sklearn_prognet",
            "sklearn_prognet.__main__",
            "sklearn_prognet.experiments.__main__",
        ),
    ),
]

#: (importer, imported) -> why this import may run upwards
EXCEPTIONS = {
    ("sklearn_prognet.utils.discovery", "sklearn_prognet"): (
        "all_estimators walks the public names of the package (for the tests)"
    ),
    ("sklearn_prognet._persistence", "sklearn_prognet"): (
        "a model file records the __version__ that wrote it, and is checked "
        "against it when read"
    ),
    ("sklearn_prognet.experiments.cli", "sklearn_prognet"): (
        "--version prints __version__"
    ),
}

Import = namedtuple("Import", "module line imported lazy")


def module_name(path, package=PACKAGE):
    """``sklearn_prognet.datasets._emodb`` for ``.../datasets/_emodb.py``."""
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_sources(package=PACKAGE):
    """Module name -> parsed source, for every module of the package."""
    return {
        module_name(path, package): ast.parse(path.read_text(encoding="utf-8"), path)
        for path in sorted(package.rglob("*.py"))
    }


def resolve(module, node, sources):
    """The absolute module of an ``ImportFrom`` (relative imports resolved)."""
    if not node.level:
        return node.module
    base = module.split(".")
    if module not in sources or not _is_package(module, sources):
        base = base[:-1]  # a module's level 1 is its package
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_package(module, sources):
    return any(other.startswith(f"{module}.") for other in sources)


def _lazy_names(tree):
    """The ``_LAZY_NAMES`` of a package (public name -> module), with its line.

    The root's ``_SUBMODULES`` (loaded on first use too) are added as
    ``{name: "sklearn_prognet.name"}``.
    """
    names, line = {}, None
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = getattr(node.targets[0], "id", None)
        if target == "_LAZY_NAMES":
            names.update(ast.literal_eval(node.value))
            line = node.lineno
        elif target == "_SUBMODULES":
            names.update(
                {name: f"{NAME}.{name}" for name in ast.literal_eval(node.value)}
            )
    return names, line


def home(package, name, sources):
    """The module that ``from package import name`` loads ``name`` from.

    A submodule is itself; a name that ``package`` re-exports is followed to
    the module that defines it (through ``from ... import`` and the
    ``_LAZY_NAMES`` of a package: the root's leads on to those of
    ``networks`` and ``features``); any other name is ``package``'s own.
    """
    if f"{package}.{name}" in sources:
        return f"{package}.{name}"
    tree = sources.get(package)
    if tree is None:
        return package
    lazy, _ = _lazy_names(tree)
    if name in lazy:
        return home(lazy[name], name, sources)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = resolve(package, node, sources)
            for alias in node.names:
                if (alias.asname or alias.name) == name and source.startswith(NAME):
                    return home(source, alias.name, sources)
    return package


def _walk(node, lazy=False):
    """Every import statement under ``node``, and whether a function holds it."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, lazy
        inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, lazy or inner)


def package_imports(module, sources):
    """Every :data:`Import` of a module of the package by ``module``.

    Imports at any depth count; those inside a function are lazy. ``from
    package import name`` imports the module that defines ``name``
    (:func:`home`). The root's ``_LAZY_NAMES`` and ``_SUBMODULES`` count as
    lazy imports of the root: its ``__getattr__`` loads them on first use.
    """
    found = []
    for node, lazy in _walk(sources[module]):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            source = resolve(module, node, sources)
            if source.split(".")[0] != NAME:
                continue
            targets = [home(source, alias.name, sources) for alias in node.names]
        found += [
            Import(module, node.lineno, target, lazy)
            for target in targets
            if target.split(".")[0] == NAME
        ]
    lazy_names, line = _lazy_names(sources[module])
    found += [
        Import(module, line, target, True)
        for target in sorted(set(lazy_names.values()))
    ]
    return found


def family_of(module, families=FAMILIES):
    """The index of ``module``'s family in ``families``, or None.

    The longest member that names ``module`` or a subpackage above it wins.
    """
    best = None
    for index, family in enumerate(families):
        for member in family.members:
            if module == member or (member != NAME and module.startswith(f"{member}.")):
                if best is None or len(member) > len(best[1]):
                    best = (index, member)
    return None if best is None else best[0]


def all_imports(sources):
    """Every import between modules of the package (:func:`package_imports`)."""
    found = []
    for module in sources:
        found += package_imports(module, sources)
    return found


def upward_imports(sources, families=FAMILIES, exceptions=EXCEPTIONS):
    """The imports from a family to a higher one that no exception allows."""
    return [
        found
        for found in all_imports(sources)
        if (found.module, found.imported) not in exceptions and _rises(found, families)
    ]


def _rises(found, families):
    return family_of(found.imported, families) > family_of(found.module, families)


def family_edges(sources, families=FAMILIES):
    """(importer's family, imported family) -> Counter of eager and lazy imports.

    Imports within a family are left out.
    """
    edges = {}
    for found in all_imports(sources):
        pair = (family_of(found.module, families), family_of(found.imported, families))
        if pair[0] != pair[1]:
            edges.setdefault(pair, Counter())["lazy" if found.lazy else "eager"] += 1
    return edges


# -- drawing ------------------------------------------------------------------

DOWN = "#4477aa"
UP = "#ee7733"
FILL = "#e8eef6"
BOX_W, LINE_H, DY = 7.0, 0.22, 0.55


def _members_text(modules, sources):
    """The modules of a family, folder by folder, wrapped to the box."""
    folders = {}
    for module in modules:
        parts = module.split(".")[1:]
        if _is_package(module, sources):
            parts = [*parts, "__init__"]
        folder = "/".join(parts[:-1])
        folders.setdefault(folder, []).append(f"{parts[-1]}.py")
    lines = []
    for folder, names in sorted(folders.items()):
        text = (f"{folder}/: " if folder else "") + ", ".join(names)
        lines += textwrap.wrap(text, 84, subsequent_indent="    ")
    return lines


def _label(counts):
    eager, lazy = counts["eager"], counts["lazy"]
    if not lazy:
        return str(eager)
    return f"{eager} +{lazy} lazy" if eager else f"{lazy} lazy"


def draw_import_graph(sources=None, families=FAMILIES, ax=None):
    """Draw the families and the imports between them.

    Families are stacked bottom to top in their declared order; an arrow runs
    from the importer's family to the imported one, down the right-hand side
    (orange and up the left-hand side for a declared exception).

    Parameters
    ----------
    sources : dict, default=None
        Module name -> parsed source (:func:`read_sources`); None reads the
        installed package.
    families : list of Family, default=FAMILIES
        The families, bottom to top.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
    """
    sources = read_sources() if sources is None else sources
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 13))
    modules = {index: [] for index in range(len(families))}
    for module in sorted(sources):
        modules[family_of(module, families)].append(module)

    # boxes, bottom to top
    centre, y = {}, 0.0
    for index, family in enumerate(families):
        lines = _members_text(modules[index], sources)
        height = LINE_H * (len(lines) + 1.6)
        ax.add_patch(
            FancyBboxPatch(
                (-BOX_W / 2, y),
                BOX_W,
                height,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=FILL,
                edgecolor="#222222",
                linewidth=1.1,
            )
        )
        ax.text(
            -BOX_W / 2 + 0.12,
            y + height - 0.12,
            f"{index + 1}. {family.name}",
            ha="left",
            va="top",
            fontsize=9,
            fontweight="bold",
        )
        ax.text(
            -BOX_W / 2 + 0.12,
            y + height - 0.12 - 1.3 * LINE_H,
            "\n".join(lines),
            ha="left",
            va="top",
            fontsize=6.5,
            family="monospace",
            linespacing=1.35,
        )
        centre[index] = (y, y + height)
        y += height + DY

    # arrows: downward ones on the right, upward exceptions on the left
    edges = family_edges(sources, families)
    for (start, end), counts in sorted(edges.items(), key=lambda e: e[0][0] - e[0][1]):
        up = end > start
        span = abs(end - start)
        side = -1 if up else 1
        x = side * BOX_W / 2
        # leave from the importer's half nearer the target, arrive in the other
        y0 = _anchor(centre[start], upper=up, shift=end)
        y1 = _anchor(centre[end], upper=not up, shift=start)
        color = UP if up else DOWN
        # the curve's apex stands ``bulge`` off the boxes: wider for longer spans
        bulge = side * (0.35 + 0.3 * span)
        ax.annotate(
            "",
            xy=(x, y1),
            xytext=(x, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": color,
                "linewidth": 1.0,
                "linestyle": "-" if counts["eager"] else "--",
                "shrinkA": 0,
                "shrinkB": 0,
                # arc3's control point lies rad * length off the chord, and
                # the curve's apex halfway there
                "connectionstyle": f"arc3,rad={-2 * abs(bulge) / abs(y1 - y0):.3f}",
            },
        )
        ax.text(
            x + bulge,
            (y0 + y1) / 2,
            _label(counts),
            ha="center",
            va="center",
            fontsize=6.5,
            color=color,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"},
            zorder=3,  # above the arcs drawn later
        )
    ax.set_xlim(-BOX_W / 2 - 3.2, BOX_W / 2 + 3.2)
    ax.set_ylim(-0.3, y)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _anchor(bounds, *, upper, shift):
    """A point on a box's side: its upper or lower half, spread by ``shift``."""
    low, high = bounds
    quarter = (high - low) / 4
    middle = (low + high) / 2 + (quarter if upper else -quarter)
    return middle + (shift % 5 - 2) * quarter / 3


def figure():
    """The contributing page's figure: the families and their imports."""
    ax = draw_import_graph()
    fig = ax.figure
    handles = [
        plt.Line2D([], [], color=DOWN, label="imports (count)"),
        plt.Line2D([], [], color=DOWN, linestyle="--", label="lazy imports only"),
        plt.Line2D([], [], color=UP, label="declared exception"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="image file to write (default: show)")
    args = parser.parse_args(argv)
    fig = figure()
    if args.out:
        fig.savefig(args.out, dpi=150, bbox_inches="tight")
    else:
        plt.show()


if __name__ == "__main__":
    main()
