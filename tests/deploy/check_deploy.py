#!/usr/bin/env python3
"""Checks the hardening of the deploy files (no cluster, no Docker daemon needed).

  check_deploy.py [REPO_ROOT]

deploy/Dockerfile, deploy/Dockerfile.dockerignore, deploy/kubernetes/*.yaml and deploy/systemd/*.service must
keep the properties docs/deploy.md promises; each broken one is printed, and the exit status is
1. With systemd-analyze on the machine, the unit's `systemd-analyze security` exposure must be
at most 2.0. Needs PyYAML (Debian: python3-yaml).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

MAX_EXPOSURE = 2.0
PROBE = ["/usr/local/bin/giosg-gateway", "probe"]


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, condition, what):
        if not condition:
            self.failures.append(what)
        return condition


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    out = []
    for item in joined:
        word, _, rest = item.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def check_docker(root, c):
    text = open(os.path.join(root, "deploy", "Dockerfile"), encoding="utf-8").read()
    instructions = dockerfile_instructions(text)
    stages = [args for word, args in instructions if word == "FROM"]
    c.expect(len(stages) >= 2, "Dockerfile: not a multi-stage build")
    final = instructions[max(i for i, (w, _) in enumerate(instructions) if w == "FROM"):]
    users = [args for word, args in final if word == "USER"]
    c.expect(users and users[-1].split(":")[0] not in ("root", "0"), "Dockerfile: the final stage does not run as a non-root USER")
    checks = [args for word, args in final if word == "HEALTHCHECK"]
    if c.expect(len(checks) == 1, "Dockerfile: no HEALTHCHECK in the final stage"):
        c.expect("giosg-gateway" in checks[0] and '"probe"' in checks[0],
                 "Dockerfile: HEALTHCHECK does not use `giosg-gateway probe`")
        c.expect(re.search(r"--timeout=\d+s", checks[0]) is not None, "Dockerfile: HEALTHCHECK without --timeout")
    c.expect(not any(word == "ADD" for word, _ in instructions), "Dockerfile: ADD (use COPY)")

    # BuildKit takes <Dockerfile>.dockerignore beside the Dockerfile before the context root's.
    ignore_file = os.path.join(root, "deploy", "Dockerfile.dockerignore")
    if c.expect(os.path.isfile(ignore_file), "deploy/Dockerfile.dockerignore missing"):
        patterns = {line.strip() for line in open(ignore_file, encoding="utf-8")
                    if line.strip() and not line.startswith("#")}
        for needed in (".git", "build"):
            c.expect(needed in patterns, f"Dockerfile.dockerignore: does not exclude {needed}")
        c.expect(any(p.endswith(".key") for p in patterns), "Dockerfile.dockerignore: does not exclude private keys (*.key)")


def container_named(deployment, name):
    for container in deployment["spec"]["template"]["spec"].get("containers", []):
        if container.get("name") == name:
            return container
    return None


def probe_command(probe):
    return ((probe or {}).get("exec") or {}).get("command") or []


def check_kubernetes(root, c):
    folder = os.path.join(root, "deploy", "kubernetes")
    manifests = sorted(f for f in os.listdir(folder) if f.endswith((".yaml", ".yml")))
    c.expect(manifests, "deploy/kubernetes: no manifest")
    gateways = 0
    for name in manifests:
        documents = [d for d in yaml.safe_load_all(open(os.path.join(folder, name), encoding="utf-8")) if d]
        configs = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "ConfigMap"}
        claims = {d["metadata"]["name"] for d in documents if d.get("kind") == "PersistentVolumeClaim"}
        for workload in (d for d in documents if d.get("kind") in ("Deployment", "StatefulSet")):
            where = f"{name}: {workload['kind']} {workload['metadata']['name']}"
            pod = workload["spec"]["template"]["spec"]
            gateway = container_named(workload, "giosg-gateway")
            if gateway is None:  # a companion (the Redis of replicas.yaml): hardened alike, no gateway config
                for other in pod.get("containers", []):
                    security = other.get("securityContext") or {}
                    c.expect(security.get("allowPrivilegeEscalation") is False and
                             (security.get("capabilities") or {}).get("drop") == ["ALL"],
                             f"{where}: container {other.get('name')} keeps privileges")
                c.expect(pod.get("automountServiceAccountToken") is False, f"{where}: service account token mounted")
                continue
            gateways += 1
            pod_security = pod.get("securityContext") or {}
            security = gateway.get("securityContext") or {}
            c.expect(security.get("runAsNonRoot") is True or pod_security.get("runAsNonRoot") is True,
                     f"{where}: runAsNonRoot is not true")
            c.expect(security.get("runAsUser", pod_security.get("runAsUser")) not in (None, 0),
                     f"{where}: no non-zero runAsUser")
            c.expect(security.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem is not true")
            c.expect(security.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation is not false")
            c.expect(security.get("privileged") in (None, False), f"{where}: privileged")
            c.expect((security.get("capabilities") or {}).get("drop") == ["ALL"], f"{where}: capabilities do not drop ALL")
            c.expect(not (security.get("capabilities") or {}).get("add"), f"{where}: capabilities added")
            seccomp = security.get("seccompProfile") or pod_security.get("seccompProfile") or {}
            c.expect(seccomp.get("type") == "RuntimeDefault", f"{where}: seccompProfile is not RuntimeDefault")
            c.expect(pod.get("automountServiceAccountToken") is False, f"{where}: service account token mounted")
            resources = gateway.get("resources") or {}
            c.expect({"cpu", "memory"} <= set(resources.get("requests") or {}), f"{where}: no cpu/memory requests")
            c.expect("memory" in (resources.get("limits") or {}), f"{where}: no memory limit")
            # Probes: exec `giosg-gateway probe` (the admin listener stays on loopback).
            for probe, kind in (("livenessProbe", "live"), ("readinessProbe", "ready")):
                command = probe_command(gateway.get(probe))
                c.expect(command[:2] == PROBE and kind in command, f"{where}: {probe} is not `giosg-gateway probe {kind}`")
            c.expect(workload["spec"].get("replicas", 1) == 1 or workload["kind"] == "StatefulSet",
                     f"{where}: several replicas of a Deployment would share one audit volume")
            if workload["kind"] == "Deployment":
                c.expect((workload["spec"].get("strategy") or {}).get("type") == "Recreate",
                         f"{where}: a rolling update would run two gateways on one audit volume (use Recreate)")
            mounts = {m["name"]: m for m in gateway.get("volumeMounts", [])}
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            c.expect(all("subPath" not in m for m in mounts.values()),
                     f"{where}: a subPath mount never sees a rotated secret or config")
            c.expect(pod.get("terminationGracePeriodSeconds", 30) > 10,
                     f"{where}: terminationGracePeriodSeconds leaves no time to drain")

            # The config the gateway reads.
            config_path = None
            args = gateway.get("args", [])
            if "--config" in args:
                config_path = args[args.index("--config") + 1]
            config = None
            for mount in mounts.values():
                volume = volumes.get(mount["name"], {})
                if config_path and config_path.startswith(mount["mountPath"].rstrip("/") + "/") and "configMap" in volume:
                    data = configs.get(volume["configMap"]["name"], {}).get("data", {})
                    text = data.get(os.path.basename(config_path))
                    if c.expect(text is not None, f"{where}: {config_path} is not in its ConfigMap"):
                        config = yaml.safe_load(text)  # JSON is YAML
            if not c.expect(config is not None, f"{where}: cannot find the gateway config"):
                continue
            admin = config.get("admin_listen", "")
            c.expect(admin.startswith("127.0.0.1:") or admin.startswith("[::1]:") or "admin_token_sha256" in config,
                     f"{where}: admin_listen {admin!r} beyond loopback without admin_token_sha256")
            audit_path = (config.get("audit") or {}).get("path", "-")
            c.expect(audit_path != "-", f"{where}: audit goes to stdout, not to a file on a volume")
            audit_mount = [m for m in mounts.values() if audit_path.startswith(m["mountPath"].rstrip("/") + "/")]
            if c.expect(audit_mount, f"{where}: audit path {audit_path} is not on a mounted volume"):
                mount = audit_mount[0]
                volume = volumes.get(mount["name"], {})
                c.expect(not mount.get("readOnly"), f"{where}: the audit volume is mounted read-only")
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                templates = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
                c.expect(claim is not None or mount["name"] in templates,
                         f"{where}: the audit volume is not persistent")
                c.expect(claim is None or claim in claims, f"{where}: claim {claim} is not defined in {name}")
            for credential in (config.get("credentials") or {}).values():
                token_file = credential.get("token_file")
                if token_file:
                    c.expect(any(token_file.startswith(m["mountPath"].rstrip("/") + "/") and "secret" in volumes.get(n, {})
                                 for n, m in mounts.items()), f"{where}: token_file {token_file} is not on a secret volume")

    c.expect(gateways > 0, "deploy/kubernetes: no workload runs giosg-gateway")

def unit_settings(text):
    settings = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def check_systemd(root, c):
    folder = os.path.join(root, "deploy", "systemd")
    for name in sorted(f for f in os.listdir(folder) if f.endswith(".service")):
        path = os.path.join(folder, name)
        s = unit_settings(open(path, encoding="utf-8").read())
        service = lambda key: s.get(("Service", key), [])  # noqa: E731
        c.expect(service("User") and service("User")[-1] not in ("root", "0"), f"{name}: no non-root User=")
        c.expect("-HUP" in " ".join(service("ExecReload")), f"{name}: ExecReload does not send SIGHUP")
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                           ("PrivateDevices", "yes"), ("ProtectKernelTunables", "yes"), ("RestrictNamespaces", "yes"),
                           ("MemoryDenyWriteExecute", "yes"), ("LockPersonality", "yes")):
            c.expect(service(key)[-1:] == [value], f"{name}: {key}={value} missing")
        c.expect(service("CapabilityBoundingSet")[-1:] == [""], f"{name}: CapabilityBoundingSet= is not empty")
        c.expect(any(v.startswith("@system-service") for v in service("SystemCallFilter")),
                 f"{name}: no SystemCallFilter=@system-service")
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            print(f"note: systemd-analyze not found; {name}'s exposure not measured")
            continue
        # --offline wants a unit file name it can recognise; a copy keeps the check read-only.
        with tempfile.TemporaryDirectory() as folder_copy:
            copy = os.path.join(folder_copy, name)
            shutil.copyfile(path, copy)
            result = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", copy],
                                    capture_output=True, text=True, timeout=60)
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
        if c.expect(match is not None, f"{name}: systemd-analyze security printed no exposure:\n{result.stdout}{result.stderr}"):
            exposure = float(match.group(1))
            print(f"{name}: systemd-analyze security exposure {exposure}")
            c.expect(exposure <= MAX_EXPOSURE, f"{name}: exposure {exposure} > {MAX_EXPOSURE}")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    c = Checker()
    check_docker(root, c)
    check_kubernetes(root, c)
    check_systemd(root, c)
    for failure in c.failures:
        print("FAIL:", failure)
    if c.failures:
        return 1
    print("deploy files: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
