# SPDX-License-Identifier: Apache-2.0
"""
bench.py - the event-router benchmark driver. Run it through bench/run,
which builds the tree and checks the clusters first; `bench/run --help`
lists the options.

What it measures, against the clusters in ER_KAFKA_BOOTSTRAP / ER_NATS_URL:

  throughput  Preloaded topic (N envelopes, half critical), router started
              with a fresh consumer group. Router publish rate = stored
              messages / (last - first JetStream stored timestamp). The
              ceiling is er_js_publish (async, Nats-Msg-Id, same payload
              size, same provenance headers except two) into a stream of
              the same configuration, measured the same way. Router and
              ceiling alternate (C,R then R,C ...) inside each repetition.
  latency     Router running on an empty topic; er_produce at 25/50/75 % of
              the router's measured maximum (all events, half critical);
              latency = JetStream stored time - Kafka record timestamp
              (ms) per stored message; the latency topics use LogAppendTime
              (the broker's append) unless --timestamp-type CreateTime.
  resources   /proc/PID of the router sampled every 20 ms: utime+stime over
              the window first..last stored message, VmRSS and VmHWM.
  window      Throughput against the in-flight window (router
              limits.max_inflight_total, er_js_publish --max-pending).
  scaling     64 partitions; two router replicas in one consumer group.

Every stream is created fresh for one phase and removed afterwards; both
publishers connect to the NATS server that leads that stream, so neither
pays an extra cluster hop the other does not.

Not for: pass/fail testing (timings on a shared box are not verdicts).
"""
import argparse
import copy
import datetime
import json
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("ER_BUILD_DIR", os.path.join(ROOT, "build"))
TOOLS = os.path.join(BUILD, "tools")
ROUTER_BIN = os.environ.get("ER_ROUTER_BIN", os.path.join(BUILD, "event-router"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
T_START = time.monotonic()


def log(msg):
    el = time.monotonic() - T_START
    print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---- tools -------------------------------------------------------------------


def run(cmd, check=True, timeout=None, stdout=subprocess.PIPE):
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-800:]}")
    return p


def tool(name, *args, check=True, timeout=None):
    """Run build/tools/NAME and parse its last stdout line as JSON."""
    p = run([os.path.join(TOOLS, name), *map(str, args)], check=check, timeout=timeout)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    return json.loads(lines[-1]) if lines else {}


class Cluster:
    """Names, topics and streams this run creates; removed at exit."""

    def __init__(self, run_id):
        self.run_id = run_id
        self.brokers = os.environ["ER_KAFKA_BOOTSTRAP"]
        self.nats_urls = os.environ["ER_NATS_URL"].split(",")
        self.mode = os.environ.get("ER_CLUSTER_MODE", "cluster")
        self.rf = 1 if self.mode == "single" or len(self.brokers.split(",")) == 1 else 3
        self.topics, self.streams = set(), set()
        self.seq = 0

    def name(self, kind):
        self.seq += 1
        return f"bench-{self.run_id}-{kind}-{self.seq}"

    def create_topic(self, partitions, timestamp_type=None):
        t = self.name("events")
        extra = ["--config", f"message.timestamp.type={timestamp_type}"] if timestamp_type else []
        tool("er_admin", "create-topic", t, "--partitions", partitions, "--replication-factor",
             self.rf, "--config", f"min.insync.replicas={2 if self.rf > 1 else 1}", *extra)
        self.topics.add(t)
        return t

    def delete_topic(self, t):
        tool("er_admin", "delete-topic", t, check=False)
        self.topics.discard(t)

    def create_stream(self, replicas):
        """A fresh stream; returns (name, subject prefix, URL of its leader's server)."""
        if self.mode == "single":
            replicas = 1
        self.seq += 1
        name = f"BENCH_{self.run_id}_{self.seq}".upper()
        prefix = f"bench.{self.run_id}.{self.seq}"
        tool("er_js", "stream-add", name, "--subjects", prefix + ".>", "--replicas", replicas,
             "--storage", "file", "--dupe-window-s", 120)
        self.streams.add(name)
        leader = ""
        for _ in range(100):
            info = tool("er_js", "stream-info", name)
            leader = (info.get("cluster") or {}).get("leader") or ""
            if leader or "cluster" not in info:
                break
            time.sleep(0.1)
        url = self.nats_urls[0]
        m = re.fullmatch(r"nats-(\d+)", leader)
        if m and int(m.group(1)) <= len(self.nats_urls):
            url = self.nats_urls[int(m.group(1)) - 1]
        return name, prefix, url, leader

    def stream_info(self, name):
        return tool("er_js", "stream-info", name)

    def delete_stream(self, name):
        tool("er_js", "stream-rm", name, check=False)
        self.streams.discard(name)

    def cleanup(self):
        for s in list(self.streams):
            self.delete_stream(s)
        for t in list(self.topics):
            self.delete_topic(t)


def wait_count(stream, count, timeout_s):
    r = tool("er_js", "wait-count", stream, "--count", count, "--timeout-s", timeout_s,
             check=False)
    if not r.get("reached"):
        raise BenchError(f"stream {stream}: {r.get('messages')} of {count} messages after "
                         f"{timeout_s}s")


def stored_rate(info):
    """Messages per second between the first and the last stored timestamp."""
    n, d = info["messages"], (info["last_ts_ns"] - info["first_ts_ns"]) / 1e9
    return (n - 1) / d if n > 1 and d > 0 else 0.0, d


# ---- /proc sampling ------------------------------------------------------------


class Sampler(threading.Thread):
    """Samples a process's CPU ticks and memory every `period` seconds."""

    def __init__(self, pid, period=0.02):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples = []  # (wall ns, cpu ticks, VmRSS kB, VmHWM kB, main-thread ticks)
        self.stop_flag = threading.Event()

    def read(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        with open(f"/proc/{self.pid}/task/{self.pid}/stat") as f:
            tf = f.read().rsplit(")", 1)[1].split()
        main = int(tf[11]) + int(tf[12])
        rss = hwm = 0
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        return (time.time_ns(), ticks, rss, hwm, main)

    def run(self):
        while not self.stop_flag.is_set():
            try:
                self.samples.append(self.read())
            except (OSError, ValueError, IndexError):
                break
            time.sleep(self.period)

    def stop(self):
        try:
            self.samples.append(self.read())
        except (OSError, ValueError, IndexError):
            pass
        self.stop_flag.set()
        self.join()

    def at(self, t_ns, col):
        """Column value linearly interpolated at wall time t_ns."""
        s = self.samples
        if not s:
            return 0.0
        if t_ns <= s[0][0]:
            return float(s[0][col])
        for a, b in zip(s, s[1:]):
            if a[0] <= t_ns <= b[0]:
                f = (t_ns - a[0]) / (b[0] - a[0]) if b[0] > a[0] else 0
                return a[col] + f * (b[col] - a[col])
        return float(s[-1][col])


# ---- the router ------------------------------------------------------------------


class Router:
    def __init__(self, opts, cluster, topics, prefix, url, group, port, window, tag, binary=None,
                 props=(), ordering=None):
        self.bin = binary or ROUTER_BIN
        self.dir = os.path.join(opts.work, tag)
        os.makedirs(self.dir, exist_ok=True)
        rules = os.path.join(self.dir, "rules.yaml")
        with open(os.path.join(ROOT, "rules", "default.yaml")) as f:
            text = f.read()
        new = text.replace('subject: "commands.', f'subject: "{prefix}.commands.')
        if new == text:
            raise BenchError("could not prefix the subject in rules/default.yaml")
        if ordering:
            text, new = new, new.replace("\nordering: key\n", f"\nordering: {ordering}\n")
            if new == text and ordering != "key":
                raise BenchError("could not set ordering: in rules/default.yaml")
        with open(rules, "w") as f:
            f.write(new)
        cfg = copy.deepcopy(opts.base_config)
        k = cfg.setdefault("kafka", {})
        k["brokers"], k["group_id"], k["topics"] = cluster.brokers, group, list(topics)
        k.pop("group_instance_id", None)
        extra = list(opts.kafka_prop) + list(props)
        keys = {q.split("=", 1)[0] for q in extra}
        k["properties"] = [p for p in (k.get("properties") or [])
                           if p.split("=", 1)[0] not in keys] + extra
        n = cfg.setdefault("nats", {})
        n["servers"], n["name"] = [url], "bench-router"
        cfg["rules"] = rules
        lim = cfg.setdefault("limits", {})
        if opts.inflight_per_partition:
            lim["max_inflight_per_partition"] = opts.inflight_per_partition
        if opts.inflight_total:
            lim["max_inflight_total"] = opts.inflight_total
        if window:
            lim["max_inflight_total"] = window
            lim["max_inflight_per_partition"] = window
        cfg.pop("dlq", None)
        cfg.pop("streams", None)
        cfg["http"] = {"listen": f"127.0.0.1:{port}"}
        cfg["log"] = {"level": "warn", "format": "logfmt"}
        self.cfg_path = os.path.join(self.dir, "router.yaml")
        with open(self.cfg_path, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        self.limits = {"max_inflight_per_partition": lim.get("max_inflight_per_partition"),
                       "max_inflight_total": lim.get("max_inflight_total")}
        self.port = port
        self.proc = None
        self.sampler = None

    def start(self, perf_out=None):
        logf = open(os.path.join(self.dir, "router.log"), "w")
        cmd = [self.bin, "run", "-c", self.cfg_path]
        if perf_out:
            cmd = ["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-o", perf_out,
                   "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf)
        pid = self.proc.pid
        if perf_out:  # sample the router, not perf
            for _ in range(100):
                try:
                    pid = int(run(["pgrep", "-P", str(self.proc.pid)]).stdout.split()[0])
                    break
                except (BenchError, IndexError, ValueError):
                    time.sleep(0.05)
        self.pid = pid
        self.sampler = Sampler(pid)
        self.sampler.start()

    def wait_ready(self, timeout_s=60):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"router exited early ({self.proc.returncode}); see {self.dir}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz",
                                            timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"router not ready after {timeout_s}s; see {self.dir}")

    def histograms(self):
        """Cumulative buckets of the router's latency histograms: {name: [(le, count)]}."""
        out = {}
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return out
        for line in text.splitlines():
            m = re.match(r'^(\w+)_bucket\{le="([^"]+)"\} (\S+)$', line)
            if m:
                le = float("inf") if m.group(2) == "+Inf" else float(m.group(2))
                out.setdefault(m.group(1), []).append((le, float(m.group(3))))
        return out

    def scrape_metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                with open(os.path.join(self.dir, "metrics.txt"), "wb") as f:
                    f.write(r.read())
        except OSError as e:
            log(f"could not scrape the router's metrics: {e}")

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)  # the router itself, also under perf
        except ProcessLookupError:
            pass
        self.sampler.stop()  # last sample: just before the drain
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if rc != 0:
            log(f"warning: router exited {rc}; see {self.dir}/router.log")
        return rc


def window_stats(samplers, t0, t1, events):
    """CPU and memory of the router process(es) between wall times t0 and t1."""
    cpu = sum(s.at(t1, 1) - s.at(t0, 1) for s in samplers) / CLK_TCK
    main = sum(s.at(t1, 4) - s.at(t0, 4) for s in samplers) / CLK_TCK / len(samplers)
    total = sum((s.samples[-1][1] - s.samples[0][1]) for s in samplers if s.samples) / CLK_TCK
    hwm = max((max(x[3] for x in s.samples) for s in samplers if s.samples), default=0)
    rss = {}
    for pct in (25, 50, 75, 100):
        t = t0 + (t1 - t0) * pct / 100
        rss[str(pct)] = round(sum(s.at(t, 2) for s in samplers) / 1024, 1)
    wall = (t1 - t0) / 1e9
    return {"cpu_s": round(cpu, 3), "cpu_us_per_event": round(cpu * 1e6 / events, 2),
            "main_thread_busy": round(main / wall, 2) if wall > 0 else None,
            "cpu_s_whole_process": round(total, 3),
            "cpu_us_per_event_whole_process": round(total * 1e6 / events, 2),
            "vmhwm_mb": round(hwm / 1024, 1), "rss_mb_at_pct": rss}


# ---- phases ------------------------------------------------------------------------


class Preload:
    """A topic holding N envelopes of one size, produced before the runs."""

    def __init__(self, opts, cluster, size, partitions, n):
        self.size, self.partitions, self.n = size, partitions, n
        self.topic = cluster.create_topic(partitions)
        self.ids = os.path.join(opts.work, f"{self.topic}.ids")
        t = time.monotonic()
        r = tool("er_produce", "--brokers", cluster.brokers, "--topics", self.topic, "--count", n,
                 "--size", size, "--critical-ratio", opts.critical_ratio, "--ids-out", self.ids,
                 "--run-id", f"{cluster.run_id}s{size}p{partitions}", "--seed", size, "--quiet",
                 "--aggregates", opts.aggregates,
                 "-X", f"linger.ms={opts.producer_linger_ms}", timeout=1800)
        if r.get("failed"):
            raise BenchError(f"preload {self.topic}: {r['failed']} events not delivered")
        self.produced, self.critical = r["produced"], r["critical"]
        # Every delivery report confirmed an offset; check Kafka holds as many.
        end = tool("er_admin", "end-offsets", "--topic", self.topic)
        if end["end_total"] != self.produced:
            raise BenchError(f"preload {self.topic}: er_produce confirmed {self.produced} events, "
                             f"Kafka holds {end['end_total']}")
        self.producer_eps = r["eps"]
        self.value_bytes = int(r["avg_value_bytes"])
        log(f"preloaded {self.topic}: {self.produced} events ({self.critical} critical), "
            f"{self.value_bytes} B average value, producer {self.producer_eps:,.0f}/s, "
            f"{time.monotonic() - t:.1f}s")
        self._ceiling_ids = {}

    def ceiling_ids(self, opts, tag):
        """The critical events' ids file with fresh IDs (same columns, so the same
        provenance headers), for one ceiling run."""
        path = os.path.join(opts.work, f"{self.topic}.{tag}.ceiling.ids")
        with open(self.ids) as fi, open(path, "w") as fo:
            for line in fi:
                fo.write(f"c{tag}-{line}")
        return path


def run_ceiling(opts, cluster, pre, replicas, window, tag):
    name, prefix, url, leader = cluster.create_stream(replicas)
    ids = pre.ceiling_ids(opts, tag)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = tool("er_js_publish", "--nats", url, "--ids", ids, "--stream-subject",
             f"{prefix}.ceiling", "--size", pre.value_bytes, "--max-pending", window,
             "--ack-wait-s", 60, timeout=1800)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(ids)
    info = cluster.stream_info(name)
    cluster.delete_stream(name)
    eps, dur = stored_rate(info)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if info["messages"] != pre.critical:
        raise BenchError(f"ceiling stored {info['messages']} of {pre.critical}")
    return {"kind": "ceiling", "replicas": replicas, "size": pre.size, "window": window,
            "messages": info["messages"], "duration_s": round(dur, 3), "publish_eps": round(eps),
            "tool_eps": r.get("eps"), "bytes_per_msg": round(info["bytes"] / info["messages"]),
            "leader": leader, "cpu_us_per_msg": round(cpu * 1e6 / info["messages"], 2)}


def run_router(opts, cluster, pre, replicas, tag, window=None, routers=1, perf_out=None,
               binary=None, props=(), ordering=None):
    name, prefix, url, leader = cluster.create_stream(replicas)
    group = f"bench-{cluster.run_id}-{tag}"
    rs = [Router(opts, cluster, [pre.topic], prefix, url, group, opts.http_port + i, window,
                 f"{tag}-r{i}", binary, props, ordering or opts.ordering)
          for i in range(routers)]
    for r in rs:
        r.start(perf_out=perf_out)
    try:
        wait_count(name, pre.critical, max(120, pre.n // 1000))
    except BenchError:
        for r in rs:  # for the post-mortem
            r.scrape_metrics()
        # Kafka's end offsets against what the group committed, per partition.
        off = run([os.path.join(TOOLS, "er_admin"), "offsets", "--group", group, "--topic",
                   pre.topic], check=False).stdout
        with open(os.path.join(rs[0].dir, "offsets.json"), "w") as f:
            f.write(off)
        log(f"post-mortem: {rs[0].dir} (metrics.txt, offsets.json)")
        raise
    else:
        for r in rs:  # kept beside router.log: latency histograms, waits, retries
            r.scrape_metrics()
    finally:
        rcs = [r.stop() for r in rs]
    info = cluster.stream_info(name)
    cluster.delete_stream(name)
    eps, dur = stored_rate(info)
    res = {"kind": "router", "replicas": replicas, "size": pre.size, "routers": routers,
           "partitions": pre.partitions, "events": pre.produced, "messages": info["messages"],
           "duration_s": round(dur, 3), "publish_eps": round(eps),
           "consumed_eps": round(eps * pre.produced / max(1, info["messages"])),
           "bytes_per_msg": round(info["bytes"] / info["messages"]), "leader": leader,
           "limits": rs[0].limits, "kafka_props": list(props), "exit_codes": rcs,
           "ordering": ordering or opts.ordering or "key"}
    res.update(window_stats([r.sampler for r in rs], info["first_ts_ns"], info["last_ts_ns"],
                            pre.produced))
    res["rss_timeline"] = [((t - info["first_ts_ns"]) / 1e9, round(rss / 1024, 1))
                           for (t, _, rss, _, _) in rs[0].sampler.samples[::5]]
    return res


def hist_quantile(buckets, q):
    """Upper bound (ms) of the Prometheus bucket holding quantile q: a ceiling, not a point."""
    total = buckets[-1][1] if buckets else 0
    for le, c in buckets:
        if total and c >= total * q / 100:
            return None if le == float("inf") else round(le * 1000, 1)
    return None


def run_floor(opts, cluster, pre, replicas, rate, pct, window, tag):
    """The same load without the router: at the same time, er_produce writes
    `rate` events/s into a fresh topic that kcat (librdkafka high-level
    consumer, same fetch.wait.max.ms) reads, timing each record's arrival
    against its CreateTime; and er_js_publish writes the critical share of
    `rate` into a fresh stream, each message stamped with its publish time.
    Kafka and JetStream thus share the machine as they do under the router.
    A zero-cost router would add nothing between the two, so the sum of a
    Kafka and a JetStream sample (random pairs) estimates its latency."""
    topic = cluster.create_topic(opts.partitions, opts.timestamp_type)
    name, prefix, url, leader = cluster.create_stream(replicas)
    klat = []
    kc = subprocess.Popen(["kcat", "-C", "-b", cluster.brokers, "-G",
                           f"bench-{cluster.run_id}-{tag}", topic, "-f", "%T\n", "-u", "-q",
                           "-X", "fetch.wait.max.ms=10", "-X", "auto.offset.reset=earliest"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def reader():
        for line in kc.stdout:
            now = time.time_ns() / 1e6
            try:
                klat.append((int(line), now - int(line)))
            except ValueError:
                pass

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    crate = max(1, rate * opts.critical_ratio)
    try:
        time.sleep(3.0)  # group join and first fetches
        t0_ms = time.time_ns() // 1_000_000
        js = subprocess.Popen(
            [os.path.join(TOOLS, "er_js_publish"), "--nats", url, "--stream-subject",
             f"{prefix}.floor", "--count", str(max(1, int(crate * opts.live_duration_s))),
             "--rate", str(round(crate)), "--size", str(pre.value_bytes), "--max-pending",
             str(window), "--msg-id-prefix", f"f{tag}", "--stamp-header", "Bench-Sent-Ns"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p = tool("er_produce", "--brokers", cluster.brokers, "--topics", topic, "--rate",
                 round(rate), "--duration-s", opts.live_duration_s, "--size", pre.size,
                 "--critical-ratio", opts.critical_ratio, "--quiet",
                 "-X", f"linger.ms={opts.producer_linger_ms}", timeout=600)
        js.wait(timeout=600)
        deadline = time.monotonic() + 30
        while len(klat) < p["produced"] and time.monotonic() < deadline:
            time.sleep(0.2)
        dump = run([os.path.join(TOOLS, "er_js"), "dump", name, "--quiet"], timeout=600).stdout
    finally:
        kc.terminate()
        kc.wait()
        th.join(timeout=5)
        cluster.delete_stream(name)
        cluster.delete_topic(topic)
    warm = t0_ms + opts.warmup_s * 1000
    kv = sorted(l for ts, l in klat if ts >= warm)
    jv = []
    for line in dump.splitlines():
        m = json.loads(line)
        sent = m["headers"].get("Bench-Sent-Ns")
        if sent is not None and int(sent) / 1e6 >= warm:
            jv.append((m["time_ns"] - int(sent)) / 1e6)
    jv.sort()
    rng = random.Random(1)
    sv = sorted(rng.choice(kv) + rng.choice(jv) for _ in range(min(200000, 4 * len(jv)))
                ) if kv and jv else []
    if not kv or not jv:
        log(f"warning: no-router run {tag}: {len(kv)} Kafka and {len(jv)} JetStream samples "
            f"(kcat received {len(klat)} records, er_produce wrote {p['produced']})")
    res = {"replicas": replicas, "size": pre.size, "offered_pct": pct, "offered_eps": round(rate),
           "kafka_samples": len(kv), "js_samples": len(jv), "leader": leader}
    for label, vals in (("kafka", kv), ("js", jv), ("sum", sv)):
        for q in (50, 99, 99.9):
            v = percentile(vals, q)
            res[f"{label}_p{q:g}_ms"] = round(v, 2) if v is not None else None
    res["cdf_ms"] = [round(percentile(sv, i / 2), 3) for i in range(0, 201)] if sv else []
    return res


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def run_live_max(opts, cluster, pre, replicas, tag):
    """The live pipeline's maximum: the router running while er_produce writes
    N events as fast as Kafka takes them (same linger.ms). Everything shares
    the machine, as in the latency runs; the rate the router stored events at
    (times N / critical) is the maximum the offered rates are shares of."""
    topic = cluster.create_topic(opts.partitions)
    name, prefix, url, leader = cluster.create_stream(replicas)
    r = Router(opts, cluster, [topic], prefix, url, f"bench-{cluster.run_id}-{tag}",
               opts.http_port, None, tag)
    r.start()
    try:
        r.wait_ready()
        time.sleep(1.0)
        p = tool("er_produce", "--brokers", cluster.brokers, "--topics", topic, "--count",
                 pre.n, "--size", pre.size, "--critical-ratio", opts.critical_ratio, "--quiet",
                 "-X", f"linger.ms={opts.producer_linger_ms}",
                 "--run-id", f"{cluster.run_id}m{tag}", timeout=1800)
        wait_count(name, p["critical"], max(120, pre.n // 1000))
    finally:
        r.stop()
    info = cluster.stream_info(name)
    cluster.delete_stream(name)
    cluster.delete_topic(topic)
    eps, dur = stored_rate(info)
    return {"replicas": replicas, "size": pre.size, "events": p["produced"],
            "producer_eps": round(p["eps"]), "publish_eps": round(eps),
            "consumed_eps": round(eps * p["produced"] / max(1, info["messages"]))}


def run_latency(opts, cluster, size, replicas, rate, pct, tag):
    topic = cluster.create_topic(opts.partitions, opts.timestamp_type)
    name, prefix, url, leader = cluster.create_stream(replicas)
    r = Router(opts, cluster, [topic], prefix, url, f"bench-{cluster.run_id}-{tag}",
               opts.http_port, None, tag)
    r.start()
    hist = {}
    try:
        r.wait_ready()
        time.sleep(1.0)  # let the first fetches settle
        t0_ms = time.time_ns() // 1_000_000
        p = tool("er_produce", "--brokers", cluster.brokers, "--topics", topic, "--rate",
                 round(rate), "--duration-s", opts.live_duration_s, "--size", size,
                 "--critical-ratio", opts.critical_ratio, "--quiet",
                 "-X", f"linger.ms={opts.producer_linger_ms}",
                 "--run-id", f"{cluster.run_id}l{tag}", timeout=600)
        wait_count(name, p["critical"], 120)
        hist = r.histograms()
    finally:
        r.stop()
    dump = run([os.path.join(TOOLS, "er_js"), "dump", name, "--quiet"], timeout=600).stdout
    lat = []
    warm_ms = t0_ms + opts.warmup_s * 1000
    for line in dump.splitlines():
        m = json.loads(line)
        ts = m["headers"].get("Kafka-Timestamp")
        if ts is None or int(ts) < warm_ms:
            continue
        lat.append(m["time_ns"] / 1e6 - int(ts))
    lat.sort()
    cluster.delete_stream(name)
    cluster.delete_topic(topic)
    res = {"replicas": replicas, "size": size, "offered_pct": pct, "offered_eps": round(rate),
           "produced": p["produced"], "achieved_eps": p.get("send_eps"),
           "producer_max_late_ms": p.get("max_late_ms"), "samples": len(lat), "leader": leader}
    for q in (50, 90, 99, 99.9):
        v = percentile(lat, q)
        res[f"p{q:g}_ms"] = round(v, 2) if v is not None else None
    res["max_ms"] = round(lat[-1], 2) if lat else None
    for h in ("er_publish_ack_seconds", "er_end_to_end_seconds"):
        if h in hist:
            res[h] = {f"p{q:g}_ms": hist_quantile(hist[h], q) for q in (50, 99)}
    # A compact CDF for the plot: 200 quantiles.
    res["cdf_ms"] = [round(percentile(lat, i / 2), 3) for i in range(0, 201)] if lat else []
    return res


# ---- report --------------------------------------------------------------------------


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def spread(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


def summarize(results):
    rows = []
    for (R, S), pairs in sorted(results["pairs"].items()):
        ratios = [p["router"]["publish_eps"] / p["ceiling"]["publish_eps"] for p in pairs
                  if p["ceiling"]["publish_eps"]]
        rt = [p["router"] for p in pairs]
        row = {
            "replicas": R, "size": S, "reps": len(pairs),
            "ratio_median": round(median(ratios), 3),
            "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
            "router_publish_eps": round(median([r["publish_eps"] for r in rt])),
            "router_consumed_eps": round(median([r["consumed_eps"] for r in rt])),
            "ceiling_publish_eps": round(median([p["ceiling"]["publish_eps"] for p in pairs])),
            "cpu_us_per_event": median([r["cpu_us_per_event"] for r in rt]),
            "cpu_us_per_published": round(median([r["cpu_s"] * 1e6 / r["messages"]
                                                   for r in rt]), 2),
            "vmhwm_mb": median([r["vmhwm_mb"] for r in rt]),
            "vmhwm_mb_max": max(r["vmhwm_mb"] for r in rt),
            "router_bytes_per_msg": rt[0]["bytes_per_msg"],
            "ceiling_bytes_per_msg": pairs[0]["ceiling"]["bytes_per_msg"],
        }
        if all("router_b" in p for p in pairs):
            rb = [p["router_b"] for p in pairs]
            row["ab"] = {
                "ratio_median": round(median([b["publish_eps"] / p["ceiling"]["publish_eps"]
                                              for b, p in zip(rb, pairs)]), 3),
                "router_publish_eps": round(median([b["publish_eps"] for b in rb])),
                "cpu_us_per_event": median([b["cpu_us_per_event"] for b in rb]),
                "vmhwm_mb": median([b["vmhwm_mb"] for b in rb]),
            }
        rows.append(row)
    return rows


def key_str(k):
    return f"{k[0]}/{k[1]}"


def write_reports(opts, results):
    os.makedirs(opts.out, exist_ok=True)
    base = os.path.join(opts.out, opts.name)
    summary = summarize(results) if results["pairs"] else []
    results["summary"] = summary
    out = dict(results)
    out["pairs"] = [{"replicas": k[0], "size": k[1], "reps": v}
                    for k, v in sorted(results["pairs"].items())]
    with open(base + ".json", "w") as f:
        json.dump(out, f, indent=1)
    md = []
    meta = results["meta"]
    md.append(f"# event-router benchmark: {opts.name}\n")
    md.append(f"Generated by `{meta['command']}` on {meta['date']} (commit {meta['commit']}), "
              f"{meta['cpus']} CPUs, cluster mode {meta['cluster_mode']}, load average "
              f"{meta['loadavg_before']} before and {meta.get('loadavg_after', '?')} after. "
              f"{meta['partitions']} partitions, {meta['events']} events per preload run, "
              f"{meta['reps']} repetitions; medians, with the min..max of the router/ceiling "
              f"ratio over the repetitions. Raw data: `{opts.name}.json`; plot: "
              f"`{opts.name}.png`.\n")
    if summary:
        md.append("## Throughput: router against the raw JetStream ceiling\n")
        md.append("Publish rate = JetStream messages stored per second, first to last stored "
                  "timestamp. The router publishes the critical half of the events it "
                  "consumes; \"consumed\" counts every event read from Kafka. CPU is the "
                  "router's utime+stime in that window per consumed event (per published "
                  "event in brackets); RSS is the router's VmHWM.\n")
        md.append("| stream | size | router publish/s | ceiling publish/s | **ratio** (min..max) "
                  "| router consumed/s | CPU µs/event | peak RSS MB |")
        md.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in summary:
            md.append(f"| R{r['replicas']} | {r['size']} B ({r['router_bytes_per_msg']} B "
                      f"stored) | {r['router_publish_eps']:,} | {r['ceiling_publish_eps']:,} | "
                      f"**{r['ratio_median']:.2f}** ({r['ratio_min']:.2f}..{r['ratio_max']:.2f})"
                      f" | {r['router_consumed_eps']:,} | {r['cpu_us_per_event']:.2f} "
                      f"({r['cpu_us_per_published']:.2f}) | {r['vmhwm_mb']:.0f} |")
        md.append("")
        if any("ab" in r for r in summary):
            other = f"`{opts.ab}`" if opts.ab else "itself"
            if opts.ab_ordering:
                other += f" with `ordering: {opts.ab_ordering}`"
            md.append(f"A/B: this build (`ordering: {opts.ordering or 'key'}`) against {other}, "
                      "run in the same pairs.\n")
            md.append("| stream | size | ratio this build | ratio --ab | publish/s this | "
                      "publish/s --ab | CPU µs/event this | --ab | RSS MB this | --ab |")
            md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for r in summary:
                b = r.get("ab")
                if b:
                    md.append(f"| R{r['replicas']} | {r['size']} B | {r['ratio_median']:.2f} | "
                              f"{b['ratio_median']:.2f} | {r['router_publish_eps']:,} | "
                              f"{b['router_publish_eps']:,} | {r['cpu_us_per_event']:.2f} | "
                              f"{b['cpu_us_per_event']:.2f} | {r['vmhwm_mb']:.0f} | "
                              f"{b['vmhwm_mb']:.0f} |")
            md.append("")
    if results["latency"]:
        md.append("## Latency: Kafka record timestamp to JetStream stored timestamp\n")
        md.append(f"Offered rate (all events, half critical) = share of the live maximum: "
                  f"the events/s the router got through while er_produce wrote N events as "
                  f"fast as Kafka took them, everything on this machine at once (the same "
                  f"sharing as in the latency runs). {opts.live_duration_s:g} s per point, the "
                  f"first {opts.warmup_s:g} s dropped; producer linger.ms="
                  f"{opts.producer_linger_ms:g}, acks=all. Kafka timestamps are whole "
                  f"milliseconds, so each value reads up to 1 ms high.\n")
        md.append("| stream | size | live maximum events/s | producer meanwhile/s | router "
                  "catch-up events/s | producer alone/s |")
        md.append("|---|---|---:|---:|---:|---:|")
        for m in results["live_max"]:
            md.append(f"| R{m['replicas']} | {m['size']} B | {m['max_eps']:,} | "
                      f"{m['producer_eps']:,} | {m['router_catchup_eps']:,} | "
                      f"{m['producer_alone_eps']:,} |")
        md.append("")
        md.append("| stream | size | offered | events/s | p50 ms | p99 ms | p99.9 ms | max ms "
                  "| samples | PubAck p50/p99 ms |")
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for l in results["latency"]:
            ack = l.get("er_publish_ack_seconds") or {}
            md.append(f"| R{l['replicas']} | {l['size']} B | {l['offered_pct']} % | "
                      f"{l['offered_eps']:,} | {l['p50_ms']} | {l['p99_ms']} | {l['p99.9_ms']} "
                      f"| {l['max_ms']} | {l['samples']:,} | ≤{ack.get('p50_ms')} / "
                      f"≤{ack.get('p99_ms')} |")
        md.append("")
        md.append("PubAck = the router's own `er_publish_ack_seconds` histogram (publish to "
                  "PubAck, JetStream's share), as bucket upper bounds.\n")
    if results["floor"]:
        md.append("### The same load without the router\n")
        md.append("At the same time: er_produce at the offered rate into a fresh topic read by "
"kcat (librdkafka high-level consumer, fetch.wait.max.ms=10), record "
                  f"timestamp ({opts.timestamp_type}) to arrival; and er_js_publish at the critical share into a fresh stream of the "
                  "same config, publish call to stored time. \"sum\" adds random pairs of "
                  "samples: the latency of a router that costs nothing.\n")
        md.append("| stream | size | offered | Kafka p50 / p99 ms | JetStream p50 / p99 ms | "
                  "sum p50 / p99 / p99.9 ms |")
        md.append("|---|---|---:|---:|---:|---:|")
        for f in results["floor"]:
            md.append(f"| R{f['replicas']} | {f['size']} B | {f['offered_pct']} % | "
                      f"{f['kafka_p50_ms']} / {f['kafka_p99_ms']} | {f['js_p50_ms']} / "
                      f"{f['js_p99_ms']} | {f['sum_p50_ms']} / {f['sum_p99_ms']} / "
                      f"{f['sum_p99.9_ms']} |")
        md.append("")
    if results["window"]:
        md.append("## Throughput against the in-flight window\n")
        md.append("Router: `limits.max_inflight_total` = `max_inflight_per_partition` = W. "
                  "Ceiling: `er_js_publish --max-pending W`.\n")
        ab = all("router_b" in w for w in results["window"])
        md.append("| W | router publish/s | ceiling publish/s | ratio | router peak RSS MB |"
                  + (" --ab publish/s | --ab ratio |" if ab else ""))
        md.append("|---:|---:|---:|---:|---:|" + ("---:|---:|" if ab else ""))
        for w in results["window"]:
            line = (f"| {w['window']} | {w['router']['publish_eps']:,} | "
                    f"{w['ceiling']['publish_eps']:,} | "
                    f"{w['router']['publish_eps'] / w['ceiling']['publish_eps']:.2f} | "
                    f"{w['router']['vmhwm_mb']:.0f} |")
            if ab:
                line += (f" {w['router_b']['publish_eps']:,} | "
                         f"{w['router_b']['publish_eps'] / w['ceiling']['publish_eps']:.2f} |")
            md.append(line)
        md.append("")
    if results["prefetch"]:
        q0 = results["prefetch"][0]["router"]
        md.append(f"## Throughput and memory against the Kafka prefetch (R{q0['replicas']}, "
                  f"{q0['size']} B)\n")
        md.append("Router with `kafka.properties: queued.max.messages.kbytes=K` (the "
                  "consumer's prefetch bound). librdkafka stops fetching a partition for "
                  "fetch.queue.backoff.ms once the prefetch queue passes this bound; the "
                  "router sets that to kafka.refetch_idle_ms (default 5 ms).\n")
        md.append("| K (KiB) | router publish/s | router consumed/s | ceiling publish/s | ratio | "
                  "router peak RSS MB |")
        md.append("|---:|---:|---:|---:|---:|---:|")
        for q in results["prefetch"]:
            md.append(f"| {q['kbytes']} | {q['router']['publish_eps']:,} | "
                      f"{q['router']['consumed_eps']:,} | {q['ceiling']['publish_eps']:,} | "
                      f"{q['router']['publish_eps'] / q['ceiling']['publish_eps']:.2f} | "
                      f"{q['router']['vmhwm_mb']:.0f} |")
        md.append("")
    if results["scaling"]:
        md.append("## Scaling\n")
        md.append("| case | router publish/s | ceiling publish/s | ratio | CPU µs/event | "
                  "peak RSS MB |")
        md.append("|---|---:|---:|---:|---:|---:|")
        for s in results["scaling"]:
            md.append(f"| {s['case']} | {s['router']['publish_eps']:,} | "
                      f"{s['ceiling']['publish_eps']:,} | "
                      f"{s['router']['publish_eps'] / s['ceiling']['publish_eps']:.2f} | "
                      f"{s['router']['cpu_us_per_event']:.2f} | {s['router']['vmhwm_mb']:.0f} |")
        md.append("")
    with open(base + ".md", "w") as f:
        f.write("\n".join(md))
    plot(opts, results, base + ".png")
    log(f"wrote {base}.json, {base}.md, {base}.png")


def plot(opts, results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 2, figsize=(15, 10.5))
    axes = [grid[0][0], grid[0][1], grid[1][1], grid[1][0]]
    ax = axes[0]
    styles = {25: ":", 50: "-", 75: "--"}
    colors = {}
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for l in results["latency"]:
        if not l["cdf_ms"]:
            continue
        k = (l["replicas"], l["size"])
        colors.setdefault(k, palette[len(colors) % len(palette)])
        ys = [i / 200 for i in range(201)]
        ax.plot(l["cdf_ms"], ys, styles.get(l["offered_pct"], "-"), color=colors[k],
                label=f"R{k[0]} {k[1]} B, {l['offered_pct']} % ({l['offered_eps']:,}/s)")
    for f in results["floor"]:
        k = (f["replicas"], f["size"])
        if f["cdf_ms"] and f["offered_pct"] == 50 and k in colors:
            ax.plot(f["cdf_ms"], [i / 200 for i in range(201)], "-.", color=colors[k], lw=1,
                    alpha=0.6, label=f"no router (Kafka + JetStream alone) R{k[0]} {k[1]} B, 50 %")
    ax.axvline(10, color="grey", lw=0.8)
    ax.text(10, 0.02, " 10 ms", color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("Kafka timestamp -> JetStream stored (ms, log)")
    ax.set_ylabel("fraction of events")
    ax.set_title("Latency CDF by offered rate (% of max)")
    ax.grid(True, which="both", alpha=0.3)
    if results["latency"]:
        ax.legend(fontsize=7, loc="lower right")

    ax = axes[1]
    if results["window"]:
        ws = [w["window"] for w in results["window"]]
        ax.plot(ws, [w["router"]["publish_eps"] for w in results["window"]], "o-",
                label="router (publish/s)")
        ax.plot(ws, [w["ceiling"]["publish_eps"] for w in results["window"]], "s--",
                label="ceiling er_js_publish (publish/s)")
        if all("router_b" in w for w in results["window"]):
            ax.plot(ws, [w["router_b"]["publish_eps"] for w in results["window"]], "x:",
                    label=f"router --ab {os.path.basename(opts.ab)} (publish/s)")
        ax.set_xscale("log", base=2)
        w0 = results["window"][0]
        ax.set_title(f"Throughput vs in-flight window (R{w0['router']['replicas']}, "
                     f"{w0['router']['size']} B)")
        ax.legend(fontsize=8)
    ax.set_xlabel("in-flight window W (messages awaiting PubAck)")
    ax.set_ylabel("JetStream messages stored / s")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)

    ax = axes[2]
    seen = set()
    for (R, S), pairs in sorted(results["pairs"].items()):
        r = pairs[-1]["router"]
        if not r.get("rss_timeline"):
            continue
        xs = [t for t, _ in r["rss_timeline"]]
        ax.plot(xs, [v for _, v in r["rss_timeline"]],
                label=f"R{R} {S} B, N={r['events']:,}")
        seen.add((R, S))
    for s in results["scaling"]:
        r = s["router"]
        if r.get("rss_timeline"):
            ax.plot([t for t, _ in r["rss_timeline"]], [v for _, v in r["rss_timeline"]], ":",
                    label=f"{s['case']}")
    ax.axhline(64, color="grey", lw=0.8)
    ax.set_xlabel("seconds since the first stored message")
    ax.set_ylabel("router VmRSS (MB)")
    ax.set_title("Router memory during the preload runs")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[3]
    if not results["prefetch"]:
        ax.text(0.5, 0.5, "prefetch sweep not run (--prefetch-kb)", ha="center", va="center",
                transform=ax.transAxes, color="grey")
    if results["prefetch"]:
        ks = [q["kbytes"] / 1024 for q in results["prefetch"]]
        ax.plot(ks, [q["router"]["publish_eps"] for q in results["prefetch"]], "o-",
                label="router publish/s")
        ax.plot(ks, [q["ceiling"]["publish_eps"] for q in results["prefetch"]], "s--",
                label="ceiling publish/s")
        ax.set_xscale("log", base=2)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("JetStream messages stored / s")
        ax2 = ax.twinx()
        ax2.plot(ks, [q["router"]["vmhwm_mb"] for q in results["prefetch"]], "^:",
                 color="tab:red", label="router peak RSS (MB, right)")
        ax2.axhline(64, color="tab:red", lw=0.6, alpha=0.5)
        ax2.set_ylim(bottom=0)
        ax2.set_ylabel("router peak RSS (MB)")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="lower right")
        q0 = results["prefetch"][0]["router"]
        ax.set_title(f"Throughput and memory vs Kafka prefetch (R{q0['replicas']}, "
                     f"{q0['size']} B)")
    ax.set_xlabel("queued.max.messages.kbytes (MiB)")
    ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"event-router benchmark ({opts.name}, {results['meta']['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# ---- main ------------------------------------------------------------------------------


def int_list(s):
    return [int(x) for x in s.split(",") if x]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="about 2 minutes (see bench/run --help)")
    p.add_argument("--events", type=int, help="events per preloaded topic (default 150000, "
                   "--quick 40000)")
    p.add_argument("--partitions", type=int, default=16)
    p.add_argument("--sizes", type=int_list, default=[200, 1024])
    p.add_argument("--replicas", type=int_list, default=[1, 3], help="stream replicas")
    p.add_argument("--reps", type=int)
    p.add_argument("--mode", choices=["preload", "live", "both"], default="both")
    p.add_argument("--rates", type=int_list, default=[25, 50, 75])
    p.add_argument("--timestamp-type", choices=["LogAppendTime", "CreateTime"],
                   default="LogAppendTime",
                   help="message.timestamp.type of the latency topics: LogAppendTime (default) "
                        "measures from the broker's append, CreateTime from the producer's send "
                        "(adds the producer's batching and acks=all wait)")
    p.add_argument("--latency-configs", default=None,
                   help="R/SIZE pairs for the latency runs, e.g. 3/200,1/1024 (default all)")
    p.add_argument("--live-duration-s", type=float)
    p.add_argument("--warmup-s", type=float, default=1.0)
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="skip the same-load runs without the router (Kafka + JetStream alone)")
    p.add_argument("--producer-linger-ms", type=float, default=1)
    p.add_argument("--windows", type=int_list)
    p.add_argument("--window-config", default="3/200")
    p.add_argument("--no-scaling", action="store_true")
    p.add_argument("--prefetch-config", default="1/1024",
                   help="stream replicas and size of the prefetch sweep (default 1/1024)")
    p.add_argument("--prefetch-kb", type=int_list,
                   help="queued.max.messages.kbytes values to sweep (default 8192,16384,32768,"
                   "65536; --quick none)")
    p.add_argument("--critical-ratio", type=float, default=0.5)
    p.add_argument("--ceiling-window", type=int,
                   help="er_js_publish --max-pending (default: the router's max_inflight_total)")
    p.add_argument("--inflight-per-partition", type=int)
    p.add_argument("--inflight-total", type=int)
    p.add_argument("--kafka-prop", action="append", default=[], metavar="K=V")
    p.add_argument("--config", default=os.path.join(ROOT, "deploy", "local", "router.yaml"))
    p.add_argument("--http-port", type=int, default=19380)
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks"))
    p.add_argument("--name")
    p.add_argument("--work", default=os.path.join(ROOT, "bench", "out"))
    p.add_argument("--profile", action="store_true")
    p.add_argument("--ab", metavar="BINARY",
                   help="also run this router binary in every pair (before/after comparisons)")
    p.add_argument("--aggregates", type=int, default=997,
                   help="aggregates (Kafka keys) per domain in the preloaded events (default 997, "
                        "about 2,000 keys in all)")
    p.add_argument("--ordering", choices=["key", "partition", "none"],
                   help="the rules' ordering: for the router runs (default: rules/default.yaml's)")
    p.add_argument("--ab-ordering", choices=["key", "partition", "none"],
                   help="also run the router (or the --ab binary) with this ordering in every "
                        "pair, e.g. --ab-ordering none for what ordering: key costs")
    o = p.parse_args(argv)
    q = o.quick
    o.events = o.events or (40000 if q else 150000)
    o.reps = o.reps or (1 if q else 3)
    o.live_duration_s = o.live_duration_s or (5 if q else 6)
    if o.prefetch_kb is None:
        o.prefetch_kb = [] if q else [8192, 16384, 32768, 65536]
    if o.windows is None:
        o.windows = [64, 1024, 8192] if q else [16, 64, 256, 1024, 4096, 16384]
    if o.latency_configs is None:
        o.latency_configs = "3/200" if q else ",".join(
            f"{r}/{s}" for r in sorted(o.replicas, reverse=True) for s in o.sizes
            if r == max(o.replicas) or s == min(o.sizes))
    o.latency_configs = [tuple(int(x) for x in c.split("/")) for c in
                         o.latency_configs.split(",") if c]
    o.name = o.name or ("quick" if q else "results")
    if q:
        o.no_scaling = True
    with open(o.config) as f:
        o.base_config = yaml.safe_load(f)
    return o


def main(argv):
    opts = parse_args(argv)
    run_id = datetime.datetime.now().strftime("%H%M%S") + f"{os.getpid() % 1000:03d}"
    opts.work = os.path.join(opts.work, run_id)
    os.makedirs(opts.work, exist_ok=True)
    cluster = Cluster(run_id)
    lim = opts.base_config.get("limits") or {}
    router_total = opts.inflight_total or lim.get("max_inflight_total") or 50000
    ceiling_window = opts.ceiling_window or router_total
    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                check=False).stdout.strip()
    results = {
        "meta": {
            "command": "bench/run " + " ".join(argv), "date": datetime.datetime.now(
                datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit + ("+dirty" if dirty else ""), "cpus": os.cpu_count(),
            "kernel": platform.release(), "cluster_mode": cluster.mode,
            "loadavg_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "partitions": opts.partitions, "events": opts.events, "reps": opts.reps,
            "critical_ratio": opts.critical_ratio, "router_config": opts.config,
            "kafka_props_extra": opts.kafka_prop, "ceiling_window": ceiling_window,
            "router_inflight_total": router_total,
        },
        "pairs": {}, "latency": [], "window": [], "scaling": [], "prefetch": [], "live_max": [],
        "floor": [],
    }
    log(f"run {run_id}: {opts.events} events x sizes {opts.sizes} x R{opts.replicas}, "
        f"{opts.reps} reps, P={opts.partitions}; work dir {opts.work}")
    try:
        preloads = {}
        if opts.mode in ("preload", "both"):
            for s in opts.sizes:
                preloads[s] = Preload(opts, cluster, s, opts.partitions, opts.events)
            for rep in range(opts.reps):
                for R in opts.replicas:
                    for s in opts.sizes:
                        pre = preloads[s]
                        tag = f"t{rep}r{R}s{s}"
                        order = ["ceiling", "router"] if rep % 2 == 0 else ["router", "ceiling"]
                        if opts.ab or opts.ab_ordering:
                            order.insert(1, "router_b")
                        pair = {}
                        for what in order:
                            if what == "ceiling":
                                pair["ceiling"] = run_ceiling(opts, cluster, pre, R,
                                                              ceiling_window, tag)
                            elif what == "router_b":
                                pair["router_b"] = run_router(opts, cluster, pre, R, tag + "b",
                                                              binary=opts.ab,
                                                              ordering=opts.ab_ordering)
                            else:
                                pair["router"] = run_router(opts, cluster, pre, R, tag)
                        results["pairs"].setdefault((R, s), []).append(pair)
                        rr, cc = pair["router"], pair["ceiling"]
                        if opts.ab or opts.ab_ordering:
                            bb = pair["router_b"]
                            log(f"rep {rep + 1} R{R} {s} B: --ab router "
                                f"(ordering {bb['ordering']}) {bb['publish_eps']:,}/s "
                                f"({bb['cpu_us_per_event']} us/event, HWM {bb['vmhwm_mb']} MB), "
                                f"ratio {bb['publish_eps'] / cc['publish_eps']:.3f}")
                        log(f"rep {rep + 1} R{R} {s} B: router {rr['publish_eps']:,}/s "
                            f"(consumed {rr['consumed_eps']:,}/s, {rr['cpu_us_per_event']} "
                            f"us/event, main thread {rr['main_thread_busy']:.0%}, HWM "
                            f"{rr['vmhwm_mb']} MB), ceiling "
                            f"{cc['publish_eps']:,}/s, ratio "
                            f"{rr['publish_eps'] / cc['publish_eps']:.3f}")
            if opts.profile:
                pre = preloads[opts.sizes[0]]
                perf = os.path.join(opts.work, "perf.data")
                run_router(opts, cluster, pre, opts.replicas[-1], "profile", perf_out=perf)
                rep = run(["perf", "report", "-i", perf, "--no-children", "--sort", "dso,sym",
                           "--stdio", "-g", "none"], check=False).stdout
                os.makedirs(opts.out, exist_ok=True)
                with open(os.path.join(opts.out, opts.name + "-profile.txt"), "w") as f:
                    f.write("\n".join([l for l in rep.splitlines() if "%" in l][:60]))
            wr, ws = opts.window_config.split("/")
            wr, ws = int(wr), int(ws)
            if opts.windows and ws in preloads:
                for w in opts.windows:
                    tag = f"w{w}"
                    c = run_ceiling(opts, cluster, preloads[ws], wr, w, tag)
                    r = run_router(opts, cluster, preloads[ws], wr, tag, window=w)
                    row = {"window": w, "router": r, "ceiling": c}
                    if opts.ab:
                        row["router_b"] = run_router(opts, cluster, preloads[ws], wr, tag + "b",
                                                     window=w, binary=opts.ab)
                        log(f"window {w}: --ab router {row['router_b']['publish_eps']:,}/s, "
                            f"HWM {row['router_b']['vmhwm_mb']} MB")
                    results["window"].append(row)
                    log(f"window {w}: router {r['publish_eps']:,}/s, ceiling "
                        f"{c['publish_eps']:,}/s, HWM {r['vmhwm_mb']} MB")
            pr, ps = (int(x) for x in opts.prefetch_config.split("/"))
            if opts.prefetch_kb and ps in preloads:
                for kb in opts.prefetch_kb:
                    tag = f"q{kb}"
                    c = run_ceiling(opts, cluster, preloads[ps], pr, ceiling_window, tag)
                    r = run_router(opts, cluster, preloads[ps], pr, tag,
                                   props=[f"queued.max.messages.kbytes={kb}"])
                    results["prefetch"].append({"kbytes": kb, "router": r, "ceiling": c})
                    log(f"prefetch {kb} KiB: router {r['publish_eps']:,}/s, ceiling "
                        f"{c['publish_eps']:,}/s, HWM {r['vmhwm_mb']} MB")
            if not opts.no_scaling and ws in preloads:
                base = preloads[ws]
                p64 = Preload(opts, cluster, ws, 64, opts.events)
                cases = [(f"64 partitions (R{wr}, {ws} B)", p64, 1),
                         (f"2 router replicas, {opts.partitions} partitions (R{wr}, {ws} B)",
                          base, 2)]
                for case, pre, n in cases:
                    tag = f"x{pre.partitions}n{n}"
                    c = run_ceiling(opts, cluster, pre, wr, ceiling_window, tag)
                    r = run_router(opts, cluster, pre, wr, tag, routers=n)
                    results["scaling"].append({"case": case, "router": r, "ceiling": c})
                    log(f"{case}: router {r['publish_eps']:,}/s, ceiling {c['publish_eps']:,}/s")
                cluster.delete_topic(p64.topic)
        if opts.mode in ("live", "both"):
            for (R, s) in opts.latency_configs:
                if (R, s) not in results["pairs"]:
                    raise BenchError(f"no measured maximum for R{R}/{s} B: run the preload "
                                     f"phase too (--mode both)")
                # The maximum of the live pipeline (producer, Kafka, router and
                # JetStream at once on this machine): see run_live_max.
                rmax = median([p["router"]["consumed_eps"] for p in results["pairs"][(R, s)]])
                lm = run_live_max(opts, cluster, preloads[s], R, f"m{R}s{s}")
                mx = lm["consumed_eps"]
                lm.update({"router_catchup_eps": rmax,
                           "producer_alone_eps": round(preloads[s].producer_eps),
                           "max_eps": round(mx)})
                results["live_max"].append(lm)
                log(f"latency R{R} {s} B: live maximum {mx:,.0f} events/s (producer "
                    f"{lm['producer_eps']:,}/s meanwhile; router catch-up {rmax:,.0f}/s, "
                    f"producer alone {preloads[s].producer_eps:,.0f}/s)")
                for pct in opts.rates:
                    l = run_latency(opts, cluster, s, R, mx * pct / 100, pct,
                                    f"l{R}s{s}p{pct}")
                    results["latency"].append(l)
                    if opts.floor:
                        f = run_floor(opts, cluster, preloads[s], R, mx * pct / 100, pct,
                                      ceiling_window, f"f{R}s{s}p{pct}")
                        results["floor"].append(f)
                        log(f"no router R{R} {s} B at {pct} %: Kafka p50 {f['kafka_p50_ms']} "
                            f"p99 {f['kafka_p99_ms']}, JetStream p50 {f['js_p50_ms']} p99 "
                            f"{f['js_p99_ms']}, sum p50 {f['sum_p50_ms']} p99 "
                            f"{f['sum_p99_ms']} ms")
                    log(f"latency R{R} {s} B at {pct} % ({l['offered_eps']:,}/s): p50 "
                        f"{l['p50_ms']} p99 {l['p99_ms']} p99.9 {l['p99.9_ms']} ms")
    finally:
        results["meta"]["loadavg_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        results["meta"]["elapsed_s"] = round(time.monotonic() - T_START)
        cluster.cleanup()
    write_reports(opts, results)
    for r in results.get("summary", []):
        log(f"R{r['replicas']} {r['size']} B: ratio {r['ratio_median']} "
            f"({r['ratio_min']}..{r['ratio_max']}), {r['cpu_us_per_event']} us/event, "
            f"HWM {r['vmhwm_mb']} MB")
        if "ab" in r:
            log(f"   --ab binary: ratio {r['ab']['ratio_median']}, "
                f"{r['ab']['cpu_us_per_event']} us/event, HWM {r['ab']['vmhwm_mb']} MB")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
