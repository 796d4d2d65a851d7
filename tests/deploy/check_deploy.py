#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the container and Kubernetes files against the rest of the repository.

docker-compose.yml, deploy/compose/ and deploy/k8s/ restate facts that are
set elsewhere: ports and the NATS cluster name in deploy/local/ports.env,
broker durability in the server.properties deploy/local/cluster writes, the
router's group, topics and admin port in the router configs. Nothing runs
them here (no Docker engine, no Kubernetes), so this script is what keeps
them in step: every fact is compared with its source, and each difference
is reported as "FAIL file: key: what differs".

Needs python3 with PyYAML and bash; no clusters, no network. Optional tools
make more checks run; each absent one is a SKIP line (in CI, env CI=true,
a FAIL: CI installs them all with deploy/local/install-deps):
  event-router   --binary / ER_ROUTER_BIN: `run --print-config` loads every
                 router config (ER_DEPLOY_REQUIRE_BINARY=1 turns a missing
                 binary into a failure)
  yamllint       ER_YAMLLINT or PATH, with the repository's .yamllint
  nats-server    ER_NATS_SERVER, $ER_TOOLS_DIR/bin (default
                 deploy/local/.tools/bin) or PATH: `-t` on
                 deploy/compose/nats/nats.conf
  kustomize      ER_KUSTOMIZE, $ER_TOOLS_DIR/bin or PATH: `kustomize build deploy/k8s`
  docker-compose ER_DOCKER_COMPOSE, $ER_TOOLS_DIR/bin or PATH: `config -q`

Not for: anything that needs a container engine or a cluster.

Usage: check_deploy.py [--source-dir DIR] [--binary PATH]
Exit status: 1 when a check failed, 77 when none failed but one was skipped
(ctest's SKIP_RETURN_CODE: the test shows as skipped, not passed), else 0.
"""

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

# limits.shutdown_timeout_ms when a config leaves it out (docs/config.md):
# the one deadline for the whole graceful stop, which the orchestrator's
# grace period must outlast.
SHUTDOWN_DEFAULT_MS = 25000

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, reported plainly
    sys.exit("check_deploy.py: PyYAML missing (apt-get install python3-yaml, "
             "or deploy/local/install-deps)")

# Fixed by the seed document (event-bus-architecture.md), not by a repo file.
SEED_KAFKA_UI_PORT = 8080
SEED_NATS_UI_PORT = 8099
SEED_KAFKA_SERVICES = ["kafka-broker-1", "kafka-broker-2", "kafka-broker-3"]
SEED_KAFKA_PORT = 9092
SEED_NATS_SERVICES = ["nats-1", "nats-2", "nats-3"]
SEED_TOPICS = ["officer-events", "incident-events"]
CONFIG_PATH_IN_IMAGE = "/etc/event-router/router.yaml"
RULES_DIR_IN_IMAGE = "/etc/event-router/rules"

# server.properties keys deploy/local/cluster writes that are per node or
# per host (listeners, ids, paths) and so legitimately differ in compose.
KAFKA_NODE_KEYS = {
    "node.id", "controller.quorum.voters", "listeners", "advertised.listeners",
    "listener.security.protocol.map", "controller.listener.names",
    "inter.broker.listener.name", "log.dirs",
    # A local-only speed-up (tests create groups all the time); compose keeps
    # the broker default.
    "offsets.topic.num.partitions",
}
# KAFKA_* variables of the apache/kafka image that are not broker properties.
KAFKA_ENV_NOT_PROPS = {"KAFKA_HEAP_OPTS", "KAFKA_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS",
                       "KAFKA_LOG4J_OPTS", "KAFKA_JMX_OPTS", "KAFKA_GC_LOG_OPTS"}


# ctest's SKIP_RETURN_CODE for unit.check_deploy (tests/CMakeLists.txt).
EXIT_SKIPPED = 77


class Checks:
    """Collects results; every failure names the file and the key."""

    def __init__(self, root):
        self.root = root
        self.failures = 0
        self.skips = 0
        self.passed = 0

    def rel(self, path):
        r = os.path.relpath(path, self.root)
        return path if r.startswith("..") else r

    def fail(self, path, key, msg):
        self.failures += 1
        print(f"FAIL {self.rel(path)}: {key}: {msg}")

    def ok(self, what):
        self.passed += 1
        print(f"ok   {what}")

    def skip(self, what, why):
        """A check that could not run. In CI that is a failure: a tool the
        pipeline installs is missing, and a green run would hide it."""
        if os.environ.get("CI") == "true":
            self.fail(what, "(not run)", f"{why}; CI=true requires every check to run")
            return
        self.skips += 1
        print(f"SKIP {what}: {why}")

    def eq(self, path, key, got, want, source):
        """Compare one value; \p source says where the expected value is set."""
        if got == want:
            self.ok(f"{self.rel(path)}: {key} = {got!r}")
            return True
        self.fail(path, key, f"is {got!r}, but {source} says {want!r}")
        return False


# ---- readers -----------------------------------------------------------------

def clean_env():
    """The environment without ER_* overrides: compare with the defaults the
    files set, not with whatever the developer's shell exports."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ER_")}


def read_ports_env(root):
    path = os.path.join(root, "deploy/local/ports.env")
    out = subprocess.run(
        ["bash", "-c", '. "$1" && for v in ${!ER_@}; do printf "%s=%s\\n" "$v" "${!v}"; done',
         "_", path], env=clean_env(), capture_output=True, text=True, check=True).stdout
    return path, dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def render_local_configs(root, tmp):
    """Let deploy/local/cluster write its cluster-mode node configs into tmp
    (the functions only; nothing is started) and read them back."""
    env = clean_env()
    env["ER_STATE_DIR"] = tmp
    subprocess.run(["bash", "-c", '. "$1"; kafka_write_config kafka-1 cluster; '
                    'nats_write_config nats-1 cluster', "_",
                    os.path.join(root, "deploy/local/cluster")],
                   env=env, check=True, capture_output=True, text=True)
    props = {}
    with open(os.path.join(tmp, "cluster/kafka-1/server.properties")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                props[k.strip()] = v.strip()
    with open(os.path.join(tmp, "cluster/nats-1/nats.conf")) as f:
        nats_conf = f.read()
    return props, nats_conf


def nats_cluster_name(text):
    m = re.search(r"cluster\s*\{[^}]*?\bname\s*[:=]\s*\"?([A-Za-z0-9._-]+)", text, re.S)
    return m.group(1) if m else None


def nats_listen_port(text, key):
    m = re.search(rf"^\s*{key}\s*[:=]\s*\"?[^\s:\"]*:(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def load_yaml_docs(checks, path):
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        checks.fail(path, "(parse)", str(e).replace("\n", " "))
        return None
    checks.ok(f"{checks.rel(path)}: parses ({len(docs)} document(s))")
    return docs


def kafka_env_to_props(env):
    """apache/kafka image convention: KAFKA_ + upper case, '.' -> '_',
    '_' -> '__', '-' -> '___'."""
    props = {}
    for k, v in env.items():
        if not k.startswith("KAFKA_") or k in KAFKA_ENV_NOT_PROPS:
            continue
        name = k[len("KAFKA_"):].lower()
        name = name.replace("___", "\0").replace("__", "\1").replace("_", ".")
        props[name.replace("\0", "-").replace("\1", "_")] = str(v)
    return props


def port_mappings(service):
    """{container_port: host_port} from short ("H:C", "IP:H:C") or long syntax."""
    out = {}
    for p in service.get("ports", []) or []:
        if isinstance(p, dict):
            out[int(p["target"])] = int(p.get("published", 0) or 0)
            continue
        parts = str(p).split("/")[0].split(":")
        if len(parts) >= 2:
            out[int(parts[-1])] = int(parts[-2])
    return out


def mounts(service):
    """{target: (source, read_only)} from short or long volume syntax."""
    out = {}
    for v in service.get("volumes", []) or []:
        if isinstance(v, dict):
            out[v["target"]] = (v.get("source"), bool(v.get("read_only")))
            continue
        parts = str(v).split(":")
        if len(parts) >= 2:
            out[parts[1]] = (parts[0], len(parts) > 2 and "ro" in parts[2].split(","))
    return out


def listen_port(listen):
    return int(listen.rsplit(":", 1)[1]) if listen and ":" in listen else None


def find_tool(env_var, *candidates):
    given = os.environ.get(env_var)
    if given:
        return given if os.access(given, os.X_OK) else None
    for c in candidates:
        if os.path.isabs(c):
            if os.access(c, os.X_OK):
                return c
        elif shutil.which(c):
            return shutil.which(c)
    return None


# ---- checks --------------------------------------------------------------------

def check_router_configs(c, root, ports, configs, binary):
    """The compose and k8s configs against deploy/local/router.yaml and ports.env."""
    local_path, local = configs["local"]
    http_port = int(ports["ER_HTTP_PORT"])
    for name in ("compose", "k8s"):
        path, cfg = configs[name]
        if cfg is None:
            continue
        for key in (("kafka", "group_id"), ("kafka", "topics"), ("kafka", "properties"),
                    ("dlq", "topic"), ("streams",)):
            got, want = cfg, local
            for k in key:
                got = (got or {}).get(k) if isinstance(got, dict) else None
                want = (want or {}).get(k) if isinstance(want, dict) else None
            c.eq(path, ".".join(key), got, want, c.rel(local_path))
        listen = (cfg.get("http") or {}).get("listen", "127.0.0.1:9180")
        c.eq(path, "http.listen (port)", listen_port(listen), http_port,
             "deploy/local/ports.env ER_HTTP_PORT")
        if listen.startswith("127.") or listen.startswith("localhost"):
            c.fail(path, "http.listen", f"{listen!r} is loopback: probes and Prometheus "
                   "outside the container cannot reach it; use 0.0.0.0")
        c.eq(path, "kafka.group_instance_id_env",
             (cfg.get("kafka") or {}).get("group_instance_id_env"), "POD_NAME",
             "the static-membership design (env POD_NAME)")
        rules = cfg.get("rules", "")
        c.eq(path, "rules (directory)", os.path.dirname(rules), RULES_DIR_IN_IMAGE,
             "the Dockerfile's rules volume")

    # Load every config with the real loader when the binary is there.
    if binary and os.access(binary, os.X_OK):
        for name in ("local", "compose", "k8s"):
            path, _ = configs[name]
            r = subprocess.run([binary, "run", "--print-config", "-c", path],
                               capture_output=True, text=True)
            if r.returncode != 0:
                c.fail(path, "(event-router run --print-config)",
                       f"exit {r.returncode}: {(r.stderr or r.stdout).strip()}")
            else:
                c.ok(f"{c.rel(path)}: loads with {binary} run --print-config")
    elif os.environ.get("ER_DEPLOY_REQUIRE_BINARY") == "1":
        c.fail(binary or "(none)", "event-router binary",
               "missing, and ER_DEPLOY_REQUIRE_BINARY=1; build the event-router target first")
    else:
        c.skip("event-router run --print-config on the local, compose and k8s configs",
               f"binary {binary or '(not given)'} does not exist (event-router not built "
               "or not linkable yet); the YAML-level checks above still ran")


def check_dockerfile(c, root, ports):
    path = os.path.join(root, "Dockerfile")
    try:
        text = open(path).read()
    except OSError as e:
        c.fail(path, "(read)", str(e))
        return None
    http_port = int(ports["ER_HTTP_PORT"])
    m = re.search(r"^HEALTHCHECK.*?http://127\.0\.0\.1:(\d+)(/\S*?)[\"\s]", text, re.M | re.S)
    if not m:
        c.fail(path, "HEALTHCHECK", "no HEALTHCHECK on http://127.0.0.1:PORT/healthz")
    else:
        c.eq(path, "HEALTHCHECK port", int(m.group(1)), http_port, "ports.env ER_HTTP_PORT")
        c.eq(path, "HEALTHCHECK path", m.group(2), "/healthz", "the admin endpoint (liveness)")
    m = re.search(r"^EXPOSE\s+(\d+)", text, re.M)
    c.eq(path, "EXPOSE", int(m.group(1)) if m else None, http_port, "ports.env ER_HTTP_PORT")
    m = re.search(r'^CMD\s+\[(.*)\]', text, re.M)
    cmd = [s.strip().strip('"') for s in m.group(1).split(",")] if m else None
    c.eq(path, "CMD", cmd, ["run", "-c", CONFIG_PATH_IN_IMAGE], "the image layout")
    m = re.search(r'^ENTRYPOINT\s+\[(.*)\]', text, re.M)
    c.eq(path, "ENTRYPOINT", m.group(1).strip() if m else None, '"event-router"',
         "the image layout")
    m = re.search(r"^USER\s+(\d+)", text, re.M)
    uid = int(m.group(1)) if m else None
    if not uid:
        c.fail(path, "USER", "no numeric non-root USER (Kubernetes runAsNonRoot needs a uid)")
    if "install-deps --build-only" not in text:
        c.fail(path, "build stage", "does not install with deploy/local/install-deps --build-only")
    if "ctest" not in text or "-L unit" not in text:
        c.fail(path, "build stage", "does not run the unit tests (ctest -L unit)")
    return uid


def check_compose(c, root, ports, compose, configs, local_props, local_nats):
    path = os.path.join(root, "docker-compose.yml")
    svcs = compose.get("services") or {}
    ports_src = "deploy/local/ports.env"

    # -- published ports: loopback only -------------------------------------------
    # The seed runs without authentication; "9092:9092" would publish it on
    # every interface of the host (docs/deploy.md, exposing the admin endpoint).
    for name, s in sorted(svcs.items()):
        for p in (s or {}).get("ports", []) or []:
            ip = p.get("host_ip") if isinstance(p, dict) else \
                (str(p).split(":")[0] if str(p).count(":") == 2 else None)
            if ip != "127.0.0.1":
                c.fail(path, f"services.{name}.ports", f"{p!r} is published on "
                       f"{ip or 'every interface'}; bind it to 127.0.0.1 (\"127.0.0.1:H:C\")")
            else:
                c.ok(f"{c.rel(path)}: services.{name}.ports {p!r} on loopback")

    # -- Kafka brokers ----------------------------------------------------------
    kafka_ports = ports["ER_KAFKA_PORTS"].split()
    cluster_ids, node_ids, voters = set(), set(), set()
    pom = open(os.path.join(root, "deploy/local/conf/kafka/pom.xml")).read()
    m = re.search(r"<artifactId>kafka_2\.13</artifactId>\s*<version>([^<]+)</version>", pom)
    kafka_version = m.group(1) if m else None
    if kafka_version and kafka_version.startswith("${"):
        m = re.search(rf"<{re.escape(kafka_version[2:-1])}>([^<]+)<", pom)
        kafka_version = m.group(1) if m else None
    for i, name in enumerate(SEED_KAFKA_SERVICES):
        s = svcs.get(name)
        if s is None:
            c.fail(path, f"services.{name}", "missing (the seed's broker)")
            continue
        key = f"services.{name}"
        image = s.get("image", "")
        c.eq(path, f"{key}.image (version)", image.rpartition(":")[2], kafka_version,
             "deploy/local/conf/kafka/pom.xml (kafka_2.13)")
        env = {k: str(v) for k, v in (s.get("environment") or {}).items()}
        props = kafka_env_to_props(env)
        for k, want in sorted(local_props.items()):
            if k in KAFKA_NODE_KEYS:
                continue
            c.eq(path, f"{key}.environment ({k})", props.get(k), want,
                 "deploy/local/cluster (cluster-mode server.properties)")
        cluster_ids.add(env.get("CLUSTER_ID"))
        node_ids.add(props.get("node.id"))
        voters.add(props.get("controller.quorum.voters"))
        adv = dict(re.findall(r"([A-Z_]+)://([^,]+)", props.get("advertised.listeners", "")))
        lst = dict(re.findall(r"([A-Z_]+)://([^,]+)", props.get("listeners", "")))
        c.eq(path, f"{key}.environment (advertised.listeners PLAINTEXT)",
             adv.get("PLAINTEXT"), f"{name}:{SEED_KAFKA_PORT}", "the seed topology")
        ext = adv.get("EXTERNAL", "")
        ext_port = int(ext.rsplit(":", 1)[1]) if ":" in ext else None
        want_port = int(kafka_ports[i]) if i < len(kafka_ports) else None
        c.eq(path, f"{key}.environment (advertised.listeners EXTERNAL port)", ext_port,
             want_port, f"{ports_src} ER_KAFKA_PORTS")
        ext_cport = listen_port(lst.get("EXTERNAL"))
        c.eq(path, f"{key}.ports (host port of EXTERNAL :{ext_cport})",
             port_mappings(s).get(ext_cport), want_port, f"{ports_src} ER_KAFKA_PORTS")
        if not s.get("healthcheck"):
            c.fail(path, f"{key}.healthcheck", "missing (the router waits for healthy brokers)")
    if len(cluster_ids) != 1 or None in cluster_ids:
        c.fail(path, "services.kafka-broker-*.environment.CLUSTER_ID",
               f"must be one value shared by all brokers, got {sorted(map(str, cluster_ids))}")
    else:
        cid = next(iter(cluster_ids))
        try:
            raw = base64.urlsafe_b64decode(cid + "=" * (-len(cid) % 4))
            if len(raw) != 16:
                raise ValueError(f"{len(raw)} bytes")
            c.ok(f"{c.rel(path)}: CLUSTER_ID {cid} is 16 bytes of base64url")
        except ValueError as e:
            c.fail(path, "CLUSTER_ID", f"{cid!r} is not a Kafka cluster id (16 bytes "
                   f"base64url): {e}")
    c.eq(path, "services.kafka-broker-*.environment (node.id)", sorted(map(str, node_ids)),
         ["1", "2", "3"], "one id per broker")
    want_voters = ",".join(f"{i + 1}@{n}:9093" for i, n in enumerate(SEED_KAFKA_SERVICES))
    c.eq(path, "services.kafka-broker-*.environment (controller.quorum.voters)",
         sorted(map(str, voters)), [want_voters], "the three broker services")

    # -- NATS -------------------------------------------------------------------
    conf_path = os.path.join(root, "deploy/compose/nats/nats.conf")
    conf = open(conf_path).read()
    c.eq(conf_path, "cluster.name", nats_cluster_name(conf), ports["ER_NATS_CLUSTER_NAME"],
         f"{ports_src} ER_NATS_CLUSTER_NAME")
    c.eq(conf_path, "cluster.name", nats_cluster_name(conf), nats_cluster_name(local_nats),
         "deploy/local/cluster (nats.conf)")
    if not re.search(r"^\s*jetstream\s*\{", conf, re.M):
        c.fail(conf_path, "jetstream", "JetStream is not enabled")
    client_port = nats_listen_port(conf, "listen")
    mon_port = nats_listen_port(conf, "http")
    routes = set(re.findall(r"nats-route://([A-Za-z0-9-]+):\d+", conf))
    c.eq(conf_path, "cluster.routes (hosts)", sorted(routes), sorted(SEED_NATS_SERVICES),
         "the NATS services in docker-compose.yml")
    libsh = open(os.path.join(root, "deploy/local/lib.sh")).read()
    m = re.search(r'^ER_NATS_SERVER_VERSION="v?([^"]+)"', libsh, re.M)
    nats_version = m.group(1) if m else None
    names = set()
    for i, name in enumerate(SEED_NATS_SERVICES):
        s = svcs.get(name)
        key = f"services.{name}"
        if s is None:
            c.fail(path, key, "missing (the seed's NATS node)")
            continue
        c.eq(path, f"{key}.image (version)",
             re.sub(r"-.*$", "", s.get("image", "").rpartition(":")[2]), nats_version,
             "deploy/local/lib.sh ER_NATS_SERVER_VERSION")
        pm = port_mappings(s)
        c.eq(path, f"{key}.ports (client {client_port})", pm.get(client_port),
             int(ports["ER_NATS_PORTS"].split()[i]), f"{ports_src} ER_NATS_PORTS")
        c.eq(path, f"{key}.ports (monitoring {mon_port})", pm.get(mon_port),
             int(ports["ER_NATS_MONITOR_PORTS"].split()[i]),
             f"{ports_src} ER_NATS_MONITOR_PORTS")
        mnt = mounts(s)
        cmd = s.get("command") or []
        conf_target = cmd[cmd.index("-c") + 1] if "-c" in cmd else None
        src = (mnt.get(conf_target) or (None,))[0]
        c.eq(path, f"{key}.volumes ({conf_target})", src, "./deploy/compose/nats/nats.conf",
             "the command's -c")
        names.add((s.get("environment") or {}).get("NATS_SERVER_NAME"))
        if not s.get("healthcheck"):
            c.fail(path, f"{key}.healthcheck", "missing")
    c.eq(path, "services.nats-*.environment.NATS_SERVER_NAME", sorted(map(str, names)),
         sorted(SEED_NATS_SERVICES), "one server name per node")

    # -- UIs --------------------------------------------------------------------
    for svc, port in (("kafka-ui", SEED_KAFKA_UI_PORT), ("nats-ui", SEED_NATS_UI_PORT)):
        s = svcs.get(svc)
        if s is None:
            c.fail(path, f"services.{svc}", "missing")
            continue
        c.eq(path, f"services.{svc}.ports (host)", sorted(port_mappings(s).values()), [port],
             "the seed document")

    # -- provisioning -----------------------------------------------------------
    cpath, cfg = configs["compose"]
    kt = svcs.get("kafka-topics") or {}
    topics = {}
    for spec in str((kt.get("environment") or {}).get("TOPICS", "")).split():
        name, _, parts = spec.partition(":")
        topics[name] = int(parts) if parts.isdigit() else None
    dlq = ((cfg or {}).get("dlq") or {}).get("topic")
    for t in SEED_TOPICS + [dlq]:
        if t not in topics:
            c.fail(path, "services.kafka-topics.environment.TOPICS", f"does not create {t!r}")
    sub = [re.compile(p) for p in ((cfg or {}).get("kafka") or {}).get("topics", [])
           if p.startswith("^")]
    for t in topics:
        matched = any(p.search(t) for p in sub)
        if t == dlq and matched:
            c.fail(cpath, "kafka.topics", f"the subscription matches the DLQ topic {t!r}")
        elif t != dlq and not matched:
            c.fail(cpath, "kafka.topics", f"the subscription does not match topic {t!r} "
                   "that docker-compose.yml creates")
    cmd_text = " ".join(map(str, (kt.get("command") or []) + (kt.get("entrypoint") or [])))
    m = re.search(r"--replication-factor\s+(\d+)", cmd_text)
    c.eq(path, "services.kafka-topics.command (--replication-factor)", m.group(1) if m else None,
         local_props.get("default.replication.factor"),
         "deploy/local/cluster default.replication.factor")
    ns = svcs.get("nats-streams") or {}
    c.eq(path, "services.nats-streams.command", ns.get("command"),
         ["streams", "-c", CONFIG_PATH_IN_IMAGE], "the router image layout")
    c.eq(path, f"services.nats-streams.volumes ({CONFIG_PATH_IN_IMAGE})",
         (mounts(ns).get(CONFIG_PATH_IN_IMAGE) or (None,))[0], "./deploy/compose/router.yaml",
         "deploy/compose/router.yaml")

    # -- routers ----------------------------------------------------------------
    routers = {n: s for n, s in svcs.items()
               if s.get("image", "").startswith("event-router") and n != "nats-streams"}
    replicas = sum(int(((s.get("deploy") or {}).get("replicas")) or 1) for s in routers.values())
    if replicas < 2:
        c.fail(path, "services.event-router*", f"{replicas} router replica(s); want at least 2")
    else:
        c.ok(f"{c.rel(path)}: {replicas} router replicas ({', '.join(sorted(routers))})")
    http_port = listen_port(((cfg or {}).get("http") or {}).get("listen"))
    inst_env = ((cfg or {}).get("kafka") or {}).get("group_instance_id_env")
    stop_ms = ((cfg or {}).get("limits") or {}).get("shutdown_timeout_ms", SHUTDOWN_DEFAULT_MS)
    rules_dir = os.path.dirname((cfg or {}).get("rules", ""))
    inst_ids = []
    for n, s in sorted(routers.items()):
        key = f"services.{n}"
        mnt = mounts(s)
        c.eq(path, f"{key}.volumes ({CONFIG_PATH_IN_IMAGE})",
             (mnt.get(CONFIG_PATH_IN_IMAGE) or (None,))[0], "./deploy/compose/router.yaml",
             "deploy/compose/router.yaml")
        c.eq(path, f"{key}.volumes ({rules_dir})", (mnt.get(rules_dir) or (None,))[0],
             "./rules", f"{c.rel(cpath)} rules: (a directory mount, for hot reload)")
        hc = " ".join(map(str, (s.get("healthcheck") or {}).get("test") or []))
        m = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*)", hc)
        c.eq(path, f"{key}.healthcheck (port)", int(m.group(1)) if m else None, http_port,
             f"{c.rel(cpath)} http.listen")
        c.eq(path, f"{key}.healthcheck (path)", m.group(2) if m else None, "/healthz",
             "the admin endpoint (liveness)")
        inst_ids.append((s.get("environment") or {}).get(inst_env))
        deps = s.get("depends_on") or {}
        for b in SEED_KAFKA_SERVICES + SEED_NATS_SERVICES:
            cond = (deps.get(b) or {}).get("condition") if isinstance(deps, dict) else None
            c.eq(path, f"{key}.depends_on.{b}.condition", cond, "service_healthy",
                 "the brief (routers start on healthy brokers)")
        for p in ("kafka-topics", "nats-streams"):
            cond = (deps.get(p) or {}).get("condition") if isinstance(deps, dict) else None
            c.eq(path, f"{key}.depends_on.{p}.condition", cond,
                 "service_completed_successfully", "the provisioning order")
        grace = str(s.get("stop_grace_period", "10s"))
        m = re.fullmatch(r"(\d+)s", grace)
        if not m or int(m.group(1)) * 1000 <= stop_ms:
            c.fail(path, f"{key}.stop_grace_period", f"{grace} is not longer than "
                   f"limits.shutdown_timeout_ms ({stop_ms} ms): SIGKILL would cut the "
                   "drain or the final commit")
    if None in inst_ids or len(set(inst_ids)) != len(inst_ids):
        c.fail(path, f"services.event-router*.environment.{inst_env}",
               f"each replica needs its own static membership id, got {inst_ids}")
    else:
        c.ok(f"{c.rel(path)}: distinct {inst_env} per replica: {inst_ids}")


def url_ports(urls, default):
    """Ports of "host:port" or "scheme://host:port" entries, comma lists allowed."""
    out = set()
    for u in urls:
        for one in str(u).split(","):
            hp = one.strip().rsplit("/", 1)[-1] if "://" in one else one.strip()
            port = hp.rsplit(":", 1)[1] if ":" in hp else ""
            out.add(int(port) if port.isdigit() else default)
    return out


def check_network_policy(c, kdir, nps, selects, http_port, cfg):
    """The admin port only from the monitoring namespace; egress only to
    Kafka, NATS and DNS (docs/deploy.md, exposing the admin endpoint)."""
    mine = [(p, n) for p, n in nps
            if selects(((n.get("spec") or {}).get("podSelector") or {}).get("matchLabels"))]
    if not mine:
        c.fail(kdir, "NetworkPolicy", "none selects the router pods: the unauthenticated "
               "admin port is open to every pod in the cluster")
        return
    for npath, n in mine:
        spec = n.get("spec") or {}
        key = f"NetworkPolicy/{(n.get('metadata') or {}).get('name')}"
        c.eq(npath, f"{key}.spec.policyTypes", sorted(spec.get("policyTypes") or []),
             ["Egress", "Ingress"], "docs/deploy.md (admin port and egress restricted)")
        in_ports = set()
        for i, rule in enumerate(spec.get("ingress") or []):
            peers = rule.get("from") or []
            if not peers or any(not (p.get("namespaceSelector") or p.get("podSelector"))
                                for p in peers):
                c.fail(npath, f"{key}.spec.ingress[{i}].from",
                       "admits every source; name the monitoring namespace and pods")
            for p in peers:
                ns = ((p.get("namespaceSelector") or {}).get("matchLabels") or {})
                if ns.get("kubernetes.io/metadata.name") != "monitoring":
                    c.fail(npath, f"{key}.spec.ingress[{i}].from.namespaceSelector",
                           f"{ns!r} is not the monitoring namespace")
            rports = rule.get("ports") or []
            if not rports:
                c.fail(npath, f"{key}.spec.ingress[{i}].ports", "missing: admits every port")
            in_ports |= {p.get("port") for p in rports}
        c.eq(npath, f"{key}.spec.ingress[].ports", sorted(in_ports, key=str), [http_port],
             "router.yaml http.listen")
        out = {(p.get("port"), p.get("protocol", "TCP"))
               for rule in spec.get("egress") or [] for p in rule.get("ports") or []}
        if any(not rule.get("ports") for rule in spec.get("egress") or []):
            c.fail(npath, f"{key}.spec.egress", "a rule without ports admits everything")
        want = {(p, "TCP") for p in url_ports(((cfg or {}).get("kafka") or {}).get("brokers")
                                              and [cfg["kafka"]["brokers"]] or [], 9092)}
        want |= {(p, "TCP") for p in url_ports(((cfg or {}).get("nats") or {}).get("servers")
                                               or [], 4222)}
        want |= {(53, "UDP"), (53, "TCP")}
        c.eq(npath, f"{key}.spec.egress[].ports", sorted(out, key=str), sorted(want, key=str),
             "router.yaml kafka.brokers, nats.servers and DNS")


def check_k8s(c, root, k8s_docs, configs, compose, image_uid):
    kdir = os.path.join(root, "deploy/k8s")
    cpath, cfg = configs["k8s"]
    by_kind = {}
    for path, docs in k8s_docs.items():
        for d in docs:
            if not isinstance(d, dict):
                continue
            if "metadata" in d and "namespace" in (d.get("metadata") or {}):
                c.fail(path, f"{d.get('kind')}.metadata.namespace",
                       "set; the manifests must stay namespace-agnostic")
            by_kind.setdefault(d.get("kind"), []).append((path, d))

    # -- kustomization ----------------------------------------------------------
    kpath = os.path.join(kdir, "kustomization.yaml")
    kus = (by_kind.get("Kustomization") or [(kpath, {})])[0][1]
    res = kus.get("resources") or []
    for f in sorted(os.listdir(kdir)):
        if f.endswith(".yaml") and f not in ("kustomization.yaml", os.path.basename(cpath)):
            if f not in res:
                c.fail(kpath, "resources", f"does not list {f}")
    for r in res:
        if not os.path.exists(os.path.join(kdir, r)):
            c.fail(kpath, "resources", f"lists {r}, which does not exist")
    gens = {g.get("name"): g for g in kus.get("configMapGenerator") or []}
    cfg_gen, rules_gen = gens.get("event-router-config"), gens.get("event-router-rules")
    c.eq(kpath, "configMapGenerator[event-router-config].files",
         (cfg_gen or {}).get("files"), [os.path.basename(cpath)], "deploy/k8s/router.yaml")
    c.eq(kpath, "configMapGenerator[event-router-rules].options.disableNameSuffixHash",
         ((rules_gen or {}).get("options") or {}).get("disableNameSuffixHash"), True,
         "hot reload (the rules ConfigMap must be updated in place)")
    rules_file = os.path.basename((cfg or {}).get("rules", ""))
    rfiles = [os.path.basename(f.split("=", 1)[-1]) if "=" not in f else f.split("=", 1)[0]
              for f in (rules_gen or {}).get("files") or []]
    if rules_file not in rfiles:
        c.fail(kpath, "configMapGenerator[event-router-rules].files",
               f"{rfiles} has no key {rules_file!r}, the file router.yaml's rules: names")

    # -- StatefulSet ------------------------------------------------------------
    workloads = (by_kind.get("StatefulSet") or []) + (by_kind.get("Deployment") or [])
    if len(workloads) != 1:
        c.fail(kdir, "StatefulSet/Deployment", f"want exactly one, found {len(workloads)}")
        return
    wpath, w = workloads[0]
    wkind, wname = w["kind"], w["metadata"]["name"]
    tmpl = w["spec"]["template"]
    pod_labels = tmpl["metadata"].get("labels") or {}
    spec = tmpl["spec"]
    ctr = spec["containers"][0]
    key = f"{wkind}/{wname}.containers[{ctr.get('name')}]"
    http_port = listen_port(((cfg or {}).get("http") or {}).get("listen"))
    named = {p.get("name"): p.get("containerPort") for p in ctr.get("ports") or []}

    def probe_port(p):
        port = ((p or {}).get("httpGet") or {}).get("port")
        return named.get(port) if isinstance(port, str) else port

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        p = ctr.get(probe)
        c.eq(wpath, f"{key}.{probe}.httpGet.path", ((p or {}).get("httpGet") or {}).get("path"),
             path, "the admin endpoint")
        c.eq(wpath, f"{key}.{probe}.httpGet.port", probe_port(p), http_port,
             f"{c.rel(cpath)} http.listen")
    env = {e.get("name"): e for e in ctr.get("env") or []}
    inst_env = ((cfg or {}).get("kafka") or {}).get("group_instance_id_env")
    ref = (((env.get(inst_env) or {}).get("valueFrom") or {}).get("fieldRef") or {})
    c.eq(wpath, f"{key}.env[{inst_env}].valueFrom.fieldRef.fieldPath", ref.get("fieldPath"),
         "metadata.name", f"{c.rel(cpath)} kafka.group_instance_id_env (static membership)")
    args = ctr.get("args") or []
    conf_arg = args[args.index("-c") + 1] if "-c" in args else None
    c.eq(wpath, f"{key}.args (-c)", conf_arg, CONFIG_PATH_IN_IMAGE, "the image layout")
    vols = {v.get("name"): v for v in spec.get("volumes") or []}
    vm = {m.get("mountPath"): m for m in ctr.get("volumeMounts") or []}
    cm = vm.get(CONFIG_PATH_IN_IMAGE) or {}
    c.eq(wpath, f"{key}.volumeMounts[{CONFIG_PATH_IN_IMAGE}] (ConfigMap)",
         ((vols.get(cm.get("name")) or {}).get("configMap") or {}).get("name"),
         "event-router-config", "kustomization.yaml configMapGenerator")
    rules_dir = os.path.dirname((cfg or {}).get("rules", ""))
    rm = vm.get(rules_dir)
    if not rm:
        c.fail(wpath, f"{key}.volumeMounts", f"nothing mounted at {rules_dir} "
               f"({c.rel(cpath)} rules:)")
    else:
        if rm.get("subPath"):
            c.fail(wpath, f"{key}.volumeMounts[{rules_dir}].subPath",
                   "set; a subPath mount never sees ConfigMap updates, so hot reload breaks")
        c.eq(wpath, f"{key}.volumeMounts[{rules_dir}] (ConfigMap)",
             ((vols.get(rm.get("name")) or {}).get("configMap") or {}).get("name"),
             "event-router-rules", "kustomization.yaml configMapGenerator")
    res = ctr.get("resources") or {}
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if not (res.get(part) or {}).get(r):
                c.fail(wpath, f"{key}.resources.{part}.{r}", "missing")
    sc, psc = ctr.get("securityContext") or {}, spec.get("securityContext") or {}
    c.eq(wpath, f"{key}.securityContext.readOnlyRootFilesystem",
         sc.get("readOnlyRootFilesystem"), True, "the brief (read-only root fs)")
    c.eq(wpath, f"{wkind}/{wname}.securityContext.runAsNonRoot",
         psc.get("runAsNonRoot", sc.get("runAsNonRoot")), True, "the brief (non-root)")
    c.eq(wpath, f"{wkind}/{wname}.securityContext.runAsUser",
         psc.get("runAsUser", sc.get("runAsUser")), image_uid, "Dockerfile USER")
    stop_ms = ((cfg or {}).get("limits") or {}).get("shutdown_timeout_ms", SHUTDOWN_DEFAULT_MS)
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace * 1000 <= stop_ms:
        c.fail(wpath, f"{wkind}/{wname}.terminationGracePeriodSeconds",
               f"{grace}s is not longer than limits.shutdown_timeout_ms ({stop_ms} ms)")
    ann = tmpl["metadata"].get("annotations") or {}
    c.eq(wpath, f"{wkind}/{wname}.template.annotations[prometheus.io/port]",
         int(ann.get("prometheus.io/port", 0)), http_port, f"{c.rel(cpath)} http.listen")

    def selects(sel):
        return bool(sel) and all(pod_labels.get(k) == v for k, v in sel.items())

    # -- Service, PDB -----------------------------------------------------------
    svcs = by_kind.get("Service") or []
    if not svcs:
        c.fail(kdir, "Service", "missing (metrics)")
    for spath, s in svcs:
        skey = f"Service/{s['metadata']['name']}"
        if not selects((s.get("spec") or {}).get("selector")):
            c.fail(spath, f"{skey}.spec.selector", f"does not select the pods {pod_labels}")
        sports = [p.get("port") for p in (s.get("spec") or {}).get("ports") or []]
        c.eq(spath, f"{skey}.spec.ports[].port", sports, [http_port],
             f"{c.rel(cpath)} http.listen")
        a = (s.get("metadata") or {}).get("annotations") or {}
        c.eq(spath, f"{skey}.metadata.annotations[prometheus.io/scrape]",
             a.get("prometheus.io/scrape"), "true", "Prometheus scraping")
        c.eq(spath, f"{skey}.metadata.annotations[prometheus.io/port]",
             int(a.get("prometheus.io/port", 0)), http_port, f"{c.rel(cpath)} http.listen")
    if wkind == "StatefulSet" and w["spec"].get("serviceName") not in \
            [s["metadata"]["name"] for _, s in svcs]:
        c.fail(wpath, f"{wkind}/{wname}.spec.serviceName", "names no Service in deploy/k8s")
    pdbs = by_kind.get("PodDisruptionBudget") or []
    if not pdbs:
        c.fail(kdir, "PodDisruptionBudget", "missing")
    for ppath, p in pdbs:
        if not selects(((p.get("spec") or {}).get("selector") or {}).get("matchLabels")):
            c.fail(ppath, "PodDisruptionBudget.spec.selector.matchLabels",
                   f"does not select the pods {pod_labels}")

    # -- NetworkPolicy ------------------------------------------------------------
    check_network_policy(c, kdir, by_kind.get("NetworkPolicy") or [], selects, http_port, cfg)

    # -- KEDA ScaledObject --------------------------------------------------------
    sos = by_kind.get("ScaledObject") or []
    if len(sos) != 1:
        c.fail(kdir, "ScaledObject", f"want exactly one, found {len(sos)}")
        return
    opath, so = sos[0]
    ospec = so.get("spec") or {}
    tgt = ospec.get("scaleTargetRef") or {}
    c.eq(opath, "ScaledObject.spec.scaleTargetRef", (tgt.get("kind"), tgt.get("name")),
         (wkind, wname), c.rel(wpath))
    trig = [t for t in ospec.get("triggers") or [] if t.get("type") == "kafka"]
    if not trig:
        c.fail(opath, "ScaledObject.spec.triggers", "no kafka trigger")
        return
    md = trig[0].get("metadata") or {}
    c.eq(opath, "ScaledObject.spec.triggers[kafka].metadata.consumerGroup",
         md.get("consumerGroup"), ((cfg or {}).get("kafka") or {}).get("group_id"),
         f"{c.rel(cpath)} kafka.group_id")
    c.eq(opath, "ScaledObject.spec.triggers[kafka].metadata.bootstrapServers",
         md.get("bootstrapServers"), ((cfg or {}).get("kafka") or {}).get("brokers"),
         f"{c.rel(cpath)} kafka.brokers")
    c.eq(opath, "ScaledObject.spec.triggers[kafka].metadata.offsetResetPolicy",
         md.get("offsetResetPolicy"), "earliest", "router/source.c (auto.offset.reset)")
    kt = ((compose or {}).get("services") or {}).get("kafka-topics") or {}
    parts = [int(p) for n, _, p in (s.partition(":") for s in
             str((kt.get("environment") or {}).get("TOPICS", "")).split())
             if n in SEED_TOPICS and p.isdigit()]
    c.eq(opath, "ScaledObject.spec.maxReplicaCount", ospec.get("maxReplicaCount"),
         max(parts) if parts else None,
         "docker-compose.yml kafka-topics (partitions of the largest event topic)")
    if (ospec.get("minReplicaCount") or 0) > (ospec.get("maxReplicaCount") or 0):
        c.fail(opath, "ScaledObject.spec.minReplicaCount", "greater than maxReplicaCount")


def check_tools(c, root, yaml_files):
    """Optional external validators; each skips plainly when absent."""
    yl = find_tool("ER_YAMLLINT", "yamllint")
    if yl:
        r = subprocess.run([yl, "-f", "parsable", "-c", os.path.join(root, ".yamllint")]
                           + yaml_files, capture_output=True, text=True, cwd=root)
        if r.returncode != 0:
            for line in (r.stdout + r.stderr).strip().splitlines():
                c.fail(os.path.join(root, line.split(":", 1)[0]), "(yamllint)", line)
        else:
            c.ok(f"yamllint: {len(yaml_files)} files clean")
    else:
        c.skip("yamllint", "not installed (deploy/local/install-deps installs it)")

    # install-deps puts nats-server, kustomize and docker-compose here.
    tools_bin = os.path.join(os.environ.get("ER_TOOLS_DIR")
                             or os.path.join(root, "deploy/local/.tools"), "bin")
    ns = find_tool("ER_NATS_SERVER", os.path.join(tools_bin, "nats-server"), "nats-server")
    conf = os.path.join(root, "deploy/compose/nats/nats.conf")
    if ns:
        env = dict(os.environ, NATS_SERVER_NAME="nats-1")
        r = subprocess.run([ns, "-t", "-c", conf], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            c.fail(conf, f"({ns} -t)", (r.stderr or r.stdout).strip())
        else:
            c.ok(f"{c.rel(conf)}: {ns} -t accepts it")
    else:
        c.skip("nats-server -t", "no nats-server (deploy/local/install-deps builds one)")

    ku = find_tool("ER_KUSTOMIZE", os.path.join(tools_bin, "kustomize"), "kustomize")
    if ku:
        with tempfile.TemporaryDirectory() as tmp:
            dst = os.path.join(tmp, "k8s")
            shutil.copytree(os.path.join(root, "deploy/k8s"), dst)
            os.makedirs(os.path.join(dst, "rules"), exist_ok=True)
            src = os.path.join(root, "rules/default.yaml")
            rdst = os.path.join(dst, "rules/default.yaml")
            if os.path.exists(src):
                shutil.copy(src, rdst)
            elif not os.path.exists(rdst):
                open(rdst, "w").write("# stand-in: rules/default.yaml is not in this tree\n")
            r = subprocess.run([ku, "build", dst], capture_output=True, text=True)
            if r.returncode != 0:
                c.fail(os.path.join(root, "deploy/k8s/kustomization.yaml"), "(kustomize build)",
                       r.stderr.strip())
            else:
                kinds = sorted(d["kind"] for d in yaml.safe_load_all(r.stdout) if d)
                c.ok(f"kustomize build deploy/k8s: {', '.join(kinds)}")
    else:
        c.skip("kustomize build deploy/k8s", "no kustomize (set ER_KUSTOMIZE)")

    dc = find_tool("ER_DOCKER_COMPOSE", os.path.join(tools_bin, "docker-compose"),
                   "docker-compose")
    if dc:
        r = subprocess.run([dc, "-f", os.path.join(root, "docker-compose.yml"), "config", "-q"],
                           capture_output=True, text=True, cwd=root)
        if r.returncode != 0:
            c.fail(os.path.join(root, "docker-compose.yml"), "(docker-compose config)",
                   r.stderr.strip())
        else:
            c.ok("docker-compose config -q: the compose file is valid")
    else:
        c.skip("docker-compose config", "no docker compose (set ER_DOCKER_COMPOSE)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source-dir", default=os.environ.get(
        "ER_SOURCE_DIR", os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))))
    ap.add_argument("--binary", default=os.environ.get("ER_ROUTER_BIN"),
                    help="event-router binary for --print-config (CMake passes it)")
    a = ap.parse_args()
    root = os.path.abspath(a.source_dir)
    c = Checks(root)

    # Every YAML file in scope must parse.
    compose_path = os.path.join(root, "docker-compose.yml")
    k8s_dir = os.path.join(root, "deploy/k8s")
    k8s_files = sorted(os.path.join(k8s_dir, f) for f in os.listdir(k8s_dir)
                       if f.endswith((".yaml", ".yml")))
    compose_files = sorted(os.path.join(d, f)
                           for d, _, fs in os.walk(os.path.join(root, "deploy/compose"))
                           for f in fs if f.endswith((".yaml", ".yml")))
    local_cfg = os.path.join(root, "deploy/local/router.yaml")
    parsed = {p: load_yaml_docs(c, p)
              for p in [compose_path] + k8s_files + compose_files + [local_cfg]}
    if any(v is None for v in parsed.values()):
        print("check_deploy: parse errors above; the remaining checks need the files")
        return 1
    first = {p: (docs[0] if docs else None) for p, docs in parsed.items()}
    configs = {
        "local": (local_cfg, first[local_cfg]),
        "compose": (os.path.join(root, "deploy/compose/router.yaml"),
                    first.get(os.path.join(root, "deploy/compose/router.yaml"))),
        "k8s": (os.path.join(k8s_dir, "router.yaml"),
                first.get(os.path.join(k8s_dir, "router.yaml"))),
    }
    for name, (p, cfg) in configs.items():
        if not isinstance(cfg, dict):
            c.fail(p, "(document)", "missing or not a mapping")
            return 1

    ports_path, ports = read_ports_env(root)
    with tempfile.TemporaryDirectory() as tmp:
        local_props, local_nats = render_local_configs(root, tmp)
    c.ok(f"rendered deploy/local/cluster's cluster-mode configs "
         f"({len(local_props)} broker properties)")

    check_router_configs(c, root, ports, configs, a.binary)
    uid = check_dockerfile(c, root, ports)
    check_compose(c, root, ports, first[compose_path], configs, local_props, local_nats)
    check_k8s(c, root, {p: parsed[p] for p in k8s_files}, configs, first[compose_path], uid)
    yaml_files = [os.path.relpath(p, root) for p in parsed] + [".yamllint"]
    check_tools(c, root, yaml_files)

    print(f"check_deploy: {c.passed} passed, {c.failures} failed, {c.skips} skipped")
    if c.failures:
        return 1
    return EXIT_SKIPPED if c.skips else 0


if __name__ == "__main__":
    sys.exit(main())
