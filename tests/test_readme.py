"""The README's code blocks run as written (the audio one on the real corpus)."""

import re

import pytest
import sklearn

from tests.conftest import CORPORA, ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.fixture
def routing_restored():
    with sklearn.config_context():
        yield


@pytest.mark.slow
def test_readme_example_on_embedded_corpus(routing_restored, capsys):
    exec(BLOCKS[0], {})
    uar = float(re.search(r"UAR (\d\.\d+)", capsys.readouterr().out).group(1))
    assert uar > 0.5  # chance is 0.25


@pytest.mark.slow
@pytest.mark.corpora
def test_readme_audio_example_on_real_emodb(routing_restored, tmp_path):
    namespace = {}
    exec(BLOCKS[0].replace("n_splits=5", "n_splits=2"), namespace)
    block = BLOCKS[1].replace("path/to/emodb", str(CORPORA / "emodb"))
    assert '"egemaps_cache"' in block
    exec(block.replace('"egemaps_cache"', repr(str(tmp_path / "cache"))), namespace)
    pipe, table = namespace["pipe"], namespace["table"]
    assert pipe.score(table["file"][:20], table["emotion"][:20]) > 0.5
