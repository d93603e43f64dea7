#!/usr/bin/env python3
"""make bench: memdiskblk against the alternatives, side by side in one guest.

One QEMU guest (TCG) boots an ISO through real MEMDISK and serves the same
bytes through every contender (tests/bench/guest.sh):

  memdisk  memdiskblk, /dev/memdisk0 over the image MEMDISK left in RAM
  phram    phram + mtdblock over the same range (the old recipe)
  pmem     nd_pmem over a range of the guest's RAM carved with
           memmap=SIZE!ADDR, holding a copy of the image
  brd      brd holding a copy of the image (what "toram" copying gives)
  tmpfs    a tmpfs file holding the image: read() from the page cache, one
           copy per byte, the limit for an O_DIRECT block read
  memcpy   a memcpy loop over a buffer of the image's size (seq only)

pmem cannot sit on the image itself while memdiskblk serves it: memmap=!
turns that range into "Persistent Memory (legacy)", which memdiskblk
rightly refuses as not MEMDISK's reserved memory, and the two drivers could
not both claim one range. A carved range of the same RAM, mapped the same
way (write-back), gives pmem's I/O path the same memory to copy from.

Further boots load only memdiskblk and phram + mtdblock over 64 MiB,
512 MiB and 2 GiB images to show how the drivers' memory grows with size,
and memdiskblk alone in a guest with --mem-cpus vCPUs (8) to show that it
does not grow with the CPU count.

--only ab --ko A.ko --ko-b B.ko: two builds of memdiskblk in turns in one
guest, for A/B comparisons of driver changes: 4 KiB random reads with 2
vCPUs, then the memory a load takes with --mem-cpus vCPUs.

The live part (tests/bench/live.py) boots a live ISO with a real-sized
root through MEMDISK with live-boot: served by memdiskblk (with and
without memdiskfind in the initramfs), by live-boot's own phram recipe,
and copied to RAM (toram); --live-runs boots each way.

Every figure is the median of --runs runs (runs interleaved across the
contenders), with the lowest and highest. Output: a table here, and
results.json, table.txt, bench.png and live.png (gnuplot) in --out.
--only live measures the live part alone and puts it into the report
already in --out (the other parts' figures are kept).

Usage: tests/bench/run.py [--size MIB] [--runs N] [--mem-runs N] [--count N]
                          [--mem-sizes 64,512,2048] [--mem-cpus 8]
                          [--live-runs N] [--out DIR] [--kernel SUBSTR]
                          [--only speed|mem|tune|live|ab]
"""
import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))

import images  # noqa: E402
import live  # noqa: E402
from boot import boot  # noqa: E402

MODULES = ["phram", "mtdblock", "brd", "nd_e820", "nd_pmem", "nd_btt", "null_blk"]
CONTENDERS = ["memdisk", "phram", "pmem", "brd", "tmpfs", "memcpy"]
# nokaslr: the same layout every boot. tsc=reliable: TCG's vCPUs fail the
# kernel's TSC synchronisation check, which then falls back to the HPET,
# whose every read is an emulated device access (microseconds); blk-mq
# reads the clock for each request (writeback-throttling statistics),
# bio-based drivers do not, and no real machine has a clock that slow.
GUEST_CMDLINE = "nokaslr tsc=reliable"
CARVE_AT = 512  # MiB: pmem's range, below where isolinux puts the initrd
BAD = re.compile(r"BUG:|WARNING:|Oops|Call Trace")
METRICS = [  # key, heading, unit, amount per ns -> unit
    ("seq_direct", "seq 1M O_DIRECT", "MiB/s", 1e9 / (1 << 20)),
    ("seq_buffered", "seq 1M buffered", "MiB/s", 1e9 / (1 << 20)),
    ("rand_1", "4K rand 1 job", "kIOPS", 1e6),
    ("rand_n", "4K rand N jobs", "kIOPS", 1e6),
]


class Guest:
    """The kernel, module and benchmark initramfs every boot shares."""

    def __init__(self, kver, out, ko=None, append="", ko_b=None):
        self.kver = kver
        self.append = append
        self.out = out
        # Stripped of debug information, as DKMS installs it (Debian's own
        # modules, phram's included, are shipped stripped too).
        stripped = out / "memdiskblk.ko"
        images.run(["strip", "--strip-debug", "-o", str(stripped),
                    str(ko or images.build_module(kver)[0])])
        ko = stripped
        tool = out / "mdbbench"
        images.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-pthread",
                    "-o", str(tool), str(HERE / "mdbbench.c")])
        files = {"/bin/mdbbench": tool}
        if ko_b:
            files["/bench/b.ko"] = out / "b.ko"
            images.run(["strip", "--strip-debug", "-o", str(files["/bench/b.ko"]),
                        str(ko_b)])
        self.initrd = images.initramfs(
            kver, ko, name="-bench", modules=MODULES,
            cases={"bench": (HERE / "guest.sh").read_text()}, files=files)

    def run(self, name, mib, arg, mem, cmdline="", boots=1, cpus=2):
        """Boot an ISO of about mib MiB boots times with cpus vCPUs;
        return each boot's bench lines as a dict."""
        iso = self.out / f"{name}.iso"
        images.iso(iso, self.kver, self.initrd,
                   f"mdbtest=bench mdbarg={arg} {GUEST_CMDLINE} {self.append} {cmdline}", {},
                   big=mib << 20)
        out = [self._boot(name, iso, mem, cpus) for _ in range(boots)]
        iso.unlink()
        return out if boots > 1 else out[0]

    def _boot(self, name, iso, mem, cpus):
        return bench_boot(name, iso, mem, cpus)


def bench_boot(name, iso, mem, cpus=2):
    """Boot iso through MEMDISK; the guest's "@@ bench.KEY VALUE" lines as
    {KEY: VALUE}."""
    for attempt in (1, 2):
        # With 2 vCPUs, QEMU's TCG now and then oopses the guest (see
        # tests/lib/boot.py); one retry, and say so.
        b = boot(f"bench-{name}", image=iso, memdisk_args="iso raw",
                 mem=mem, cpus=cpus, timeout=3600)
        facts = {k[6:]: v for k, v in b.facts.items() if k.startswith("bench.")}
        bad = [ln for ln in b.log.splitlines() if BAD.search(ln)]
        if "error" not in facts and not bad and not b.timed_out and facts:
            break
        print(f"bench: boot {name} attempt {attempt} failed: "
              f"{facts.get('error') or (bad[:1] or ['timeout'])[0]}", flush=True)
    else:
        sys.exit(f"bench: {name} did not complete; see its log in {images.CACHE}/logs")
    return facts


def spread(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "runs": values}


def speed(guest, mib, runs, count):
    carve = (mib + 64) & ~1   # MiB, 2 MiB aligned, holds the ISO
    mem = max(2048, 5 * mib + 768)
    facts = guest.run(f"speed-{mib}", mib, f"speed,{runs},{count}", mem,
                      f"memmap={carve}M!{CARVE_AT}M")
    shas = {k[4:]: v for k, v in facts.items() if k.startswith("sha.")}
    if len(set(shas.values())) != 1:
        sys.exit(f"bench: the contenders do not hold the same bytes: {shas}")
    res = {"image_bytes": int(facts["image"].split()[1]),
           "image_addr": facts["image"].split()[0],
           "jobs": int(facts["jobs"]), "kernel": facts["kernel"],
           "guest_mib": mem, "count_per_job": count}
    for key, _, _, scale in METRICS:
        res[key] = {}
        for c in CONTENDERS:
            vals = []
            for r in range(1, runs + 1):
                f = facts.get(f"{key}.{c}.{r}")
                if f:
                    ns, amount = map(int, f.split())
                    vals.append(amount / ns * scale)
            if vals:
                res[key][c] = spread(vals)
    res["load_ms"] = {}
    for c in ["memdisk", "phram"]:
        vals = [int(facts[f"load.{c}.{r}"].split()[0]) / 1e6
                for r in range(1, runs + 1) if f"load.{c}.{r}" in facts]
        res["load_ms"][c] = spread(vals)
    return res


def tune(guest, mib, runs, count):
    """memdiskblk alone under each queue setting (--tune, not in the report)."""
    facts = guest.run(f"tune-{mib}", mib, f"tune,{runs},{count}", 2048)
    for k, v in facts.items():
        if k.startswith("queue."):
            print(f"{k}: {v}")
    for key, head, unit, scale in METRICS:
        row = []
        for v in ["default", "iostats1", "ra2048", "nomerges2", "wbt0", "afterphram",
                  "null_blk0", "null_blk2"]:
            vals = [int(facts[f"{key}.{v}.{r}"].split()[1]) /
                    int(facts[f"{key}.{v}.{r}"].split()[0]) * scale
                    for r in range(1, runs + 1) if f"{key}.{v}.{r}" in facts]
            if vals:
                row.append(f"{v} {fmt(spread(vals))}")
        print(f"{head} {unit}: " + ", ".join(row), flush=True)


def memory_of(guest, c, mib, runs, cpus=2):
    """runs boots with cpus vCPUs: what driver c takes on its first load
    (what a boot pays) and on reloads (the mapping's page tables are
    reused), and how slab moved."""
    first, again, slab = [], [], []
    suffix = f"-{cpus}cpu" if cpus != 2 else ""
    for facts in guest.run(f"mem-{mib}-{c}{suffix}", mib, f"mem,{runs},0,{c}",
                           min(3584, mib + 1280), boots=runs, cpus=cpus):
        for r in range(runs + 1):
            a0, s0, a1, s1 = map(int, facts[f"mem.{c}.{r}"].split())
            (again if r else first).append(a0 - a1)
            slab.append(s1 - s0)
    return {"kib": spread(first), "reload_kib": spread(again),
            "slab_kib": spread(slab)}


def memory(guest, sizes, runs, cpus, drivers=("memdisk", "phram")):
    """The drivers at each size with 2 vCPUs; then memdiskblk with cpus
    vCPUs at the smallest size (its tag set is what could grow with the
    CPU count; the mapping does not), keyed "MIB@CPUS"."""
    res = {}
    for mib in sizes:
        res[mib] = {c: memory_of(guest, c, mib, runs) for c in drivers}
    if cpus and sizes and "memdisk" in drivers:
        res[f"{min(sizes)}@{cpus}"] = {
            "memdisk": memory_of(guest, "memdisk", min(sizes), runs, cpus)}
    return res


def ab(guest, mib, runs, count, cpus):
    """--only ab: build A (--ko) against build B (--ko-b) in one guest per
    figure: 4 KiB random reads with 2 vCPUs, then what a load takes with
    cpus vCPUs (KiB; first loads excluded)."""
    def show(v, facts):
        print(f"{v.upper()}: hardware queues, nr_requests: {facts.get(f'queues.{v}')}")

    def line(head, val, digits=0, diff=False):
        a_, b_ = spread(list(val["a"].values())), spread(list(val["b"].values()))
        # Each run's B against its own A: the two ran back to back, so a
        # slower host or a busier guest moves both and less noise is left.
        pairs = spread([val["b"][r] - val["a"][r] if diff else
                        val["b"][r] / val["a"][r]
                        for r in val["a"] if r in val["b"]])
        print(f"{head}: A {fmt(a_)}, B {fmt(b_)}, "
              f"B{'-' if diff else '/'}A by run {fmt(pairs, digits)}; runs A "
              f"{[round(x) for x in a_['runs']]}, B {[round(x) for x in b_['runs']]}",
              flush=True)

    facts = guest.run(f"ab-{mib}", mib, f"ab,{runs},{count},rand", 2048)
    for v in "ab":
        show(v, facts)
    for key, head, unit, scale in METRICS[2:]:
        line(f"{head} {unit}, 2 vCPUs",
             {v: {r: int(facts[f"{key}.{v}.{r}"].split()[1]) /
                  int(facts[f"{key}.{v}.{r}"].split()[0]) * scale
                  for r in range(1, runs + 1) if f"{key}.{v}.{r}" in facts}
              for v in "ab"}, 2)
    if not cpus:
        return
    facts = guest.run(f"abmem-{mib}-{cpus}cpu", mib, f"ab,{runs},0,mem",
                      min(3584, mib + 1280), cpus=cpus)
    for v in "ab":
        show(v, facts)
    val = {v: {} for v in "ab"}
    for v in "ab":
        for r in range(1, runs + 1):
            if f"abmem.{v}.{r}" in facts:
                a0, _, a1, _ = map(int, facts[f"abmem.{v}.{r}"].split())
                val[v][r] = a0 - a1
    line(f"memory of a load, KiB, {cpus} vCPUs", val, diff=True)


def fmt(s, digits=0):
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def ratio(res, key, a, b):
    best = max(res[key][c]["median"] for c in ((b,) if isinstance(b, str) else b))
    return res[key][a]["median"] / best


TARGETS = [  # text, metric, over (the best of a tuple), at least
    ("seq O_DIRECT >= 0.9 x tmpfs limit", "seq_direct", "tmpfs", 0.9),
    ("seq O_DIRECT >= 2.7 x phram", "seq_direct", "phram", 2.7),
    ("seq O_DIRECT >= 1.0 x pmem", "seq_direct", "pmem", 1.0),
    # Buffered reads end at the page cache's fill rate whatever the driver
    # (brd and pmem included): a driver is held to the best of them.
    ("seq buffered >= 0.95 x the better of brd and pmem", "seq_buffered",
     ("brd", "pmem"), 0.95),
    ("seq buffered >= 1.0 x pmem", "seq_buffered", "pmem", 1.0),
    ("4K rand 1 job >= 3 x phram", "rand_1", "phram", 3.0),
    ("4K rand 1 job >= 1.0 x pmem", "rand_1", "pmem", 1.0),
    ("4K rand N jobs >= 3 x phram", "rand_n", "phram", 3.0),
    ("4K rand N jobs >= 1.0 x pmem", "rand_n", "pmem", 1.0),
    ("4K rand N jobs >= 1.0 x 1 job", "rand_n", None, 1.0),
]


def targets(res, mem, lv=None):
    out = []
    for text, key, over, least in TARGETS if res else []:
        r = (ratio(res, key, "memdisk", over) if over else
             res["rand_n"]["memdisk"]["median"] / res["rand_1"]["memdisk"]["median"])
        out.append({"target": text, "ratio": round(r, 2), "met": r >= least})
    if res:
        ms = res["load_ms"]["memdisk"]["median"]
        out.append({"target": "load to readable < 20 ms", "value": ms, "met": ms < 20})
    if mem:
        worst = max(m["memdisk"]["kib"]["median"] for m in mem.values())
        out.append({"target": "driver memory < 1 MiB at every size and CPU count",
                    "value": worst, "met": worst < 1024})
    return out + (live.targets(lv) if lv else [])


def table(res, mem, tgt, lv=None):
    if not res:  # --only live with no earlier report
        return "\n".join(live.table(lv) + [
            f"{'met ' if t['met'] else 'MISSED'} {t['target']}: {t['value']}" for t in tgt])
    lines = [f"memdiskblk benchmark: {res['image_bytes'] >> 20} MiB image, "
             f"kernel {res['kernel']}, {res['jobs']} vCPUs (TCG), "
             "median (min-max) of each run"]
    head = f"{'':8}" + "".join(f"{h + ' ' + u:>26}" for _, h, u, _ in METRICS)
    lines.append(head)
    for c in CONTENDERS:
        row = f"{c:8}"
        for key, _, _, _ in METRICS:
            row += f"{fmt(res[key][c]) if c in res[key] else '-':>26}"
        lines.append(row)
    lines.append("load to readable, ms: " + ", ".join(
        f"{c} {fmt(s, 1)}" for c, s in res["load_ms"].items()))
    for mib, m in mem.items():
        size, _, cpus = str(mib).partition("@")
        lines.append(f"memory with a {size} MiB image, {cpus or 2} vCPUs, KiB, "
                     "first load / reloads (slab): " + ", ".join(
                         f"{c} {fmt(v['kib'])} / {fmt(v['reload_kib'])} "
                         f"({fmt(v['slab_kib'])})" for c, v in m.items()))
    lines += live.table(lv) if lv else []
    for t in tgt:
        fig = t.get("ratio", t.get("value"))
        lines.append(f"{'met ' if t['met'] else 'MISSED'} {t['target']}: {fig}")
    return "\n".join(lines)


def chart(res, out):
    """bench.png: one panel per metric, a bar per contender, min-max bars."""
    dat = out / "bench.dat"
    with open(dat, "w") as f:
        for key, _, _, _ in METRICS:
            f.write(f"# {key}\n")
            for i, c in enumerate(CONTENDERS):
                s = res[key].get(c)
                if s:
                    f.write(f"{i} {c} {s['median']} {s['min']} {s['max']}\n")
            f.write("\n\n")
    plots = []
    for i, (key, head, unit, _) in enumerate(METRICS):
        plots.append(
            f"set title '{head} ({unit}, higher is better)'\n"
            f"plot '{dat}' index {i} using 1:3:xtic(2) with boxes lc rgb '#4a7ebb' notitle, "
            f"'' index {i} using 1:3:4:5 with yerrorbars lc rgb 'black' pt 0 notitle\n")
    script = ("set terminal pngcairo size 1200,800 font 'sans,10' noenhanced\n"
              f"set output '{out / 'bench.png'}'\n"
              "set multiplot layout 2,2 title 'memdiskblk vs alternatives, "
              f"{res['image_bytes'] >> 20} MiB image, {res['jobs']} vCPUs under TCG "
              "(median, min-max)'\n"
              "set style fill solid 0.8\nset boxwidth 0.6\nset yrange [0:*]\n"
              "set grid ytics\nset xrange [-0.5:5.5]\n" + "".join(plots) +
              "unset multiplot\n")
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    dat.unlink()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=320, help="image MiB (<= 1024)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each speed figure")
    ap.add_argument("--mem-runs", type=int, default=3, help="boots per memory figure")
    ap.add_argument("--count", type=int, default=20000, help="4K reads per job")
    ap.add_argument("--mem-sizes", default="64,512,2048")
    ap.add_argument("--mem-cpus", type=int, default=8,
                    help="vCPUs of the memdiskblk-only memory boots (0: none)")
    ap.add_argument("--mem-drivers", default="memdisk,phram",
                    help="drivers of the memory boots (--only mem)")
    ap.add_argument("--out", type=Path, default=images.CACHE / "bench")
    ap.add_argument("--kernel", default="", help="substring of the kernel to use")
    ap.add_argument("--ko", type=Path, help="a prebuilt memdiskblk.ko (A/B runs)")
    ap.add_argument("--ko-b", type=Path, help="build B for --only ab")
    ap.add_argument("--append", default="", help="more guest kernel command line")
    ap.add_argument("--live-runs", type=int, default=3, help="boots of each live way")
    ap.add_argument("--only", choices=["speed", "mem", "tune", "live", "ab"],
                    help="one part (speed, mem, tune, ab: no report files; "
                    "tune: queue settings; ab: --ko against --ko-b (4K "
                    "random, memory); live: into the report in --out)")
    a = ap.parse_args()
    if shutil.which("gnuplot") is None:
        sys.exit("bench: gnuplot is missing (scripts/install-deps.sh installs it)")
    kvers = [k for k in images.kernels() if a.kernel in k]
    if not kvers or min(a.runs, a.mem_runs, a.live_runs) < 3 or not 16 <= a.size <= 1024:
        sys.exit("bench: needs an installed kernel, --runs, --mem-runs and "
                 "--live-runs >= 3, 16 <= --size <= 1024")
    a.out.mkdir(parents=True, exist_ok=True)
    if a.only == "live":
        old = a.out / "results.json"
        report = json.loads(old.read_text()) if old.exists() else {}
        lv = measure_live(kvers[0], a)
        return write_report(a.out, report.get("speed"), report.get("memory"), lv)
    if a.only == "ab" and not a.ko_b:
        sys.exit("bench: --only ab needs --ko-b (and usually --ko)")
    guest = Guest(kvers[0], a.out, a.ko, a.append, a.ko_b)
    sizes = [int(s) for s in a.mem_sizes.split(",") if s]
    if a.only == "tune":
        return tune(guest, a.size, a.runs, a.count)
    if a.only == "ab":
        return ab(guest, a.size, a.runs, a.count, a.mem_cpus)
    if a.only == "mem":
        drivers = [d for d in a.mem_drivers.split(",") if d]
        for mib, m in memory(guest, sizes, a.mem_runs, a.mem_cpus,
                             drivers).items():
            size, _, cpus = str(mib).partition("@")
            print(f"{size} MiB, {cpus or 2} vCPUs: " + ", ".join(
                f"{c} {fmt(v['kib'])} KiB, reloads {fmt(v['reload_kib'])}, "
                f"slab {fmt(v['slab_kib'])}"
                for c, v in m.items()))
        return None
    res = speed(guest, a.size, a.runs, a.count)
    mem = memory(guest, sizes, a.mem_runs, a.mem_cpus)
    return write_report(a.out, res, mem, measure_live(kvers[0], a))


def measure_live(kver, a):
    cmdline = f"{GUEST_CMDLINE} {a.append}".strip()
    return live.measure(kver, a.live_runs, cmdline, bench_boot,
                        log=lambda m: print(m, flush=True))


def write_report(out, res, mem, lv):
    """results.json, table.txt, bench.png (the speed part) and live.png
    (the live part) in out; the table on stdout."""
    tgt = targets(res, mem, lv)
    report = {"speed": res, "memory": mem, "live": lv, "targets": tgt}
    (out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    text = table(res, mem, tgt, lv)
    (out / "table.txt").write_text(text + "\n")
    if res:
        chart(res, out)
    live.chart(lv, out)
    print(text)
    print(f"bench: wrote results.json, table.txt, bench.png and live.png in {out}")


if __name__ == "__main__":
    main()
