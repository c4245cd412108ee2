"""The `alertmanager.yml` the README shows is one Alertmanager accepts: `amtool check-config`
(Debian's prometheus-alertmanager) reads it as written there."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet() -> str:
    blocks = re.findall(r"```yaml\n(# alertmanager\.yml\n.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1, "the README shows one alertmanager.yml"
    return blocks[0]


def test_the_readme_alertmanager_config_passes_amtool_check_config(tmp_path):
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.skip("needs amtool (apt-get install prometheus-alertmanager; `make test` does it)")
    snippet = readme_snippet()
    assert "/api/v1/integrations/alertmanager" in snippet and "credentials:" in snippet
    result = check_config(amtool, tmp_path, snippet)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "2 receivers" in result.stdout
    # The check does read the fields: a misspelt one fails it.
    misspelt = check_config(amtool, tmp_path, snippet.replace("authorization:", "authorisation:"))
    assert misspelt.returncode != 0


def check_config(amtool: str, directory: Path, text: str) -> subprocess.CompletedProcess:
    config = directory / "alertmanager.yml"
    config.write_text(text)
    return subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, timeout=30
    )
