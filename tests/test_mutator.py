"""The mutator VM (mutator.c) and its Python builder (pygcrt.mutator).

Random valid programs run as goroutines over 2 Ms, with yields, parks and
wakes, syscalls, GC requests (stop-the-world + shrinkstack) and stack
growth; a reference interpreter in Python (below, independent of the C
code) computes what each goroutine must have done: objects allocated,
non-nil pointers loaded, stores, exit code and the largest stack under
Go's doubling policy.  Canaries are checked by the VM on every load.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygcrt import errors
from pygcrt import proc as P
from pygcrt._binding import ffi, lib
from pygcrt.mutator import Func, ProgramBuilder, start, wait
from pygcrt.runtime import Runtime

pytestmark = pytest.mark.timeout(120)

HDR, GUARD = 24, 512


@dataclass
class RefResult:
    insns: int = 0
    blocking: int = 0  # parks, syscalls and GC requests executed
    allocs: int = 0
    loads: int = 0
    stores: int = 0
    exitcode: int = 0
    maxstack: int = P.FIXED_STACK


def reference(b: ProgramBuilder) -> RefResult:
    """Run the linked program sequentially on Python objects."""
    code, entries = b.code()
    funcs = b.funcs
    r = RefResult()
    heap: list[list[Any]] = []  # object = [type index, field values...]
    frames: list[tuple[int, list[Any], int]] = []  # (func, slots, retpc)
    used = 0

    def push(fi: int, retpc: int) -> None:
        nonlocal used
        size = HDR + 8 * funcs[fi].nslots
        used += size
        while r.maxstack < used + GUARD:
            r.maxstack *= 2
        frames.append((fi, [None if s in funcs[fi].ptr_slots else 0 for s in range(funcs[fi].nslots)], retpc))

    def fielderror(obj: list[Any] | None, f: int) -> int:
        """The VM's exit code for a load or store of obj's field f (0: none)."""
        if obj is None:
            return lib.GCRT_EBADOBJ
        nf, ptrs = b.type_fields[obj[0]]
        return 0 if 1 <= f <= nf and f in ptrs else lib.GCRT_EKIND

    push(0, -1)
    pc = 0
    while True:
        op, a, bb, c = code[pc]
        slots = frames[-1][1]
        pc += 1
        r.insns += 1
        r.blocking += op in (lib.GCRT_VM_PARK, lib.GCRT_VM_SYSCALL, lib.GCRT_VM_GC)
        if op == lib.GCRT_VM_ALLOC:
            nf, _ = b.type_fields[bb]
            obj = [bb] + [None] * nf
            heap.append(obj)
            slots[a] = obj
            r.allocs += 1
        elif op in (lib.GCRT_VM_LOAD, lib.GCRT_VM_STORE):
            load = op == lib.GCRT_VM_LOAD
            obj, f = (slots[bb], c) if load else (slots[a], bb)
            r.exitcode = fielderror(obj, f)
            if r.exitcode:
                return r
            if load:
                slots[a] = obj[f]
                r.loads += obj[f] is not None
            else:
                obj[f] = slots[c]
                r.stores += 1
        elif op == lib.GCRT_VM_CLEAR:
            slots[a] = None
        elif op == lib.GCRT_VM_MOVE:
            slots[a] = slots[bb]
        elif op == lib.GCRT_VM_CALL:
            push(a, pc)
            pc = entries[a]
        elif op == lib.GCRT_VM_RET:
            fi, _, retpc = frames.pop()
            used -= HDR + 8 * funcs[fi].nslots
            if not frames:
                return r
            pc = retpc
        elif op == lib.GCRT_VM_SETI:
            slots[a] = bb
        elif op == lib.GCRT_VM_LOOP:
            slots[bb] -= 1
            if slots[bb] > 0:
                pc = a
        elif op == lib.GCRT_VM_EXIT:
            return r
        # NOP, YIELD, PARK, WAKE, SYSCALL, GC, CHECK: no effect on data


def gen_program(b: ProgramBuilder, rnd: random.Random, allow_park: bool) -> None:
    """A random valid program.  Functions call only later functions; loops
    count down a scalar slot.  Pointer slots 0..n-2 always hold nodes
    (allocated on entry, replaced only by nodes), so loads and stores
    through them succeed; slot n-1 is scratch (loaded values, leaves, nil).
    A rare bad field access ends the goroutine with GCRT_EKIND."""
    node = b.type(3, ptr_fields=[1, 2])
    leaf = b.type(1)
    nfuncs = rnd.randint(1, 5)
    shapes = [(rnd.randint(2, 6), rnd.randint(1, 3), rnd.choice([0, 0, 50, 400, 3000])) for _ in range(nfuncs)]
    fs = [b.func(nptr + nscal + big, list(range(nptr))) for nptr, nscal, big in shapes]
    for i, f in enumerate(fs):
        nptr, _, _ = shapes[i]
        scratch, ctr = nptr - 1, nptr
        for p in range(nptr - 1):
            f.alloc(p, node)
        looped = rnd.random() < 0.7
        if looped:
            f.seti(ctr, rnd.randint(1, 40)).label("top")
        for _ in range(rnd.randint(1, 14)):
            k = rnd.randrange(100)
            obj, other = rnd.randrange(nptr - 1), rnd.randrange(nptr - 1)
            anyp = rnd.randrange(nptr)
            if k < 18:
                f.alloc(obj, node) if rnd.random() < 0.6 else f.alloc(scratch, leaf)
            elif k < 38:
                f.load(scratch, obj, rnd.choice([1, 2]))
            elif k < 55:
                f.store(obj, rnd.choice([1, 2]), anyp)
            elif k < 59:
                f.clear(scratch)
            elif k < 64:
                f.move(obj, other)
            elif k < 70:
                f.check(anyp)
            elif k < 78 and i + 1 < nfuncs:
                f.call(rnd.randrange(i + 1, nfuncs))
            elif k < 83:
                f.yield_()
            elif k < 86:
                f.syscall(rnd.randint(0, 50))
            elif k < 89:
                f.gc()
            elif k < 93 and allow_park:
                f.wake(rnd.randint(0, 3))
                f.park()
            elif k == 99:
                f.load(scratch, obj, 3)  # a scalar field: ends with GCRT_EKIND
            else:
                f.nop()
        if looped:
            f.loop("top", ctr)
        if i == 0 and rnd.random() < 0.5:
            f.exit()
        else:
            f.ret()


class Waker:
    def __init__(self, rt: Runtime, gs: list[Any]) -> None:
        self.rt, self.gs, self.stop = rt, gs, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for g in self.gs:
                lib.gcrt_ready(self.rt.ptr(), g)
            time.sleep(0.0005)

    def __enter__(self) -> "Waker":
        self.t.start()
        return self

    def __exit__(self, *a: object) -> None:
        self.stop.set()
        self.t.join(10)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 4))
def test_random_programs_match_reference(seed: int, copies: int) -> None:
    rnd = random.Random(seed)
    with Runtime(nprocs=2, on_throw="record", arena_size=64 << 20) as rt:
        for _ in range(20):  # nested loops can multiply: keep runs short
            b = ProgramBuilder(rt)
            gen_program(b, rnd, allow_park=True)
            want = reference(b)
            if want.blocking <= 300 and want.insns <= 200000:
                break
        prog = b.build()
        gs = prog.go(copies)
        with Waker(rt, gs):
            start(rt, 2)
            wait(rt, 60000)
        assert not rt.failed, rt.last_throw
        for g in gs:
            got = prog.stats(g)
            assert got.done
            assert (got.allocs, got.loads, got.stores, got.exitcode) == (
                want.allocs,
                want.loads,
                want.stores,
                want.exitcode,
            ), f"seed={seed}"
            assert got.maxstack == want.maxstack, f"seed={seed}"


def deep_program(b: ProgramBuilder, depth: int, nslots: int, rounds: int) -> None:
    node = b.type(2, ptr_fields=[1])
    main = b.func(3, [0, 1])
    fs = [b.func(nslots, [0, 1]) for _ in range(depth)]
    main.seti(2, rounds).label("top").alloc(0, node).call(fs[0]).check(0).gc().yield_()
    main.loop("top", 2).exit()
    for i, f in enumerate(fs):
        # Keep a heap object in the frame across the call: its slot moves
        # with every copy and its canary is checked after.
        f.alloc(0, node).alloc(1, node).store(0, 1, 1)
        if i + 1 < depth:
            f.call(fs[i + 1])
        f.load(1, 0, 1).check(1).ret()


def test_deep_calls_grow_past_1mb_and_gc_shrinks_peers() -> None:
    with Runtime(nprocs=2, on_throw="record", arena_size=256 << 20) as rt:
        b = ProgramBuilder(rt)
        deep_program(b, depth=10, nslots=16000, rounds=3)  # 10 x 128 KB frames
        want = reference(b)
        prog = b.build()
        gs = prog.go(4)
        start(rt, 2)
        wait(rt, 60000)
        assert not rt.failed, rt.last_throw
        for g in gs:
            s = prog.stats(g)
            assert s.exitcode == 0 and s.maxstack >= 1 << 20
            assert (s.allocs, s.loads, s.stores, s.maxstack) == (
                want.allocs,
                want.loads,
                want.stores,
                want.maxstack,
            )


def test_stack_limit_ends_only_that_goroutine() -> None:
    with Runtime(nprocs=2, on_throw="record") as rt:
        assert lib.gcrt_stack_limit(rt.ptr(), 64 << 10) == 0
        b = ProgramBuilder(rt)
        deep_program(b, depth=6, nslots=2000, rounds=1)  # 6 x 16 KB frames > 64 KB
        deep = b.build()
        b2 = ProgramBuilder(rt)
        deep_program(b2, depth=2, nslots=100, rounds=2)
        shallow = b2.build()
        g1 = deep.go(1)[0]
        g2 = shallow.go(1)[0]
        start(rt, 2)
        wait(rt, 30000)
        assert deep.stats(g1).exitcode == lib.GCRT_ESIZE
        assert shallow.stats(g2).exitcode == 0
        assert not rt.failed


def test_stoptheworld_while_programs_run() -> None:
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    with Runtime(nprocs=2, on_throw="record", arena_size=64 << 20) as rt:
        b = ProgramBuilder(rt)
        node = b.type(2, ptr_fields=[1])
        main = b.func(4, [0, 1])
        main.seti(2, 3000).label("top").alloc(1, node).store(1, 1, 0).move(0, 1)
        main.load(1, 0, 1).syscall(0).loop("top", 2).exit()
        want = reference(b)
        prog = b.build()
        gs = prog.go(6)
        start(rt, 3)
        nr, nn = ffi.new("int *"), ffi.new("int *")
        for _ in range(20):
            time.sleep(rnd.uniform(0.0005, 0.003))
            assert lib.gcrt_stoptheworld(rt.ptr()) == 0
            assert lib.gcrt_test_sched_snapshot(rt.ptr(), nr, nn) == 0
            assert (nr[0], nn[0]) == (0, 0), f"seed={seed}"
            assert lib.gcrt_starttheworld(rt.ptr()) == 0
        wait(rt, 60000)
        for g in gs:
            s = prog.stats(g)
            assert (s.exitcode, s.allocs, s.stores, s.loads) == (0, 3000, 3000, want.loads), f"seed={seed}"
        assert want.loads == 2999  # every load but the first finds a node


def gstatus(rt: Runtime, g: Any) -> int:
    out = ffi.new("uint32_t *")
    assert lib.gcrt_test_g_status(rt.ptr(), g, out) == 0
    return int(out[0])


def test_broken_canary_throws() -> None:
    with Runtime(nprocs=1, on_throw="record") as rt:
        b = ProgramBuilder(rt)
        t = b.type(1)
        b.func(2, [0]).alloc(0, t).park().check(0).exit()
        prog = b.build()
        g = prog.go(1)[0]
        start(rt, 1)
        deadline = time.time() + 10
        while gstatus(rt, g) != P.GWAITING and time.time() < deadline:
            time.sleep(0.001)
        slots, desc = ffi.new("uint64_t *"), ffi.new("uint32_t *")
        assert lib.gcrt_test_stack_frame(rt.ptr(), g, 0, slots, desc) == 0
        obj = ffi.cast("uint64_t *", slots[0])[0]
        assert obj != 0
        assert lib.gcrt_write_word(rt.ptr(), ffi.cast("void *", obj), 0, 0) == 0  # break the canary
        # The G is readied while the main thread already waits, so it throws
        # during gcrt_wait (the order that used to time out with ESTATE
        # instead of reporting the failure).  The woken G may throw before
        # gcrt_ready itself returns: then the ready call reports it.
        readyrc: list[int] = []
        waker = threading.Timer(0.05, lambda: readyrc.append(lib.gcrt_ready(rt.ptr(), g)))
        waker.start()
        t0 = time.time()
        with pytest.raises(errors.FatalError) as e:
            wait(rt, 10000)
        waker.join(10)
        assert readyrc and readyrc[0] in (0, lib.GCRT_EFAILED)
        assert time.time() - t0 < 5, "gcrt_wait ran to its timeout instead of reporting the throw"
        assert "mutator: canary broken" in e.value.report


def test_bad_programs() -> None:
    with Runtime(on_throw="record") as rt, Runtime(on_throw="record") as other:

        def build(make: Any) -> Optional[type]:
            b = ProgramBuilder(rt)
            b.type(2, ptr_fields=[1])
            make(b)
            try:
                b.build()
            except errors.GcrtError as e:
                return type(e)
            return None

        assert build(lambda b: b.func(2, [0]).raw(99).ret()) is errors.InvalidArgument  # opcode
        assert build(lambda b: b.func(2, [0]).alloc(5, 0).ret()) is errors.IndexOutOfRange  # slot
        assert build(lambda b: b.func(2, [0]).alloc(1, 0).ret()) is errors.KindMismatch  # scalar slot
        assert build(lambda b: b.func(2, [0]).seti(0, 1).ret()) is errors.KindMismatch  # pointer slot
        assert build(lambda b: b.func(2, [0]).alloc(0, 7).ret()) is errors.InvalidArgument  # type
        assert build(lambda b: b.func(2, [0]).call(3).ret()) is errors.InvalidArgument  # function
        assert build(lambda b: b.func(2, [0]).nop()) is errors.InvalidArgument  # falls off the end

        def forward_loop(b: ProgramBuilder) -> None:
            f = b.func(2, [0])
            f.seti(1, 3).loop("end", 1).label("end").ret()

        assert build(forward_loop) is errors.InvalidArgument

        def canary_ptr(b: ProgramBuilder) -> None:
            b.types.append(rt.type(16, [1, 0]))  # word 0 a pointer: no room for the canary
            b.type_fields.append((1, frozenset()))
            b.func(1, [0]).alloc(0, 1).ret()

        assert build(canary_ptr) is errors.InvalidArgument
        b = ProgramBuilder(other)
        b.func(1, [0]).ret()
        foreign = b.build()
        gs = ffi.new("gcrt_g *[]", 1)
        assert lib.gcrt_vm_go(rt.ptr(), foreign.handle, 1, gs) == lib.GCRT_EINVAL
        # Still usable.
        b = ProgramBuilder(rt)
        n = b.type(2, ptr_fields=[1])
        b.func(2, [0]).alloc(0, n).ret()
        prog = b.build()
        g = prog.go(1)[0]
        with pytest.raises(errors.WrongState):
            prog.stats(g)  # not finished: no Ms yet
        start(rt, 1)
        wait(rt, 10000)
        assert prog.stats(g).allocs == 1
        assert not rt.failed


def test_programs_under_chaos() -> None:
    """Random yields and sleeps at every schedule point (seeded), with GC
    requests from several goroutines and a host stopping the world."""
    seed = random.randrange(1 << 30)
    with Runtime(nprocs=2, on_throw="record", arena_size=128 << 20) as rt:
        assert lib.gcrt_test_sched_mode(rt.ptr(), 2, seed, 30) == 0
        b = ProgramBuilder(rt)
        deep_program(b, depth=4, nslots=1000, rounds=4)
        want = reference(b)
        prog = b.build()
        gs = prog.go(5)
        start(rt, 3)
        for _ in range(5):
            time.sleep(0.002)
            assert lib.gcrt_stoptheworld(rt.ptr()) == 0
            assert lib.gcrt_starttheworld(rt.ptr()) == 0
        wait(rt, 60000)
        assert not rt.failed, rt.last_throw
        for g in gs:
            s = prog.stats(g)
            assert (s.exitcode, s.allocs, s.loads, s.stores, s.maxstack) == (
                0,
                want.allocs,
                want.loads,
                want.stores,
                want.maxstack,
            ), f"seed={seed}"


@pytest.mark.parametrize("stw", [False, True])
def test_gc_scans_parked_stacks_through_stopg(stw: bool) -> None:
    """Each parked G's stack is scanned by stopg -> gcphasework ->
    scanstack: once in the concurrent scan (GCscan) and once in the
    stopped-world mark, or once in the plain STW cycle.  The objects held
    only by those stacks survive (checkmark verifies the mark; the Gs'
    canary checks after the collection are the independent oracle)."""
    n = 4
    with Runtime(nprocs=1, on_throw="record") as rt:
        rt.gc_options(checkmark=True, stw=stw)
        b = ProgramBuilder(rt)
        t = b.type(1)
        b.func(2, [0]).alloc(0, t).park().check(0).exit()
        gs = b.build().go(n)
        start(rt, 1)
        deadline = time.time() + 10
        while any(gstatus(rt, g) != P.GWAITING for g in gs) and time.time() < deadline:
            time.sleep(0.001)
        assert all(gstatus(rt, g) == P.GWAITING for g in gs)
        assert lib.gcrt_test_sched_mode(rt.ptr(), 1, 0, 0) == 0  # count point hits
        rt.gc()
        rt.gc()
        hits = ffi.new("uint64_t *")
        assert lib.gcrt_test_sched_hits(rt.ptr(), b"scanstack.phase", hits) == 0
        assert hits[0] == 2 * n * (1 if stw else 2)
        assert lib.gcrt_test_sched_mode(rt.ptr(), 0, 0, 0) == 0
        for g in gs:
            assert lib.gcrt_ready(rt.ptr(), g) == 0
        wait(rt, 10000)
        assert not rt.failed, rt.last_throw


def test_gc_op_runs_a_collection() -> None:
    """The GC opcode collects (gcrequest -> the collector, from a G that
    gives up its P): numgc grows by one per GC op, and the object each G
    holds on its stack survives (its canary is checked after every
    collection, with checkmark on) while the Gs allocate and drop garbage."""
    n, rounds = 3, 4
    with Runtime(nprocs=2, on_throw="record") as rt:
        rt.gc_options(checkmark=True)
        b = ProgramBuilder(rt)
        t = b.type(4)
        f = b.func(3, [0, 1])
        f.alloc(0, t).seti(2, rounds).label("top").alloc(1, t).clear(1).gc().check(0)
        f.loop("top", 2).exit()
        gs = b.build().go(n)
        before = rt.stats().numgc
        start(rt, 2)
        wait(rt, 30000)
        assert not rt.failed, rt.last_throw
        assert rt.stats().numgc - before == n * rounds
        for g in gs:
            assert gstatus(rt, g) == P.GDEAD


def test_goroutine_allocation_triggers_paced_collections() -> None:
    """Goroutines allocating garbage on their Ps (default pacing) collect
    when a collection is due: each allocating G gives up its P for the
    stop.  numgc grows and the heap stays far below the 96 MB allocated;
    the object each G keeps in slot 0 keeps its canary."""
    n, iters = 2, 6000
    with Runtime(nprocs=2, on_throw="record") as rt:
        b = ProgramBuilder(rt)
        keep, junk = b.type(1), b.type(1024)  # junk: 8 KB
        f = b.func(3, [0, 1])
        f.alloc(0, keep).seti(2, iters).label("top").alloc(1, junk).clear(1).check(0)
        f.loop("top", 2).exit()
        b.build().go(n)
        start(rt, 2)
        wait(rt, 60000)
        assert not rt.failed, rt.last_throw
        st = rt.stats()
        assert st.numgc >= 3, st.numgc
        assert st.total_alloc >= n * iters * 8192
        assert st.heap_sys < 48 << 20, st.heap_sys
