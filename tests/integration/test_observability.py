"""The shipped Prometheus configuration, alert rules and Grafana dashboard: valid for
Prometheus's own checker, each alert firing on the series it is for (promtool test rules),
and every query naming a metric the endpoint exports. promtool comes with Prometheus
(Debian/Ubuntu: apt-get install prometheus; macOS: brew install prometheus); the checks
that need it skip without it."""

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from production.deployment import ROOT

pytestmark = pytest.mark.integration
OBSERVABILITY = ROOT / "production" / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboard.json"


def promtool(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (it comes with Prometheus)")
    return subprocess.run(["promtool", *args], cwd=OBSERVABILITY, capture_output=True, text=True)


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def alert_queries() -> list[str]:
    groups = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_the_prometheus_config_and_rules_pass_promtool():
    for check in (["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"]):
        done = promtool(*check)
        assert done.returncode == 0, done.stdout + done.stderr


def test_each_alert_fires_on_its_series_and_only_then():
    done = promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_the_dashboard_queries_are_valid_promql(tmp_path):
    recorded = [{"record": f"panel:{n}", "expr": e} for n, e in enumerate(dashboard_queries())]
    rules = tmp_path / "dashboard-rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    done = promtool("check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_query_names_a_metric_the_endpoint_exports():
    from production.serving import metrics

    registry = CollectorRegistry()
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            registry.register(metric)
    metrics.record(200, 0.001, ["7"])  # so that labelled families have a sample
    exported = set(re.findall(r"^(score_\w+?)(?:\{| )", generate_latest(registry).decode(), re.M))
    named = {
        name
        for query in dashboard_queries() + alert_queries()
        for name in re.findall(r"\bscore_\w+", query)
    }
    assert named and named <= exported, named - exported


def test_the_notebooks_novel_alert_is_the_shipped_rule():
    """Notebook 06 evaluates NovelInputs per day with production.monitoring's constants."""
    from production.monitoring import NOVEL_ALERT_MIN_IMAGES, NOVEL_ALERT_SHARE

    rules = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())["groups"][0]["rules"]
    (expr,) = [rule["expr"] for rule in rules if rule["alert"] == "NovelInputs"]
    assert f"> {NOVEL_ALERT_SHARE}" in expr and f">= {NOVEL_ALERT_MIN_IMAGES}" in expr
