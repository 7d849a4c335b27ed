"""Goroutine stacks (stack.c): growth, shrinking, pointer adjustment, poison.

A bare G's stack is driven through frame pushes and pops while a Python
model keeps what every frame slot must hold: scalars (never adjusted, even
when they look like stack addresses), heap pointers (never moved), and
pointers into the G's own stack, kept as (frame, slot) references so the
expected address is recomputed from the model's own layout after every
copy: frame i starts at hi - (sizes of frames 0..i), header of 3 words,
then its slots.  The expected stack size follows Go's policy (double until
the frame fits above lo + StackGuard; halve when less than a quarter is
used), and a stack replaced by one copy must be all poison (0xfc).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygcrt import proc as P
from pygcrt._binding import ffi, lib
from pygcrt.runtime import Obj, Runtime

pytestmark = pytest.mark.timeout(120)

HDR = 24
GUARD = 512
MB = 1 << 20


@dataclass(frozen=True)
class StackRef:
    frame: int
    slot: int


Value = Union[int, Obj, StackRef, None]


@dataclass
class Frame:
    desc: int
    nslots: int
    ptrs: frozenset[int]
    values: dict[int, Value] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return HDR + 8 * self.nslots


class Model:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        out = ffi.new("gcrt_g **")
        assert lib.gcrt_test_g_new(rt.ptr(), out) == 0
        self.g = out[0]
        self.set_status(P.GRUNNING)
        self.frames: list[Frame] = []
        self.size = P.FIXED_STACK
        self.ctxt: Optional[StackRef] = None
        self.param: Value = None
        self.heap_t = rt.type(16, [1, 0])
        self.copies = 0

    def set_status(self, s: int) -> None:
        assert lib.gcrt_test_g_setstatus(self.rt.ptr(), self.g, s) == 0

    def info(self) -> Any:
        out = ffi.new("gcrt_test_stackinfo *")
        assert lib.gcrt_test_stack_info(self.rt.ptr(), self.g, out) == 0
        return out

    def used(self) -> int:
        return sum(f.size for f in self.frames)

    def slot_addr(self, hi: int, ref: StackRef) -> int:
        top = hi - sum(f.size for f in self.frames[: ref.frame + 1])
        return top + HDR + 8 * ref.slot

    def expect(self, hi: int, v: Value) -> int:
        if v is None:
            return 0
        if isinstance(v, Obj):
            return v.addr
        if isinstance(v, StackRef):
            return self.slot_addr(hi, v)
        return v

    def write(self, fi: int, slot: int, v: Value) -> None:
        hi = self.info().hi
        addr = self.slot_addr(hi, StackRef(fi, slot))
        ffi.cast("uint64_t *", addr)[0] = self.expect(hi, v)
        self.frames[fi].values[slot] = v

    def new_obj(self, tag: int) -> Obj:
        o = self.rt.alloc(self.heap_t)
        o[1] = tag
        return o

    def tracked_copy(self, op: Any) -> Any:
        """Run op; if it moved the stack by exactly one copy, the old
        stack must be poisoned.  Returns op's result."""
        before = self.info()
        lo, hi = before.lo, before.hi
        rc = op()
        after = self.info()
        if after.lo != lo:
            self.copies += 1
            newsize, oldsize = after.hi - after.lo, hi - lo
            if newsize in (2 * oldsize, oldsize // 2):
                old = bytes(ffi.buffer(ffi.cast("char *", lo + 8), oldsize - 8))
                assert old == bytes([P.STACK_POISON]) * (oldsize - 8), "old stack not poisoned"
        return rc

    def push(self, desc: int, nslots: int, ptrs: frozenset[int], maxstack: int) -> int:
        slots = ffi.new("uint64_t *")
        rc = self.tracked_copy(lambda: lib.gcrt_test_stack_push(self.rt.ptr(), self.g, desc, slots))
        need = HDR + 8 * nslots
        size = self.size
        while size - self.used() < need + GUARD:
            size *= 2
        if size > maxstack:
            # Refused: nothing pushed; the stack may have grown up to the limit.
            assert rc == lib.GCRT_ESIZE
            while self.size * 2 <= maxstack and self.size - self.used() < need + GUARD:
                self.size *= 2
            return rc
        assert rc == 0, rc
        self.size = size
        self.frames.append(Frame(desc, nslots, ptrs))
        assert slots[0] == self.slot_addr(self.info().hi, StackRef(len(self.frames) - 1, 0))
        return rc

    def pop(self) -> None:
        assert lib.gcrt_test_stack_pop(self.rt.ptr(), self.g) == 0
        gone = len(self.frames) - 1
        self.frames.pop()
        if self.ctxt is not None and self.ctxt.frame == gone:
            self.ctxt = None
        if isinstance(self.param, StackRef) and self.param.frame == gone:
            self.param = None
        self.sync_ctxt()

    def sync_ctxt(self) -> None:
        hi = self.info().hi
        assert (
            lib.gcrt_test_stack_setctxt(
                self.rt.ptr(), self.g, self.expect(hi, self.ctxt), self.expect(hi, self.param)
            )
            == 0
        )

    def shrink(self) -> None:
        r = self.rt.ptr()
        assert lib.gcrt_test_stack_shrink(r, self.g) == lib.GCRT_ESTATE  # world running
        assert lib.gcrt_stoptheworld(r) == 0
        self.set_status(P.GWAITING)
        assert self.tracked_copy(lambda: lib.gcrt_test_stack_shrink(r, self.g)) == 0
        self.set_status(P.GRUNNING)
        assert lib.gcrt_starttheworld(r) == 0
        if self.size // 2 >= P.FIXED_STACK and self.used() < self.size // 4:
            self.size //= 2

    def check(self) -> None:
        inf = self.info()
        assert inf.hi - inf.lo == self.size, (inf.hi - inf.lo, self.size)
        assert inf.nframes == len(self.frames)
        assert inf.sp == inf.hi - self.used()
        assert inf.ctxt == self.expect(inf.hi, self.ctxt)
        assert inf.param == self.expect(inf.hi, self.param)
        top = inf.hi
        for i, f in enumerate(self.frames):
            top -= f.size
            hdr = ffi.cast("uint64_t *", top)
            assert hdr[0] == f.desc
            caller = 0 if i == 0 else top + f.size
            assert hdr[2] == caller, "callerfp not adjusted"
            want = [0] * f.nslots
            for k, v in f.values.items():
                want[k] = self.expect(inf.hi, v)
            got = list(ffi.unpack(ffi.cast("uint64_t *", top + HDR), f.nslots))
            assert got == want, f"frame {i}"
            for v in f.values.values():
                if isinstance(v, Obj):
                    assert v[1] == v.addr & 0xFFFF, "heap object changed"


def register(rt: Runtime, nslots: int, ptrs: frozenset[int]) -> int:
    nbits = max(ptrs) + 1 if ptrs else 0
    bm = ffi.new("uint8_t[]", max(1, (nbits + 7) // 8))
    for i in ptrs:
        bm[i // 8] |= 1 << (i % 8)
    out = ffi.new("uint32_t *")
    assert lib.gcrt_frame_desc(rt.ptr(), nslots, bm, nbits, out) == 0
    return int(out[0])


def fill(m: Model, rnd: random.Random, fi: int, nwrites: int) -> None:
    f = m.frames[fi]
    for _ in range(min(nwrites, f.nslots)):
        k = rnd.randrange(f.nslots)
        if k in f.ptrs:
            kind = rnd.randrange(4)
            if kind == 0:
                v: Value = None
            elif kind == 1:
                v = m.new_obj(0)
                v[1] = v.addr & 0xFFFF
            else:
                j = rnd.randrange(fi + 1)  # same frame or a caller
                if m.frames[j].nslots == 0:
                    continue
                v = StackRef(j, rnd.randrange(m.frames[j].nslots))
        else:
            # A scalar, sometimes one that looks like a stack address.
            if rnd.random() < 0.5 and m.frames[fi].nslots:
                v = m.slot_addr(m.info().hi, StackRef(fi, rnd.randrange(f.nslots)))
            else:
                v = rnd.getrandbits(64)
        m.write(fi, k, v)


def random_refs(m: Model, rnd: random.Random) -> None:
    live = [(i, f) for i, f in enumerate(m.frames) if f.nslots]
    if not live:
        return
    i, f = rnd.choice(live)
    m.ctxt = StackRef(i, rnd.randrange(f.nslots))
    i, f = rnd.choice(live)
    m.param = StackRef(i, rnd.randrange(f.nslots))
    m.sync_ctxt()


def make_descs(rt: Runtime, rnd: random.Random, sizes: list[int]) -> list[tuple[int, int, frozenset[int]]]:
    out = []
    for n in sizes:
        ptrs = frozenset(i for i in range(n) if rnd.random() < 0.5)
        out.append((register(rt, n, ptrs), n, ptrs))
    return out


def test_grow_to_1mb_and_shrink_back() -> None:
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    with Runtime(nprocs=1, on_throw="record", arena_size=64 * MB) as rt:
        m = Model(rt)
        descs = make_descs(rt, rnd, [0, 3, 64, 900, 4000])
        while m.size < MB or m.used() < MB // 2:
            d, n, ptrs = rnd.choice(descs)
            m.push(d, n, ptrs, 1 << 30)
            fill(m, rnd, len(m.frames) - 1, 12)
            if rnd.random() < 0.1:
                random_refs(m, rnd)
            m.check()
        assert m.size >= MB, f"seed={seed}"
        peak = m.size
        while m.frames:
            m.pop()
            if rnd.random() < 0.2:
                m.shrink()
                m.check()
        while m.size > P.FIXED_STACK:
            m.shrink()
            m.check()
        assert m.copies >= 9 + 1, f"seed={seed}: {m.copies} copies from 2 KB to {peak}"
        assert not rt.failed, rt.last_throw


ops = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(0, 5), st.integers(0, 10)),
        st.tuples(st.just("pop"), st.just(0), st.just(0)),
        st.tuples(st.just("shrink"), st.just(0), st.just(0)),
        st.tuples(st.just("refs"), st.just(0), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(ops, st.integers(0, 2**32))
def test_random_frames_survive_every_copy(program: list[tuple[str, int, int]], seed: int) -> None:
    rnd = random.Random(seed)
    with Runtime(nprocs=1, on_throw="record", arena_size=32 * MB) as rt:
        m = Model(rt)
        descs = make_descs(rt, rnd, [0, 1, 7, 40, 300, 1500])
        for what, a, b in program:
            if what == "push":
                d, n, ptrs = descs[a]
                m.push(d, n, ptrs, 1 << 30)
                fill(m, rnd, len(m.frames) - 1, b)
            elif what == "pop" and m.frames:
                m.pop()
            elif what == "shrink":
                m.shrink()
            elif what == "refs":
                random_refs(m, rnd)
            m.check()
        assert not rt.failed, rt.last_throw


def test_max_stack_is_a_clear_error() -> None:
    with Runtime(nprocs=1, on_throw="record") as rt:
        assert lib.gcrt_stack_limit(rt.ptr(), 64 << 10) == 0
        rnd = random.Random(1)
        m = Model(rt)
        descs = make_descs(rt, rnd, [500])
        d, n, ptrs = descs[0]
        refused = 0
        for _ in range(40):
            if m.push(d, n, ptrs, 64 << 10) == lib.GCRT_ESIZE:
                refused += 1
            else:
                fill(m, rnd, len(m.frames) - 1, 6)
            m.check()
        assert refused > 0 and m.size == 64 << 10
        m.pop()
        m.check()
        assert not rt.failed


def test_frame_descriptor_bad_input() -> None:
    with Runtime(on_throw="record") as rt:
        r = rt.ptr()
        out = ffi.new("uint32_t *")
        bm = ffi.new("uint8_t[]", [0xFF, 0xFF])
        assert lib.gcrt_frame_desc(r, 4, bm, 5, out) == lib.GCRT_ERANGE  # bitmap longer than frame
        assert lib.gcrt_frame_desc(r, 4, ffi.NULL, 2, out) == lib.GCRT_EINVAL
        assert lib.gcrt_frame_desc(r, lib.GCRT_MAX_FRAME_SLOTS + 1, bm, 0, out) == lib.GCRT_ESIZE
        assert lib.gcrt_frame_desc(r, 4, bm, 4, ffi.NULL) == lib.GCRT_EINVAL
        assert lib.gcrt_stack_limit(r, 1) == lib.GCRT_ESIZE
        m = Model(rt)
        slots = ffi.new("uint64_t *")
        assert lib.gcrt_test_stack_push(r, m.g, 12345, slots) == lib.GCRT_EINVAL  # no such descriptor
        assert lib.gcrt_test_stack_pop(r, m.g) == lib.GCRT_ESTATE  # no frame
        assert lib.gcrt_stoptheworld(r) == 0
        assert lib.gcrt_test_stack_shrink(r, m.g) == lib.GCRT_ESTATE  # Grunning
        assert lib.gcrt_starttheworld(r) == 0
        # Still usable.
        assert lib.gcrt_frame_desc(r, 4, bm, 4, out) == 0
        assert lib.gcrt_test_stack_push(r, m.g, out[0], slots) == 0
        assert not rt.failed


def copystack_vs_ready(mutant: bool, trials: int, stop_at_first: bool) -> int:
    """Shrink a parked bare G's stack (the world stopped) while another
    thread readies it (Gwaiting -> Grunnable, as an asynchronous wakeup
    would), both released together, with chaos at every schedule point to
    widen the windows.  Returns how many shrinks got stuck: the copier
    spinning in casgstatus(Gwaiting -> Gcopystack) while the G is
    Grunnable for good.  A stuck copier is freed by putting the status
    back, so the test can go on."""
    seed = random.randrange(1 << 30)
    with Runtime(nprocs=1, on_throw="record") as rt:
        r = rt.ptr()
        if mutant:
            assert lib.gcrt_test_set_mutant(r, b"copy_read_then_cas") == 0
        m = Model(rt)
        d = register(rt, 1500, frozenset([0, 1]))
        assert lib.gcrt_test_sched_mode(r, 2, seed, 1000) == 0
        stuck = 0
        slots, res, st = ffi.new("uint64_t *"), ffi.new("int *"), ffi.new("uint32_t *")
        for _ in range(trials):
            m.set_status(P.GRUNNING)
            assert lib.gcrt_test_stack_push(r, m.g, d, slots) == 0  # grow to 16 KB
            assert lib.gcrt_test_stack_pop(r, m.g) == 0  # now shrinkable
            m.set_status(P.GWAITING)
            assert lib.gcrt_stoptheworld(r) == 0
            go = threading.Barrier(2)
            shrunk: list[int] = []

            def copier() -> None:
                go.wait()
                shrunk.append(lib.gcrt_test_stack_shrink(r, m.g))

            def waker() -> None:
                go.wait()
                assert lib.gcrt_test_g_op(r, m.g, 0, P.GWAITING, P.GRUNNABLE, res) == 0

            tc, tw = threading.Thread(target=copier), threading.Thread(target=waker)
            tc.start()
            tw.start()
            tc.join(1.0)
            if tc.is_alive():
                stuck += 1
                assert lib.gcrt_test_g_status(r, m.g, st) == 0
                assert st[0] == P.GRUNNABLE, f"seed={seed}"
                assert lib.gcrt_test_g_setstatus(r, m.g, P.GWAITING) == 0  # free it
                tc.join(20)
            tw.join(20)
            assert shrunk == [0], f"seed={seed}"
            assert lib.gcrt_starttheworld(r) == 0
            if stuck and stop_at_first:
                break
        assert not rt.failed, rt.last_throw
        return stuck


def test_casgcopystack_survives_async_ready() -> None:
    assert copystack_vs_ready(mutant=False, trials=80, stop_at_first=False) == 0


def test_mutant_copy_read_then_cas_livelocks() -> None:
    """The seed's read-then-CAS form: a ready between the read and the CAS
    leaves the copier spinning forever (caught here as stuck)."""
    assert copystack_vs_ready(mutant=True, trials=400, stop_at_first=True) > 0
