"""lfstack: Go's TestLFStack and TestLFStackStress, the packing check, bad nodes.

Every scenario runs in C on runtime threads (pygcrt.workhooks); the checks
here are independent oracles: node identities and data sums seen when the
stacks are drained afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygcrt import errors
from pygcrt import workhooks as wh
from pygcrt._binding import ffi, lib

CNT_BITS = 19
ADDR_BITS = 48


@pytest.fixture
def rt() -> Iterator[wh.HookRuntime]:
    with wh.HookRuntime(nprocs=2) as r:
        yield r


def test_push_pop_order_single_thread(rt: wh.HookRuntime) -> None:
    head = wh.new_head()
    a, b = wh.lfnodes(rt, 2)
    wh.lfstack_push(rt, head, a)
    wh.lfstack_push(rt, head, b)
    assert head[0] != 0
    assert wh.lfstack_pop(rt, head) == b
    assert wh.lfstack_pop(rt, head) == a
    assert wh.lfstack_pop(rt, head) is None
    assert head[0] == 0


def test_many_nodes_come_back_in_lifo_order(rt: wh.HookRuntime) -> None:
    head = wh.new_head()
    nodes = wh.lfnodes(rt, 300)
    for n in nodes:
        wh.lfstack_push(rt, head, n)
    popped = [wh.lfstack_pop(rt, head) for _ in nodes]
    assert popped == nodes[::-1]
    assert wh.lfstack_pop(rt, head) is None


def test_head_word_carries_the_push_counter(rt: wh.HookRuntime) -> None:
    head = wh.new_head()
    (a,) = wh.lfnodes(rt, 1)
    words = []
    for _ in range(3):
        wh.lfstack_push(rt, head, a)
        words.append(int(head[0]))
        assert wh.lfstack_pop(rt, head) == a
    # Same node, three different head words: a stale pop's CAS must fail.
    assert len(set(words)) == 3
    assert [w & ((1 << CNT_BITS) - 1) for w in words] == [1, 2, 3]
    assert {(w >> CNT_BITS) << 3 for w in words} == {a}


def test_aba_mutant_drops_the_counter(rt: wh.HookRuntime) -> None:
    wh.set_mutant(rt, "lf_aba")
    head = wh.new_head()
    (a,) = wh.lfnodes(rt, 1)
    words = set()
    for _ in range(3):
        wh.lfstack_push(rt, head, a)
        words.add(int(head[0]))
        assert wh.lfstack_pop(rt, head) == a
    assert len(words) == 1


@given(
    node=st.integers(1, (1 << (ADDR_BITS - 3)) - 1).map(lambda x: x * 8),
    cnt=st.integers(0, (1 << 64) - 1),
)
def test_pack_roundtrip_for_aligned_48bit_addresses(node: int, cnt: int) -> None:
    packed, unpacked = wh.lfstack_pack(node, cnt)
    assert unpacked == node
    assert packed & ((1 << CNT_BITS) - 1) == cnt % (1 << CNT_BITS)


@given(
    node=st.one_of(
        st.integers(1, (1 << ADDR_BITS) - 1).filter(lambda x: x % 8 != 0),
        st.integers(1 << ADDR_BITS, (1 << 64) - 1),
    )
)
def test_pack_cannot_represent_misaligned_or_wide_addresses(node: int) -> None:
    _, unpacked = wh.lfstack_pack(node, 0)
    assert unpacked != node


@pytest.mark.parametrize("seed", [1, 2, 3, 0xDEADBEEF])
def test_stress_conserves_nodes_and_data(rt: wh.HookRuntime, seed: int) -> None:
    # Go's TestLFStackStress shape: 4 x GOMAXPROCS threads, 100 nodes, 2 stacks.
    nnodes, nthreads, rounds = 100, 8, 10000
    r = wh.lfstack_stress(rt, nthreads, 2, nnodes, rounds, seed)
    msg = f"seed={seed:#x}"
    assert r.seen == [1] * nnodes, msg
    assert r.found == nnodes, msg
    assert r.sum_after == r.sum_before, msg
    assert r.owned_twice == 0, msg
    assert r.pops == r.pushes, msg
    assert [p + e for p, e in zip(r.pops, r.emptypops, strict=True)] == [rounds] * nthreads, msg


@pytest.mark.parametrize("seed", [5, 6])
def test_stress_under_chaos_schedule(rt: wh.HookRuntime, seed: int) -> None:
    # Random yields and spins at every schedule point widen the race windows.
    check_rc = lib.gcrt_test_sched_mode(rt.ptr, 2, seed, 100)
    assert check_rc == 0
    nnodes = 40
    r = wh.lfstack_stress(rt, 4, 3, nnodes, 3000, seed)
    msg = f"seed={seed:#x}"
    assert r.seen == [1] * nnodes, msg
    assert r.sum_after == r.sum_before, msg
    assert r.owned_twice == 0, msg


def test_schedule_points_are_named(rt: wh.HookRuntime) -> None:
    assert lib.gcrt_test_sched_mode(rt.ptr, 1, 0, 0) == 0
    head = wh.new_head()
    (a,) = wh.lfnodes(rt, 1)
    wh.lfstack_push(rt, head, a)
    wh.lfstack_pop(rt, head)
    out = ffi.new("uint64_t *")
    for name in ["lfstack.push.load", "lfstack.push.cas", "lfstack.pop.load", "lfstack.pop.cas"]:
        assert lib.gcrt_test_sched_hits(rt.ptr, name.encode(), out) == 0
        assert out[0] >= 1, name


# ---- bad input ----


def _assert_failed_with(rt: wh.HookRuntime, message: str) -> None:
    assert rt.failed
    assert rt.last_throw.startswith(f"fatal error: {message}")
    with pytest.raises(errors.FatalError):
        wh.lfnodes(rt, 1)


@pytest.mark.parametrize("offset", [1, 2, 4, 7])
def test_misaligned_node_fails_the_packing_check(rt: wh.HookRuntime, offset: int) -> None:
    # Each of the 3 low bits alone (and all of them) lies outside what the
    # packing keeps, so the one-mask check in push must refuse it.
    (a,) = wh.lfnodes(rt, 1)
    head = wh.new_head()
    with pytest.raises(errors.FatalError, match="lfstack.push invalid packing"):
        wh.lfstack_push(rt, head, a + offset)
    _assert_failed_with(rt, "lfstack.push invalid packing")
    assert head[0] == 0


@pytest.mark.parametrize("addr", [0x1000, 1 << 50, 0])
def test_node_outside_persistent_memory_throws(rt: wh.HookRuntime, addr: int) -> None:
    wh.lfnodes(rt, 1)
    with pytest.raises(errors.FatalError, match="bad lfnode address"):
        wh.lfstack_push(rt, wh.new_head(), addr)
    _assert_failed_with(rt, "bad lfnode address")


def test_address_inside_a_node_throws(rt: wh.HookRuntime) -> None:
    (a,) = wh.lfnodes(rt, 1)
    with pytest.raises(errors.FatalError, match="not a node boundary"):
        wh.lfstack_push(rt, wh.new_head(), a + 8)


@pytest.mark.parametrize(
    "args",
    [
        (0, 2, 100, 10),
        (65, 2, 100, 10),
        (4, 0, 100, 10),
        (4, 17, 100, 10),
        (4, 2, 0, 10),
        (4, 2, 4097, 10),
        (4, 2, 100, 10**8),
    ],
)
def test_stress_arguments_out_of_range(rt: wh.HookRuntime, args: tuple[int, int, int, int]) -> None:
    nthreads, nstacks, nnodes, rounds = args
    with pytest.raises(errors.IndexOutOfRange):
        wh.lfstack_stress(rt, nthreads, nstacks, nnodes, rounds, seed=1)
    assert not rt.failed
    r = wh.lfstack_stress(rt, 2, 2, 10, 100, seed=1)
    assert r.seen == [1] * 10


def test_bad_hook_arguments_leave_the_runtime_usable(rt: wh.HookRuntime) -> None:
    with pytest.raises(errors.IndexOutOfRange):
        wh.lfnodes(rt, 0)
    with pytest.raises(errors.IndexOutOfRange):
        wh.lfnodes(rt, lib.GCRT_TEST_LFNODES + 1)
    (a,) = wh.lfnodes(rt, 1)
    with pytest.raises(errors.InvalidArgument):
        wh.lfstack_push(rt, ffi.NULL, a)
    misaligned = ffi.cast("uint64_t *", int(ffi.cast("uintptr_t", wh.new_head())) + 4)
    with pytest.raises(errors.InvalidArgument):
        wh.lfstack_pop(rt, misaligned)
    with pytest.raises(errors.InvalidArgument):
        wh.set_mutant(rt, "no_such_mutant")
    assert not rt.failed
    head = wh.new_head()
    wh.lfstack_push(rt, head, a)
    assert wh.lfstack_pop(rt, head) == a


def test_node_pool_is_bounded(rt: wh.HookRuntime) -> None:
    wh.lfnodes(rt, lib.GCRT_TEST_LFNODES)
    with pytest.raises(errors.OutOfMemory):
        wh.lfnodes(rt, 1)
    assert not rt.failed


def test_closed_runtime_is_refused() -> None:
    r = wh.HookRuntime(nprocs=1)
    r.close()
    with pytest.raises(errors.RuntimeClosed):
        wh.lfnodes(r, 1)


def test_aba_mutant_is_caught_by_the_stress_oracle() -> None:
    # Control: the same chaos stress passes without the mutant (tests above).
    # With the counter dropped from the packing, a stale pop CAS succeeds and
    # nodes get lost, duplicated or owned twice.
    caught = []
    for seed in range(1, 6):
        with wh.HookRuntime(nprocs=2) as rt:
            wh.set_mutant(rt, "lf_aba")
            assert lib.gcrt_test_sched_mode(rt.ptr, 2, seed, 50) == 0
            r = wh.lfstack_stress(rt, 4, 2, 10, 20000, seed)
            caught.append(
                r.seen != [1] * 10 or r.owned_twice > 0 or r.sum_after != r.sum_before
            )
    assert any(caught), f"seeds 1..5 all passed with lf_aba: {caught}"


def test_no_mutant_passes_the_same_chaos_stress() -> None:
    for seed in range(1, 6):
        with wh.HookRuntime(nprocs=2) as rt:
            assert lib.gcrt_test_sched_mode(rt.ptr, 2, seed, 50) == 0
            r = wh.lfstack_stress(rt, 4, 2, 10, 20000, seed)
            msg = f"seed={seed}"
            assert r.seen == [1] * 10, msg
            assert r.owned_twice == 0, msg
            assert r.sum_after == r.sum_before, msg
