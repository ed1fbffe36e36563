#!/usr/bin/env python3
"""Checks deploy/monitoring: the Prometheus alerting rules and the Grafana dashboard.

  check_monitoring.py [REPO_ROOT]

- alerts.yml: `promtool check rules` must accept it (Debian's `prometheus` package; without
  promtool a structural check stands in, and a note says so). Every alert has a severity label
  and a summary; the alerts cover audit failures and backlog, upstream errors, rate limiting,
  held catalogue changes and reload failures.
- grafana-dashboard.json parses; every panel has targets with a unique refId and a query.
- Every giosg_gateway_* metric named in either is one docs/reference.md names (the dashboard's
  must be in its metrics table: exported today). tests/integration/drift_test.cpp also checks the
  dashboard against a running gateway's /metrics.
Needs PyYAML (Debian: python3-yaml).
"""
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

METRIC = re.compile(r"giosg_gateway_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SEVERITIES = {"critical", "warning", "info"}
# What the alerts must watch: a metric (or code) each, as named in docs/reference.md.
COVERAGE = {
    "audit failing": "giosg_gateway_audit_healthy",
    "audit records dropped": "giosg_gateway_audit_dropped_total",
    "audit backlog": 'code="audit_unavailable"',
    "upstream errors": "giosg_gateway_upstream_responses_total",
    "upstream unavailable": "upstream_unavailable",
    "rate limiting": "rate_limited",
    "held catalogue changes": "giosg_gateway_policy_changes_held",
    "reload failures": 'giosg_gateway_reloads_total{result="error"}',
}


def base_names(expr, known):
    names = set()
    for name in METRIC.findall(expr):
        if name not in known:
            for suffix in HISTOGRAM_SUFFIXES:
                if name.endswith(suffix) and name[: -len(suffix)] in known:
                    name = name[: -len(suffix)]
                    break
        names.add(name)
    return names


def reference_metrics(root):
    """(every giosg_gateway_* name in docs/reference.md, those in its metrics table rows)."""
    text = open(os.path.join(root, "docs", "reference.md"), encoding="utf-8").read()
    tabled = set(re.findall(r"^\| `(giosg_gateway_[a-z0-9_]+)` \|", text, re.M))
    return set(METRIC.findall(text)), tabled


def check_rules(path, mentioned, failures):
    promtool = shutil.which("promtool")
    if promtool:
        result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            failures.append(f"promtool check rules {path}:\n{result.stdout}{result.stderr}")
    else:
        print("note: promtool not found (Debian package `prometheus`); structural check only")
    document = yaml.safe_load(open(path, encoding="utf-8"))
    groups = document.get("groups") if isinstance(document, dict) else None
    if not groups:
        failures.append(f"{path}: no groups")
        return ""
    exprs = []
    seen = set()
    for group in groups:
        if not group.get("name") or not group.get("rules"):
            failures.append(f"{path}: a group without a name or rules")
            continue
        for rule in group["rules"]:
            name = rule.get("alert")
            where = f"{path}: {group['name']}/{name}"
            if not name or "expr" not in rule:
                failures.append(f"{where}: not an alerting rule with an expr")
                continue
            if name in seen:
                failures.append(f"{where}: duplicate alert name")
            seen.add(name)
            expr = str(rule["expr"])
            exprs.append(expr)
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                failures.append(f"{where}: unbalanced brackets")
            if "for" in rule and not re.fullmatch(r"\d+[smhd]", str(rule["for"])):
                failures.append(f"{where}: bad `for` {rule['for']!r}")
            if (rule.get("labels") or {}).get("severity") not in SEVERITIES:
                failures.append(f"{where}: severity label not one of {sorted(SEVERITIES)}")
            if not (rule.get("annotations") or {}).get("summary"):
                failures.append(f"{where}: no summary annotation")
            for metric in base_names(expr, mentioned):
                if metric not in mentioned:
                    failures.append(f"{where}: {metric} is not a metric docs/reference.md names")
    all_exprs = "\n".join(exprs)
    for what, needle in COVERAGE.items():
        if needle not in all_exprs:
            failures.append(f"{path}: no alert on {what} ({needle})")
    return all_exprs


def check_dashboard(path, tabled, failures):
    try:
        dashboard = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        failures.append(f"{path}: not JSON: {e}")
        return
    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in dashboard:
            failures.append(f"{path}: no {key}")
    ids = set()
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            failures.append(f"{path}: panel id {panel.get('id')} repeated")
        ids.add(panel.get("id"))
        if not {"x", "y", "w", "h"} <= set(panel.get("gridPos", {})):
            failures.append(f"{path}: {title}: no gridPos")
        targets = panel.get("targets") or []
        if not targets:
            failures.append(f"{path}: {title}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or None in refs:
            failures.append(f"{path}: {title}: refIds missing or repeated")
        for target in targets:
            expr = target.get("expr", "")
            names = base_names(expr, tabled)
            if not names:
                failures.append(f"{path}: {title}: a query without a gateway metric: {expr!r}")
            for metric in names - tabled:
                failures.append(f"{path}: {title}: {metric} is not in docs/reference.md's metrics table")
            if expr.count("(") != expr.count(")"):
                failures.append(f"{path}: {title}: unbalanced brackets in {expr!r}")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    folder = os.path.join(root, "deploy", "monitoring")
    mentioned, tabled = reference_metrics(root)
    failures = []
    check_rules(os.path.join(folder, "alerts.yml"), mentioned, failures)
    check_dashboard(os.path.join(folder, "grafana-dashboard.json"), tabled, failures)
    for failure in failures:
        print("FAIL:", failure)
    if failures:
        return 1
    print("monitoring kit: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
