"""`postern trace` over a real multi-hop path built in network namespaces.

    src ── r1 ══ r2 ── r3 ── dst        10.201.{1,2,3,4}.0/24, fd00:201:{1,2,3,4}::/64
             ╰ netem on r1 -> r2: 20 ms delay, 20 % loss (when `tc` and sch_netem exist)
                          r2 ── r3 runs at MTU 1400 (the path MTU the trace must find)

Every address is inside namespaces this test creates; nothing is sent anywhere else.
Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`); elsewhere it prints SKIP and
exits 77. The namespaces are removed on every path (finally, SIGTERM, SIGINT).

usage: trace_netns_e2e.py [EMULATOR ARGS...] POSTERN
"""
import os
import re
import shutil
import signal
import subprocess
import sys

MULTIPLIER = float(os.environ.get("POSTERN_TEST_TIMEOUT_MULTIPLIER", "1"))
SKIP = 77
TAG = f"pt{os.getpid()}"
NAMES = ["src", "r1", "r2", "r3", "dst"]
NS = {n: f"{TAG}-{n}" for n in NAMES}
DELAY_MS = 20
LOSS_PERCENT = 20
PROBES = 10
SMALL_MTU = 1400

# (left ns, right ns, subnet index, mtu): left gets .1 / ::1, right .2 / ::2.
LINKS = [("src", "r1", 1, 1500), ("r1", "r2", 2, 1500), ("r2", "r3", 3, SMALL_MTU),
         ("r3", "dst", 4, 1500)]


def scaled(seconds):
    return seconds * MULTIPLIER


def run(*args, check=True, timeout=30):
    return subprocess.run(list(args), check=check, timeout=scaled(timeout),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def in_ns(name, *args, check=True, timeout=30):
    return run("ip", "netns", "exec", NS[name], *args, check=check, timeout=timeout)


def v4(index, host):
    return f"10.201.{index}.{host}"


def v6(index, host):
    return f"fd00:201:{index}::{host}"


def cleanup():
    for name in NAMES:
        subprocess.run(["ip", "netns", "del", NS[name]], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30, check=False)


def build_topology():
    for name in NAMES:
        run("ip", "netns", "add", NS[name])
        in_ns(name, "ip", "link", "set", "lo", "up")
        for key in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                    # Answer every probe: the default ICMP rate limits would look like loss.
                    "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0",
                    # No duplicate address detection: a tentative link-local address would
                    # hold up neighbour discovery (and the first probes) for about a second.
                    "net.ipv6.conf.default.accept_dad=0"):
            in_ns(name, "sysctl", "-qw", key)
    for left, right, index, mtu in LINKS:
        a, b = f"{TAG}{index}a", f"{TAG}{index}b"
        run("ip", "link", "add", a, "netns", NS[left], "type", "veth", "peer", "name", b,
            "netns", NS[right])
        for ns, dev, host in ((left, a, 1), (right, b, 2)):
            in_ns(ns, "ip", "link", "set", dev, "mtu", str(mtu), "up")
            in_ns(ns, "ip", "addr", "add", f"{v4(index, host)}/24", "dev", dev)
            in_ns(ns, "ip", "-6", "addr", "add", f"{v6(index, host)}/64", "dev", dev, "nodad")
    # Routes: everything left goes via the left neighbour, right via the right one.
    for position, name in enumerate(NAMES):
        for index in range(1, len(LINKS) + 1):
            if index == position or index == position + 1:
                continue  # directly connected
            via_index, via_host = (position, 1) if index < position else (position + 1, 2)
            in_ns(name, "ip", "route", "add", f"10.201.{index}.0/24", "via", v4(via_index, via_host))
            in_ns(name, "ip", "-6", "route", "add", f"fd00:201:{index}::/64", "via",
                  v6(via_index, via_host))


def add_dead_ends():
    """r3 drops 10.201.8.0/24 silently and answers 10.201.9.0/24 host unreachable."""
    for position, name in enumerate(NAMES[:3]):
        for subnet in ("10.201.8.0/24", "10.201.9.0/24"):
            in_ns(name, "ip", "route", "add", subnet, "via", v4(position + 1, 2))
    in_ns("r3", "ip", "route", "add", "blackhole", "10.201.8.0/24")
    in_ns("r3", "ip", "route", "add", "unreachable", "10.201.9.0/24")


def trace_dead_ends(command):
    base = ["ip", "netns", "exec", NS["src"], *command, "trace"]
    # A black hole: hops from 3 on never answer; the trace ends at --max-hops, exit 1.
    r = subprocess.run(base + ["10.201.8.1", "--probes", "2", "--max-hops", "4"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=scaled(60), check=False)
    print(f"{r.stdout}{r.stderr}", flush=True)
    assert r.returncode == 1, f"black hole: exit {r.returncode}, expected 1"
    hops = parse_hops(r.stdout)
    assert sorted(hops) == [1, 2, 3, 4], f"black hole hops {sorted(hops)}"
    assert hops[2]["address"] == v4(2, 2) and hops[2]["loss"] == 0
    for ttl in (3, 4):
        assert hops[ttl]["address"] == "*" and hops[ttl]["loss"] == 100, f"hop {ttl}: {hops[ttl]}"
    # Host unreachable from r3: the trace stops there, exit 1.
    r = subprocess.run(base + ["10.201.9.1", "--probes", "2"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=scaled(60), check=False)
    print(f"{r.stdout}{r.stderr}", flush=True)
    assert r.returncode == 1, f"unreachable: exit {r.returncode}, expected 1"
    hops = parse_hops(r.stdout)
    assert sorted(hops) == [1, 2, 3], f"unreachable hops {sorted(hops)}"
    assert hops[3]["address"] == v4(3, 2) and "!unreachable" in r.stdout


def add_netem():
    """Delay and loss on r1's side of the r1 -> r2 link; False when netem is unavailable."""
    if shutil.which("tc") is None:
        return False
    r = in_ns("r1", "tc", "qdisc", "add", "dev", f"{TAG}2a", "root", "netem", "delay",
              f"{DELAY_MS}ms", "loss", f"{LOSS_PERCENT}%", check=False)
    return r.returncode == 0


HOP = re.compile(r"^\s+(\d+)\s+(\S+)(.*)$")


def parse_hops(output):
    hops = {}
    for line in output.splitlines():
        m = HOP.match(line)
        if not m:
            continue
        rest = m.group(3)
        rtts = [float(x) for x in re.findall(r"([\d.]+) ms", rest)]
        lost = len(re.findall(r"(?:^|\s)\*(?=\s|$)", rest))
        loss = int(re.search(r"loss (\d+)%", rest).group(1))
        mtu = re.search(r"mtu (\d+)", rest)
        hops[int(m.group(1))] = {"address": m.group(2), "rtts": rtts, "lost": lost,
                                 "loss": loss, "mtu": int(mtu.group(1)) if mtu else 0}
    return hops


def trace(command, destination, expected, netem):
    args = ["ip", "netns", "exec", NS["src"], *command, "trace", destination,
            "--probes", str(PROBES), "--max-hops", "8"]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=scaled(180), check=False)
    print(f"$ {' '.join(args)}\n{r.stdout}{r.stderr}", flush=True)
    assert r.returncode == 0, f"trace exited {r.returncode}, expected 0 (destination reached)"
    hops = parse_hops(r.stdout)
    assert sorted(hops) == list(range(1, len(expected) + 1)), f"hops {sorted(hops)}"
    for ttl, address in enumerate(expected, start=1):
        hop = hops[ttl]
        assert hop["address"] == address, f"hop {ttl}: {hop['address']} != {address}"
        assert len(hop["rtts"]) + hop["lost"] == PROBES, f"hop {ttl}: probes {hop}"
        # r1 -> r2 and beyond cross the 1400-byte link only from hop 3 on.
        want_mtu = 1500 if ttl <= 2 else SMALL_MTU
        assert hop["mtu"] == want_mtu, f"hop {ttl}: mtu {hop['mtu']} != {want_mtu}"
    assert hops[1]["lost"] == 0, "hop 1 crosses no lossy link"
    if not netem:
        return
    assert all(rtt < DELAY_MS for rtt in hops[1]["rtts"]), "hop 1 is before the delay"
    for ttl in range(2, len(expected) + 1):
        assert min(hops[ttl]["rtts"]) >= DELAY_MS, f"hop {ttl} rtt below {DELAY_MS} ms"
    # 30 probes through a 20 % lossy link: P(no loss) = 0.8^30 < 0.2 %; P(> 70 %) is tinier.
    beyond = [hops[ttl] for ttl in range(2, len(expected) + 1)]
    lost = sum(h["lost"] for h in beyond)
    total = PROBES * len(beyond)
    assert 0 < lost <= total * 0.7, f"lost {lost} of {total} beyond the lossy link"


def main():
    command = sys.argv[1:]
    if not command:
        print(__doc__)
        return 2
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("SKIP: network namespaces need root and iproute2")
        return SKIP
    probe = subprocess.run(["ip", "netns", "add", NS["src"]], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        print(f"SKIP: cannot create a network namespace: {probe.stderr.strip()}")
        return SKIP
    subprocess.run(["ip", "netns", "del", NS["src"]], timeout=30, check=False)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        build_topology()
        add_dead_ends()
        netem = add_netem()
        if not netem:
            print("note: tc/netem unavailable; delay and loss are not checked", flush=True)
        trace(command, v4(4, 2), [v4(1, 2), v4(2, 2), v4(3, 2), v4(4, 2)], netem)
        trace(command, v6(4, 2), [v6(1, 2), v6(2, 2), v6(3, 2), v6(4, 2)], netem)
        trace_dead_ends(command)
        # Input the shell-out era made dangerous is refused before anything is sent.
        for bad in ("10.201.4.2; reboot", "$(reboot)", "-f", "a|b"):
            r = subprocess.run(["ip", "netns", "exec", NS["src"], *command, "trace", bad],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=scaled(30), check=False)
            assert r.returncode == 2, f"{bad!r}: exit {r.returncode}"
        print("PASS")
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
