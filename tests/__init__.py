# A regular package, so that `tests` names this folder: opensmile's wheel
# installs a top-level `tests` package of its own into site-packages, which
# would otherwise shadow a namespace package and break `from tests.conftest`.
