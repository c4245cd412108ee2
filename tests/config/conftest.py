import textwrap

import pytest


@pytest.fixture
def config_file(tmp_path):
    """Write a YAML config (dedented) to a temporary file and return its path."""

    def write(text: str, name: str = "platform.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write
