"""A real Alertmanager (Debian's prometheus-alertmanager) whose webhook receiver is the site
under gunicorn: `amtool alert add` fires an alert, the component's status changes and one
incident opens; ending the alert brings the recovery."""

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from statuspage.api.tokens import issue_token
from statuspage.models import Component, Incident, IncidentStatus
from tests.servers import (
    LiveSite,
    free_port,
    stop_process,
    test_database_url,
    wait_for,
    wait_for_port,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONFIG = """
route:
  receiver: statuspage
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: statuspage
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"""


class Alertmanager:
    def __init__(self, directory: Path, webhook_url: str, token: str) -> None:
        self.executable = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        self.amtool = shutil.which("amtool")
        if self.executable is None or self.amtool is None:
            pytest.skip(
                "needs Alertmanager and amtool (apt-get install prometheus-alertmanager; "
                "`make test` does it as root)"
            )
        config = directory / "alertmanager.yml"
        config.write_text(CONFIG.format(url=webhook_url, token=token))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [self.executable, f"--config.file={config}",
             f"--storage.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port(self.port, self.process)

    def alert(self, *labels: str, end: datetime | None = None) -> None:
        argv = [self.amtool, "alert", "add", *labels, f"--alertmanager.url={self.url}",
                "--annotation=summary=The bureau answers 503"]  # fmt: skip
        if end is not None:
            argv.append(f"--end={end.isoformat().replace('+00:00', 'Z')}")
        subprocess.run(argv, check=True, capture_output=True, timeout=20)

    def stop(self) -> str:
        return stop_process(self.process)


@pytest.fixture
def directory():
    path = Path(tempfile.mkdtemp(prefix="statuspage-am-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_an_alertmanager_alert_opens_one_incident_and_its_end_recovers(
    directory, make_component, staff
):
    bureau = make_component("credit-bureau", name="Credit bureau")
    token = issue_token(staff, name="alertmanager")[1]
    site = LiveSite(directory, DATABASE_URL=test_database_url(), STATIC_SNAPSHOT_DIR="")
    manager = None
    try:
        manager = Alertmanager(directory, f"{site.base}/api/v1/integrations/alertmanager", token)
        labels = ("alertname=BureauDown", "component=credit-bureau", "severity=critical")
        manager.alert(*labels)
        wait_for(
            lambda: Component.objects.get(pk=bureau.pk).status == "major_outage",
            15,
            "the bureau shows a major outage",
        )
        incident = Incident.objects.get()
        assert (incident.root_cause_id, incident.impact) == (bureau.pk, "critical")

        manager.alert(*labels, end=datetime.now(UTC) - timedelta(seconds=1))
        wait_for(
            lambda: Component.objects.get(pk=bureau.pk).status == "operational",
            15,
            "the bureau is operational again",
        )
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.MONITORING
        assert Incident.objects.count() == 1
    finally:
        output = manager.stop() if manager else ""
        site_output = site.stop()
    assert "Traceback" not in site_output, site_output + output
