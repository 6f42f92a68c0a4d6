#!/usr/bin/env python3
# Usage: bench/idle_tls_connections.py EMULATOR N WAIT_SECONDS [emulator flags...]
# Opens N TLS connections to an eci-emulator, completes the handshake, sends nothing, and
# reports the emulator's RSS while they are held and after `wait` seconds.
import json, socket, ssl, subprocess, sys, time
emulator, n, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
extra = sys.argv[4:]
p = subprocess.Popen([emulator, "--start-delay-ms", "0"] + extra, stdout=subprocess.PIPE)
ready = json.loads(p.stdout.readline())
host, port = ready["endpoint"].rsplit(":", 1)
def rss():
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
base = rss()
held, refused = [], 0
t0 = time.time()
for i in range(n):
    s = socket.create_connection((host, int(port)))
    try:
        held.append(ctx.wrap_socket(s))
    except (ssl.SSLError, OSError):
        refused += 1
        s.close()
t1 = time.time()
peak = rss()
time.sleep(wait)
# How many of ours are still open: a closed one reads EOF at once.
alive = 0
for t in held:
    t.setblocking(False)
    try:
        if t.recv(1) == b"": pass
    except ssl.SSLWantReadError:
        alive += 1
    except (ssl.SSLError, OSError):
        pass
after = rss()
print(json.dumps({"connections": n, "handshaked": len(held), "refused_at_handshake": refused,
                  "open_seconds": round(t1 - t0, 1), "rss_mb_idle_emulator": base,
                  "rss_mb_with_connections": peak, "wait_s": wait, "still_open_after_wait": alive,
                  "rss_mb_after_wait": after}))
p.terminate(); p.wait()
