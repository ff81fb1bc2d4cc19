#!/usr/bin/env python3
"""Measures what one exporter costs per collection; used by compare_exporters.sh.

  measure.py http   --url URL --pid PID --n N [--period S] [--warmup W]
                    [--idle-rates JSON] SERVER...
      GETs URL W times, then N times, one every S seconds (default 0: back to
      back), and reports per GET: the wall time, the CPU of process PID (the
      exporter) and the CPU the GETs caused in the server.
  measure.py daemon --metrics URL --pid PID --target NAME --seconds S
                    [--idle-rates JSON] SERVER...
      Vigil running its own schedule: counts the probes of target NAME
      (vigil_probe_success_total) finished in S seconds and divides the CPU of
      the daemon and of the server by that count.

  measure.py idle   --seconds S SERVER...
      The server's CPU per second with no exporter running, as JSON for the
      --idle-rates of the other modes.

SERVER is `--pg POSTMASTER_PID --pg-app NAME --psql "COMMAND"` or
`--redis HOST:PORT:PASSWORD`. For PostgreSQL two figures: server_cpu_ms, the
backends whose application_name is NAME (found with the psql COMMAND before
the window; right for persistent connections, and idle backends use no CPU),
and cluster_cpu_ms, the whole cluster (the postmaster, every live child and
every child already reaped, minus the idle rate; right for short connections,
noisier). For Redis, server_cpu_ms is INFO cpu of the main thread minus the
idle rate (serverCron runs 10 times a second either way). Prints one JSON
object. CPU comes from /proc/<pid>/stat (clock ticks, so N must be large
enough) and Redis's INFO cpu.
"""
import argparse
import json
import os
import re
import shlex
import socket
import subprocess
import statistics
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17.
    return [int(fields[i - 3]) for i in (14, 15, 16, 17)] + [int(fields[1])]  # + ppid


def own_cpu(pid):
    utime, stime, *_ = proc_stat(pid)
    return (utime + stime) / TICK


def rss_kb(pid):
    """Resident memory in kB: VmRSS (and its peak VmHWM), split into RssAnon
    (heap, stacks) and RssFile (mapped binaries and libraries, partly shared
    with other processes), and Pss (shared pages divided among their users)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "Pss":
                out["Pss"] = int(value.split()[0])
    return out


def cluster_cpu(postmaster):
    """Seconds of CPU of a PostgreSQL cluster: postmaster (with reaped children) + live children."""
    utime, stime, cutime, cstime, _ = proc_stat(postmaster)
    total = utime + stime + cutime + cstime
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            u, s, _, _, ppid = proc_stat(int(entry))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if ppid == postmaster:
            total += u + s
    return total / TICK


class Redis:
    def __init__(self, spec):
        host, port, password = spec.split(":", 2)
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.buf = b""
        if password:
            self.command("AUTH", password)

    def command(self, *args):
        out = f"*{len(args)}\r\n".encode()
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._read()

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"$":
            n = int(rest)
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        raise RuntimeError(f"unexpected reply {line!r}")

    def cpu(self):
        info = self.command("INFO", "cpu")
        values = dict(re.findall(r"^(\w+):([\d.]+)", info, re.M))
        return float(values["used_cpu_sys_main_thread"]) + float(values["used_cpu_user_main_thread"])


def backends(args):
    """PIDs of the backends whose application_name is --pg-app."""
    sql = f"SELECT pid FROM pg_stat_activity WHERE application_name = '{args.pg_app}'"
    out = subprocess.run(shlex.split(args.psql) + ["-c", sql], check=True, capture_output=True,
                         text=True, timeout=30).stdout
    return [int(line) for line in out.split()]


def backends_cpu(pids):
    total = 0
    for pid in pids:
        try:
            total += own_cpu(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass  # gone: its CPU since the last reading is lost
    return total


class Server:
    """The server's CPU: Redis's INFO cpu, or PostgreSQL's backends and cluster."""

    def __init__(self, args):
        self.args = args
        self.redis = Redis(args.redis) if args.redis else None
        self.pids = []

    def find_backends(self):
        if self.redis is None:
            self.pids = backends(self.args)

    def read(self):
        if self.redis is not None:
            return {"server": self.redis.cpu()}
        return {"server": backends_cpu(self.pids), "cluster": cluster_cpu(self.args.pg)}


def server_figures(before, after, rates, seconds, n):
    """Per collection, in ms: the server's CPU (net of its idle rate where one
    was measured) and, for PostgreSQL, the whole cluster's."""
    out = {}
    for key, name in (("server", "server_cpu_ms"), ("cluster", "cluster_cpu_ms")):
        if key in before:
            used = after[key] - before[key] - rates.get(key, 0.0) * seconds
            out[name] = round(used * 1000 / n, 3)
    if rates:
        out["idle_cpu_ms_per_s"] = round(1000 * next(iter(rates.values())), 3)
    return out


def idle_rates(args):
    """Server CPU per second with nothing collecting: the whole cluster's for
    PostgreSQL (backends of --pg-app would use none), Redis's own (serverCron)."""
    server = Server(args)
    before = server.read()
    time.sleep(args.seconds)
    after = server.read()
    keys = ["cluster"] if args.pg else ["server"]
    return {k: (after[k] - before[k]) / args.seconds for k in keys}


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
        return body


def samples(body):
    return sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))


def run_http(args):
    server = Server(args)
    for _ in range(args.warmup):
        body = get(args.url)
    rates = json.loads(args.idle_rates)
    server.find_backends()
    walls = []
    cpu0, srv0, t0 = own_cpu(args.pid), server.read(), time.monotonic()
    for i in range(args.n):
        pause = t0 + i * args.period - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        start = time.perf_counter()
        body = get(args.url)
        walls.append((time.perf_counter() - start) * 1000)
    cpu1, srv1, t1 = own_cpu(args.pid), server.read(), time.monotonic()
    walls.sort()
    return {
        "collections": args.n,
        "own_cpu_ms": round((cpu1 - cpu0) * 1000 / args.n, 3),
        **server_figures(srv0, srv1, rates, t1 - t0, args.n),
        **({"backends": len(server.pids)} if args.pg else {}),
        "wall_ms_mean": round(statistics.fmean(walls), 3),
        "wall_ms_p50": round(walls[len(walls) // 2], 3),
        "wall_ms_p95": round(walls[int(len(walls) * 0.95)], 3),
        "samples": samples(body),
        **rss_kb(args.pid),
    }


def probe_counter(args):
    body = get(args.metrics).decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(("vigil_probe_success_total{", "vigil_probe_failure_total{")) and \
                f'target="{args.target}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    duration = re.search(r"^probe_duration_seconds\{[^}]*\} ([\d.e+-]+)", body, re.M)
    return total, (float(duration.group(1)) * 1000 if duration else None), body


def run_daemon(args):
    server = Server(args)
    deadline = time.monotonic() + 30
    while probe_counter(args)[0] < 3:
        if time.monotonic() > deadline:
            raise RuntimeError("the daemon did not run 3 probes within 30s")
        time.sleep(0.2)
    rates = json.loads(args.idle_rates)
    server.find_backends()
    n0 = probe_counter(args)[0]
    cpu0, srv0, t0 = own_cpu(args.pid), server.read(), time.monotonic()
    time.sleep(args.seconds)
    cpu1, srv1, t1 = own_cpu(args.pid), server.read(), time.monotonic()
    n1, wall, body = probe_counter(args)
    failures = sum(float(l.rsplit(" ", 1)[1]) for l in body.splitlines()
                   if l.startswith("vigil_probe_failure_total{") and f'target="{args.target}"' in l)
    n = n1 - n0
    if n <= 0:
        raise RuntimeError("no probe finished in the window")
    return {
        "collections": int(n),
        "failures_total": int(failures),
        "own_cpu_ms": round((cpu1 - cpu0) * 1000 / n, 3),
        **server_figures(srv0, srv1, rates, t1 - t0, n),
        **({"backends": len(server.pids)} if args.pg else {}),
        "wall_ms_last": round(wall, 3) if wall is not None else None,
        **rss_kb(args.pid),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["http", "daemon", "idle"])
    parser.add_argument("--url")
    parser.add_argument("--metrics")
    parser.add_argument("--target")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--period", type=float, default=0)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--idle-rates", default="{}")
    parser.add_argument("--pg", type=int)
    parser.add_argument("--pg-app")
    parser.add_argument("--psql")
    parser.add_argument("--redis")
    args = parser.parse_args()
    if bool(args.pg) == bool(args.redis):
        parser.error("give exactly one of --pg and --redis")
    if args.pg and not (args.pg_app and args.psql):
        parser.error("--pg needs --pg-app and --psql")
    if args.mode != "idle" and not args.pid:
        parser.error(f"{args.mode} needs --pid")
    modes = {"http": run_http, "daemon": run_daemon, "idle": idle_rates}
    result = modes[args.mode](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
