#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Usage: bench/idle_tls_connections.py [--raw] [--concurrency C] [--sources K] [--cli PATH]
#            [--workers W] [--rounds R] EMULATOR N WAIT_SECONDS [emulator flags...]
#
# Starts EMULATOR (eci-emulator, with the flags given and its own default limits), then opens
# N connections to it and says nothing: TLS connections whose handshake completed, or with
# --raw bare TCP connections. Up to C (default 64) are being opened at once; they come from
# K loopback addresses 127.0.0.2 .. 127.0.0.(K+1) (default 1), so that the per-peer bound can
# be told apart from the total one (every local client is otherwise the same peer); K = 0
# floods from 127.0.0.1, the probes' own address.
#
# While they are held it probes, from 127.0.0.1 (a peer of its own), whether a legitimate
# client still gets through: a GET of /_emulator/stats over TLS and, with --cli, a signed
# `eci-sandbox list`. It reports the emulator's RSS and stats then, and after WAIT_SECONDS how
# many of the connections are still open. Throughout (opening, holding, waiting) a legitimate
# call is made every second and counted (`legitimate_calls_during_flood`). With --rounds R
# the whole flood is repeated R times against the same emulator. One JSON line on stdout.
#
# The connections are held by W worker processes (--workers; default: as many as it takes for
# each to stay within the hard RLIMIT_NOFILE), each raising its soft limit to what it needs;
# the emulator keeps the machine's default limits.
import asyncio, json, multiprocessing, os, resource, ssl, subprocess, sys, threading, time
import urllib.request

def parse_argv(argv):
    opts = {"raw": False, "concurrency": 64, "sources": 1, "cli": None, "workers": 0,
            "rounds": 1}
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if not rest and a == "--raw":
            opts["raw"] = True
        elif not rest and a in ("--concurrency", "--sources", "--cli", "--workers",
                                  "--rounds"):
            i += 1
            opts[a[2:]] = argv[i] if a == "--cli" else int(argv[i])
        else:
            rest.append(a)
        i += 1
    if len(rest) < 3:
        sys.exit(__doc__ or "usage: see the comment at the top of this file")
    if opts["workers"] <= 0:  # each within the hard descriptor limit
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        opts["workers"] = max(1, -(-int(rest[1]) // max(1, hard - 1024)))
    return opts, rest[0], int(rest[1]), float(rest[2]), rest[3:]

opts, emulator, n, wait, extra = parse_argv(sys.argv[1:])
p = subprocess.Popen([emulator, "--start-delay-ms", "0"] + extra, stdout=subprocess.PIPE)
ready = json.loads(p.stdout.readline())
host, port = ready["endpoint"].rsplit(":", 1)
port = int(port)


def rss_mb():
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

def emulator_fds():
    return len(os.listdir(f"/proc/{p.pid}/fd"))

insecure = ssl.create_default_context()
insecure.check_hostname = False
insecure.verify_mode = ssl.CERT_NONE

def stats():
    # From 127.0.0.1 (the flood comes from 127.0.0.2 and up), trusting the emulator's CA.
    ctx = ssl.create_default_context(cafile=ready["ca_file"]) if ready["scheme"] == "https" else None
    if ctx:
        ctx.check_hostname = False
    url = f"{ready['scheme']}://127.0.0.1:{port}/_emulator/stats"
    t = time.time()
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=15) as r:
            body = json.loads(r.read())
        return {"ok": True, "seconds": round(time.time() - t, 2), "stats": body}
    except Exception as e:  # a refused or reset probe is the answer, not a bench failure
        return {"ok": False, "seconds": round(time.time() - t, 2), "error": type(e).__name__}

def cli_list():
    if not opts["cli"]:
        return None
    env = {"PATH": "/usr/bin:/bin",
           "ECI_SANDBOX_ENDPOINT": f"{ready['scheme']}://127.0.0.1:{port}",
           "ECI_SANDBOX_CA_FILE": ready["ca_file"],
           "ECI_SANDBOX_REGION_ID": ready["region_id"],
           "ECI_SANDBOX_ACCESS_KEY_ID": ready["access_key_id"],
           "ECI_SANDBOX_ACCESS_KEY_SECRET": ready["access_key_secret"]}
    t = time.time()
    r = subprocess.run([opts["cli"], "list", "--json"], env=env, capture_output=True, timeout=120)
    return {"exit_code": r.returncode, "seconds": round(time.time() - t, 2),
            "stderr": r.stderr.decode(errors="replace").strip()[:200]}

def alive(reader, writer):
    # A connection the emulator closed reads EOF (a FIN) or was reset (the transport closed).
    return not reader.at_eof() and not writer.transport.is_closing()

async def hold(conn, first, count):
    # One worker: opens connections first .. first+count-1, reports, then answers "count"
    # (how many are still open) until told "quit".
    gate = asyncio.Semaphore(max(1, opts["concurrency"] // opts["workers"]))
    held, failed = [], 0
    async def open_one(i):
        nonlocal failed
        source = "127.0.0.1" if opts["sources"] == 0 else f"127.0.0.{2 + i % opts['sources']}"
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0),
                    ssl=None if opts["raw"] else insecure,
                    server_hostname=None if opts["raw"] else "localhost"), 30)
                held.append((reader, writer))
            except (OSError, ssl.SSLError, asyncio.TimeoutError):
                failed += 1
    await asyncio.gather(*(open_one(i) for i in range(first, first + count)))
    loop = asyncio.get_running_loop()
    conn.send((len(held), failed))
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "quit":
            break
        await asyncio.sleep(0.2)  # let closes that arrived be read
        conn.send(sum(1 for r, w in held if alive(r, w)))
    for r, w in held:
        w.transport.abort()

def worker(conn, first, count):
    want = count + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    asyncio.run(hold(conn, first, count))

def probe_while(stop, record):
    # A legitimate client's calls while the flood is on: a signed `list` (else the stats GET)
    # every second, from 127.0.0.1.
    while not stop.is_set():
        result = cli_list() or stats()
        ok = result.get("exit_code", 1) == 0 if "exit_code" in result else result["ok"]
        record.append((ok, result["seconds"]))
        stop.wait(1)

def flood():
    share = -(-n // opts["workers"])
    pipes, procs = [], []
    t0 = time.time()
    for w in range(opts["workers"]):
        first = w * share
        count = max(0, min(share, n - first))
        parent, child = multiprocessing.Pipe()
        proc = multiprocessing.Process(target=worker, args=(child, first, count))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    # Only once every worker is forked: a fork while this thread holds a lock could hang.
    stop, record = threading.Event(), []
    prober = threading.Thread(target=probe_while, args=(stop, record))
    prober.start()
    opened = [c.recv() for c in pipes]
    opened_s = time.time() - t0
    def still_open():
        for c in pipes:
            c.send("count")
        return sum(c.recv() for c in pipes)
    time.sleep(1)  # let the closes of refused connections arrive
    # While held: the emulator's view, and whether a legitimate client gets through.
    at_peak = {"rss_mb": rss_mb(), "fds": emulator_fds(), "still_open": still_open(),
               "stats_probe": stats(), "cli_list": cli_list()}
    time.sleep(max(0.0, wait - (time.time() - t0 - opened_s)))
    after = {"rss_mb": rss_mb(), "fds": emulator_fds(), "still_open": still_open(),
             "stats_probe": stats()}
    stop.set()
    prober.join()
    after["legitimate_calls_during_flood"] = {
        "attempts": len(record), "ok": sum(1 for ok, _ in record if ok),
        "max_seconds": max((t for _, t in record), default=None)}
    for c in pipes:
        c.send("quit")
    for proc in procs:
        proc.join()
    return (opened_s, sum(o[0] for o in opened), sum(o[1] for o in opened), at_peak, after)

base_rss = rss_mb()
rounds = []
for _ in range(opts["rounds"]):  # more than one: does the emulator's RSS keep growing?
    opened_s, connected, failed, at_peak, after = flood()
    for probe in (at_peak["stats_probe"], after["stats_probe"]):
        if probe.get("ok"):  # keep the figures that matter
            s = probe.pop("stats")
            probe.update({k: s.get(k) for k in ("open_connections", "connection_limit",
                                                "connections_refused", "connections")})
    rounds.append({"connected": connected, "failed": failed, "open_seconds": round(opened_s, 1),
                   "held": at_peak, "after_wait": after})
print(json.dumps({"kind": "raw" if opts["raw"] else "tls", "connections": n,
                  "sources": opts["sources"], "concurrency": opts["concurrency"],
                  "workers": opts["workers"], "rss_mb_idle_emulator": base_rss, "wait_s": wait,
                  "rounds": rounds}))
p.terminate()
p.wait()
