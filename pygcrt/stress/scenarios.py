"""The stress scenarios: each runs in a trial's child process, cycle by cycle.

A scenario owns its runtime(s) and, at every cycle, runs one seeded batch
of work on runtime threads in C with chaos at the schedule points
(``gcrt_test_sched_mode`` mode 2), then checks the batch against its own
oracle: canaries, ids and shapes of the objects built (churn, gc), each
goroutine's counts of allocations, stores and loads computed from its
program, with the VM checking a canary on every load (goroutines), node
identities and data sums (lfstack), item ids and list membership
(workbufs, getfull), or the controller's verdict (sched).  A cycle that
breaks an oracle returns a :class:`Cycle` with ``failure`` set and, where
the hook keeps them, the last events of each M.

Collections: the ``gc`` scenario runs the churn hook with pacing on
(GOGC from the options) and a host thread forcing a collection every
``FORCE_GC_S``, every object pinned as the hook's gc protocol says, so
collections start inside any M's allocation or from outside while the Ms
mutate, and finalizers on dropped structures that check them when they
run; each cycle then reports the collections and pauses it saw (from
the stats' pause ring) and, after a final ``gcrt_gc`` with nothing pinned,
checks that no object survived.  The other churn scenarios do not collect
(their objects are held in C locals the collector cannot see), so they
start a fresh runtime once the heap passes ``HEAP_LIMIT``.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .. import errors, mutator
from .. import sched as schedmod
from .. import workhooks as wh
from .._binding import check, ffi, lib, string
from ..runtime import Runtime

HEAP_LIMIT = 256 << 20
SLOW_US = 2000
THROW_LINES = 60  # of a recorded throw's report (message and state dump)
GOROUTINE_TIMEOUT_MS = 60000
NODE_BYTES = 24  # the goroutine programs' node: canary, next, one scalar
FORCE_GC_S = 0.02  # gc scenario: a forced collection this often, besides pacing
RUNTIME_MUTANTS = ("getfull_partial", "lf_aba")
PROC_MUTANTS = ("copy_read_then_cas",)
HOOK_MUTANTS = ("canary", "lose_rest")
EVENT_NAMES = {
    lib.GCRT_STRESS_EV_LIST: "built list of",
    lib.GCRT_STRESS_EV_TREE: "built tree of depth",
    lib.GCRT_STRESS_EV_ARRAY: "built array of bytes",
    lib.GCRT_STRESS_EV_CHECK: "checked",
    lib.GCRT_STRESS_EV_SWAP: "swapped slot",
    lib.GCRT_STRESS_EV_REWIRE: "rewired",
    lib.GCRT_STRESS_EV_SLEEP: "slow M slept us",
    lib.GCRT_STRESS_EV_CORRUPT: "CORRUPTED object",
    lib.GCRT_STRESS_EV_BAD: "found bad object",
    lib.GCRT_STRESS_EV_ERROR: "allocation failed with",
}
KINDS = {1: "a list", 2: "a tree", 3: "an array"}


@dataclass
class Options:
    """What a trial runs; travels to the child as JSON."""

    scenario: str
    ms: int = 4
    procs: int = 2
    gogc: int = 100
    seed: int = 1
    chaos: int = 10
    mutant: str | None = None
    mode: str = "seed"
    checkmark: bool = False
    duration: float = 5.0
    cycles: int = 0


@dataclass
class Cycle:
    """One cycle's outcome and figures."""

    failure: str = ""
    allocs: int = 0
    bytes: int = 0
    heap: int = 0
    numgc: int = 0
    pauses_ns: list[int] = field(default_factory=list)
    heap_samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, bytes)
    pause_samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, ns)
    events: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""


def _cycle_seed(seed: int, i: int) -> int:
    return (seed * 0x9E3779B97F4A7C15 + i * 0xBF58476D1CE4E5B9 + 1) & (2**63 - 1)


def _sample_heap(rt: Any, c: Cycle, stop: threading.Event, numgc: int) -> None:
    """Sample heap_alloc, and time the new pauses, every 10 ms while a hook
    runs (the C call releases the GIL; stats may be read from any thread)."""
    st = ffi.new("gcrt_stats *")
    while not stop.wait(0.01):
        if lib.gcrt_stats_read(rt, st) != 0:
            return
        now = time.monotonic()
        c.heap_samples.append((now, st.heap_alloc))
        first = max(numgc, st.numgc - 256)
        c.pause_samples += [(now, st.pause_ns[k % 256]) for k in range(first, st.numgc)]
        numgc = st.numgc


def _gc_opts(o: Options) -> int:
    """gcrt_gc_options bits: pacing on, freed memory poisoned, the cycle
    --mode names, checkmark."""
    return (lib.GCRT_GC_ENABLE | lib.GCRT_GC_CLOBBERFREE
            | (lib.GCRT_GC_STW if o.mode == "stw" else 0)
            | (lib.GCRT_GC_CHECKMARK if o.checkmark else 0))


def _force_gc(rt: Any, stop: threading.Event, every: float) -> None:
    """Collect every ``every`` seconds while a hook runs, on top of pacing
    (collections from a thread that is not an M, as a host would)."""
    while not stop.wait(every):
        if lib.gcrt_gc(rt) != 0:
            return


class Scenario:
    """Base: a runtime in record mode with chaos at its schedule points."""

    name = ""
    doc = ""

    def __init__(self, o: Options) -> None:
        self.o = o
        self.rng = random.Random(o.seed)

    def cycle(self, i: int) -> Cycle:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the scenario holds."""

    def _chaos(self, rt: Any, seed: int) -> None:
        check(lib.gcrt_test_sched_mode(rt, 2, seed, self.o.chaos), rt, "sched_mode")

    def _hookrt(self, seed: int) -> wh.HookRuntime:
        rt = wh.HookRuntime(nprocs=self.o.procs)
        if self.o.mutant in RUNTIME_MUTANTS:
            wh.set_mutant(rt, self.o.mutant)
        self._chaos(rt.ptr, seed)
        return rt


class Churn(Scenario):
    name = "churn"
    doc = ("Ms build, swap, rewire and check canaried lists, trees and arrays (attached to Ps; "
           "no collections: the runtime is replaced once its heap passes 256 MiB)")
    attached = 1
    gc = 0
    rounds = 40

    def __init__(self, o: Options) -> None:
        super().__init__(o)
        self.rt: Any = None
        self.s = ffi.new("gcrt_stress_churn *")
        self.numgc = 0

    def _runtime(self) -> Any:
        if self.rt is not None:
            st = ffi.new("gcrt_stats *")
            check(lib.gcrt_stats_read(self.rt, st), self.rt, "stats")
            if st.heap_alloc < HEAP_LIMIT or self.gc:
                return self.rt
            lib.gcrt_destroy(self.rt)
        cfg = ffi.new("gcrt_config *")
        lib.gcrt_config_init(cfg)
        cfg.nprocs, cfg.gogc = self.o.procs, self.o.gogc
        cfg.on_throw = lib.GCRT_THROW_RECORD
        out = ffi.new("gcrt_runtime **")
        check(lib.gcrt_new(cfg, out), None, "gcrt_new")
        self.rt = out[0]
        self.numgc = 0
        if self.gc:
            check(lib.gcrt_gc_options(self.rt, _gc_opts(self.o), ffi.NULL), self.rt, "gc_options")
        return self.rt

    def cycle(self, i: int) -> Cycle:
        rt = self._runtime()
        seed = _cycle_seed(self.o.seed, i)
        self._chaos(rt, seed)
        s = self.s
        s.nthreads, s.attached = self.o.ms, self.attached
        s.rounds, s.maxnodes, s.nslots = self.rounds, 400, max(1, self.o.ms // 2)
        s.slow_m = self.rng.randrange(self.o.ms)
        s.slow_us = SLOW_US
        s.corrupt_round = 1 + self.rng.randrange(s.rounds) if self.o.mutant == "canary" else 0
        s.seed = seed
        s.gc = self.gc
        s.lose_rest = int(self.gc and self.o.mutant == "lose_rest")
        c = Cycle()
        stop = threading.Event()
        helpers = [threading.Thread(target=_sample_heap, args=(rt, c, stop, self.numgc),
                                    daemon=True)]
        if self.gc:
            helpers.append(threading.Thread(target=_force_gc, args=(rt, stop, FORCE_GC_S),
                                            daemon=True))
        for h in helpers:
            h.start()
        rc = lib.gcrt_test_stress_churn(rt, s)
        stop.set()
        for h in helpers:
            h.join()
        c.allocs, c.bytes = s.allocs, s.bytes
        if rc == 0:
            self._collections(rt, c)
            c.heap = max([c.heap] + [b for _, b in c.heap_samples])
        if rc != 0:
            c.failure = f"gcrt_test_stress_churn returned {string(lib.gcrt_strerror(rc))}"
            if rc == lib.GCRT_EFAILED:
                c.failure += ": " + string(lib.gcrt_last_throw(rt)).split("\n", 1)[0]
        elif s.error != 0:
            c.failure = f"allocation failed: {string(lib.gcrt_strerror(s.error))}"
        elif s.bad != 0:
            c.failure = f"{s.bad} bad objects; first: {string(s.first_bad)}"
        elif s.checked < s.allocs:
            c.failure = f"checked {s.checked} objects of {s.allocs} allocated"
        elif s.finalizers_run != s.finalizers_set:
            c.failure = f"{s.finalizers_run} of {s.finalizers_set} finalizers ran"
        c.note = f"{s.finalizers_run} finalizers ran" if self.gc else ""
        if not c.failure and self.gc:
            c.failure = self._all_garbage(rt, c)
        if c.failure:
            c.events = self._events()
            report = string(lib.gcrt_last_throw(rt))
            if report:
                c.events["runtime state at the throw"] = report.splitlines()[:THROW_LINES]
        return c

    def _collections(self, rt: Any, c: Cycle) -> None:
        """Heap size, and the collections and pauses since the last cycle."""
        st = ffi.new("gcrt_stats *")
        check(lib.gcrt_stats_read(rt, st), rt, "stats")
        c.heap = st.heap_alloc
        first = max(self.numgc, st.numgc - 256)
        c.numgc = st.numgc - self.numgc
        c.pauses_ns = [st.pause_ns[k % 256] for k in range(first, st.numgc)]
        self.numgc = st.numgc

    def _all_garbage(self, rt: Any, c: Cycle) -> str:
        """After the hook nothing is pinned: a full collection must free
        every object it allocated."""
        rc = lib.gcrt_gc(rt)
        if rc != 0:
            return f"gcrt_gc returned {string(lib.gcrt_strerror(rc))}: " + \
                string(lib.gcrt_last_throw(rt)).split("\n", 1)[0]
        st = ffi.new("gcrt_stats *")
        check(lib.gcrt_stats_read(rt, st), rt, "stats")
        before, heap, pauses = c.numgc, c.heap, c.pauses_ns
        self._collections(rt, c)
        c.numgc, c.heap, c.pauses_ns = c.numgc + before, heap, pauses + c.pauses_ns
        if st.heap_objects != 0:
            return f"{st.heap_objects} objects ({st.heap_alloc} bytes) survived a collection " \
                   "with nothing pinned"
        return ""

    def _events(self) -> dict[str, list[str]]:
        s = self.s
        out: dict[str, list[str]] = {}
        ring = lib.GCRT_STRESS_RING
        for m in range(self.o.ms):
            pos = s.ring_pos[m]
            evs = [s.ring[m][k % ring] for k in range(max(0, pos - ring), pos)]
            out[f"M{m}"] = [
                f"round {e.round}: {EVENT_NAMES.get(e.op, e.op)} {self._value(e)}" for e in evs
            ]
        return out

    @staticmethod
    def _value(e: Any) -> str:
        if e.op in (lib.GCRT_STRESS_EV_CORRUPT, lib.GCRT_STRESS_EV_BAD):
            return hex(e.value)
        if e.op in (lib.GCRT_STRESS_EV_CHECK, lib.GCRT_STRESS_EV_REWIRE):
            return KINDS.get(e.value, str(e.value))
        if e.op == lib.GCRT_STRESS_EV_ERROR:
            return string(lib.gcrt_strerror(ffi.cast("int64_t", e.value)))
        return str(e.value)

    def close(self) -> None:
        if self.rt is not None:
            lib.gcrt_destroy(self.rt)
            self.rt = None


class SharedChurn(Churn):
    name = "shared"
    doc = "the churn scenario allocating through the locked shared cache (gcrt_alloc)"
    attached = 0


class GcChurn(Churn):
    name = "gc"
    doc = "churn with collections by pacing while Ms mutate pinned objects, and finalizers"
    gc = 1
    rounds = 100  # a few MiB a cycle: past the first pacing goal


class Goroutines(Scenario):
    name = "goroutines"
    doc = ("goroutine programs on the Ms: lists held in stack frames, deep calls that grow "
           "and shrink stacks, syscalls, parking, with collections")
    LIST = 500   # nodes each goroutine links from its frame and walks back
    ROUNDS = 3   # rounds of the deep call chain
    DEPTH = 8    # functions in the chain, each allocating in its own frame
    SLOTS = 2000  # words per chain frame: 16 KB, so stacks grow to 128 KB+

    def _program(self, rt: Runtime, slow_us: int) -> mutator.Program:
        b = mutator.ProgramBuilder(rt)
        node = b.type(2, ptr_fields=[1])
        main = b.func(5, [0, 1])
        chain = [b.func(self.SLOTS, [0, 1]) for _ in range(self.DEPTH)]
        main.seti(2, self.LIST).label("build").alloc(1, node).store(1, 1, 0).move(0, 1)
        main.syscall(slow_us).loop("build", 2)
        main.seti(3, self.ROUNDS).label("deep").call(chain[0]).yield_().loop("deep", 3)
        main.gc().wake(1).park()
        main.seti(4, self.LIST - 1).label("walk").check(0).load(0, 0, 1).loop("walk", 4)
        main.check(0).exit()
        for k, f in enumerate(chain):
            f.alloc(0, node).alloc(1, node).store(0, 1, 1)
            if k + 1 < self.DEPTH:
                f.call(chain[k + 1])
            f.load(1, 0, 1).check(1).ret()
        return b.build()

    def expected(self) -> tuple[int, int, int]:
        """(allocs, stores, loads) of one goroutine, counted from the program."""
        deep = self.ROUNDS * self.DEPTH
        return self.LIST + 2 * deep, self.LIST + deep, self.LIST - 1 + deep

    def cycle(self, i: int) -> Cycle:
        seed = _cycle_seed(self.o.seed, i)
        ms, ngs = self.o.ms, max(4, 2 * self.o.ms)
        with Runtime(nprocs=self.o.procs, gogc=self.o.gogc, on_throw="record",
                     arena_size=512 << 20) as rt:
            p = rt.ptr()
            check(lib.gcrt_gc_options(p, _gc_opts(self.o), ffi.NULL), p, "gc_options")
            if self.o.mutant in PROC_MUTANTS:
                check(lib.gcrt_test_set_mutant(p, self.o.mutant.encode()), p, "set_mutant")
            self._chaos(p, seed)
            # Two WAKE groups (a goroutine never wakes itself): the slow one
            # sleeps in each syscall of its build loop.
            progs = [self._program(rt, 0), self._program(rt, SLOW_US // 20)]
            gs = progs[0].go(ngs - 2) + progs[1].go(2)
            c = Cycle(note=f"{ngs} goroutines on {ms} Ms, 2 of them slow")
            stop = threading.Event()
            helpers = [threading.Thread(target=_sample_heap, args=(p, c, stop, 0), daemon=True),
                       threading.Thread(target=_force_gc, args=(p, stop, FORCE_GC_S),
                                        daemon=True)]
            for h in helpers:
                h.start()
            try:
                mutator.start(rt, ms)
                mutator.wait(rt, GOROUTINE_TIMEOUT_MS)
            except errors.GcrtError as e:
                c.failure = f"goroutines: {e}"
            finally:
                stop.set()
                for h in helpers:
                    h.join()
            if not c.failure:
                c.failure = self._verify(rt, progs, gs, ngs)
            if rt.failed:
                c.failure = c.failure or "the runtime threw"
                c.events["runtime state at the throw"] = rt.last_throw.splitlines()[:THROW_LINES]
            st = ffi.new("gcrt_stats *")
            if lib.gcrt_stats_read(p, st) == 0:
                c.numgc = st.numgc
                c.pauses_ns = [st.pause_ns[k % 256] for k in range(max(0, st.numgc - 256), st.numgc)]
                c.heap = max([0] + [b for _, b in c.heap_samples])
                c.allocs = self.expected()[0] * ngs
                c.bytes = c.allocs * NODE_BYTES
        return c

    def _verify(self, rt: Runtime, progs: list[mutator.Program], gs: list[Any], ngs: int) -> str:
        want = self.expected()
        for k, g in enumerate(gs):
            st = progs[0 if k < ngs - 2 else 1].stats(g)
            got = (st.allocs, st.stores, st.loads)
            if st.exitcode != 0 or got != want:
                return (f"goroutine {k}: exit {string(lib.gcrt_strerror(st.exitcode))}, "
                        f"(allocs, stores, loads) {got}, want {want}")
            if st.maxstack < self.DEPTH * self.SLOTS * 8:
                return f"goroutine {k}: stack grew to {st.maxstack} bytes only"
        rt.gc()
        left = rt.stats().heap_objects
        return f"{left} objects survived the goroutines' exit and a collection" if left else ""


class HookScenario(Scenario):
    """A scenario that calls one runtime hook a cycle, on a fresh hook runtime."""

    def cycle(self, i: int) -> Cycle:
        seed = _cycle_seed(self.o.seed, i)
        with self._hookrt(seed) as rt:
            note, failure = self.run(rt, seed)
        return Cycle(note=note, failure=failure)

    def run(self, rt: wh.HookRuntime, seed: int) -> tuple[str, str]:
        """Run the hook: the cycle's note, and its failure ("" if none)."""
        raise NotImplementedError


class LFStack(HookScenario):
    name = "lfstack"
    doc = "TestLFStackStress: nodes conserved across stacks popped and pushed by every M"

    def run(self, rt: wh.HookRuntime, seed: int) -> tuple[str, str]:
        nnodes = 256
        r = wh.lfstack_stress(rt, self.o.ms, 4, nnodes, 3000, seed)
        bad = [k for k, n in enumerate(r.seen) if n != 1]
        ok = r.found == nnodes and not bad and r.sum_before == r.sum_after and not r.owned_twice
        return f"{sum(r.pops)} pops", "" if ok else (
            f"lfstack: drained {r.found} of {nnodes} nodes, {len(bad)} seen != 1 "
            f"(first {bad[:5]}), data sum {r.sum_after} vs {r.sum_before}, "
            f"{r.owned_twice} pops of an owned node")


class Workbufs(HookScenario):
    name = "workbufs"
    doc = "producers and consumers through the full/partial/empty work-buffer lists"

    def run(self, rt: wh.HookRuntime, seed: int) -> tuple[str, str]:
        r = wh.workbuf_stress(rt, self.o.ms, 200, 64, seed)
        lists = r.on_empty + r.on_partial + r.on_full
        ok = not (r.dup or r.lost or r.produced != r.consumed or r.bad_empty or r.bad_partial
                  or r.bad_full or lists != r.nbuf)
        return f"{r.produced} items", "" if ok else (
            f"workbufs: {r.dup} items twice, {r.lost} lost, produced {r.produced} "
            f"consumed {r.consumed}, bad buffers {r.bad_empty}/{r.bad_partial}/"
            f"{r.bad_full}, {lists} of {r.nbuf} buffers on a list")


class Getfull(HookScenario):
    name = "getfull"
    doc = "getfull barrier rounds: markers drain a growing tree of items and all leave"

    def run(self, rt: wh.HookRuntime, seed: int) -> tuple[str, str]:
        nproc = max(1, min(self.o.ms, self.o.procs))
        r = wh.getfull_round(rt, nproc, items=64, budget=20000, maxfan=3, seed=seed)
        ok = not (r.dup or r.lost or r.processed != r.generated or r.left_full or r.left_partial)
        return f"{r.processed} items by {nproc} markers", "" if ok else (
            f"getfull: {r.dup} items twice, {r.lost} lost, processed {r.processed} "
            f"of {r.generated}, left {r.left_full} full / {r.left_partial} partial")


class Sched(Scenario):
    name = "sched"
    doc = "the interleaving controller's scenarios under random and PCT schedules"

    def cycle(self, i: int) -> Cycle:
        seed = _cycle_seed(self.o.seed, i)
        scen = schedmod.scenarios()
        names = sorted(scen)
        c = Cycle()
        for k in range(20):
            sc = scen[names[self.rng.randrange(len(names))]]
            n_ms = max(sc.min_ms, min(sc.max_ms, self.o.ms))
            strategy = "pct" if k % 2 else "random"
            mutant = self.o.mutant if self.o.mutant in sc.mutants else None
            r = schedmod.run(sc.name, n_ms, strategy=strategy, seed=seed + k, mutant=mutant,
                             trace_cap=256)
            if r.failed:
                c.failure = f"{sc.name} ({strategy}): {r.outcome}: {r.message}; replay: " \
                            f"python -m pygcrt.sched replay '{r.schedule_string}'"
                c.events = {f"M{m}": [f"{e.site} {e.value}" for e in r.trace if e.m == m][-8:]
                            for m in range(r.ms_ran)}
                return c
        c.note = "20 controlled runs"
        return c


SCENARIOS: dict[str, type[Scenario]] = {
    s.name: s for s in (GcChurn, Goroutines, Churn, SharedChurn, LFStack, Workbufs, Getfull,
                        Sched)
}
DEFAULT_MIX = ("gc", "goroutines", "churn", "shared", "lfstack", "workbufs", "getfull", "sched")
