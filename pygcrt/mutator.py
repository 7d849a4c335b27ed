"""Build goroutine programs for the runtime's mutator VM (csrc/mutator.c).

    b = ProgramBuilder(rt)
    node = b.type(2, ptr_fields=[1])        # word 0 is the VM's canary; fields 1..2
    main = b.func(nslots=4, ptr_slots=[0, 1])
    main.seti(3, 100).label("top")
    main.alloc(1, node).store(1, 1, 0).load(0, 1, 1)  # ...
    main.loop("top", 3).exit()
    prog = b.build()                        # verified by the runtime
    gs = prog.go(8)                         # 8 goroutines, one WAKE group
    start(rt, 2); wait(rt); prog.stats(gs[0])   # pygcrt.proc.start/wait

Function 0 is main.  Jump targets are labels of the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Union

from ._binding import check, ffi, lib
from .proc import start, wait
from .runtime import Runtime

__all__ = ["ProgramBuilder", "Func", "Program", "VMStats", "start", "wait"]

Insn = tuple[int, int, int, int]


@dataclass(frozen=True)
class VMStats:
    steps: int
    insns: int
    allocs: int
    loads: int
    stores: int
    maxstack: int
    done: bool
    exitcode: int


class Func:
    """One function: a frame of nslots slots (ptr_slots hold pointers)."""

    def __init__(self, index: int, nslots: int, ptr_slots: Sequence[int]) -> None:
        self.index = index
        self.nslots = nslots
        self.ptr_slots = frozenset(ptr_slots)
        self.code: list[Union[Insn, tuple[int, str, int, int]]] = []
        self.labels: dict[str, int] = {}

    def _op(self, op: int, a: int = 0, b: int = 0, c: int = 0) -> "Func":
        self.code.append((op, a, b, c))
        return self

    def label(self, name: str) -> "Func":
        self.labels[name] = len(self.code)
        return self

    def nop(self) -> "Func":
        return self._op(lib.GCRT_VM_NOP)

    def alloc(self, slot: int, type_index: int) -> "Func":
        return self._op(lib.GCRT_VM_ALLOC, slot, type_index)

    def load(self, dst: int, src: int, field: int) -> "Func":
        return self._op(lib.GCRT_VM_LOAD, dst, src, field)

    def store(self, obj: int, field: int, src: int) -> "Func":
        return self._op(lib.GCRT_VM_STORE, obj, field, src)

    def clear(self, slot: int) -> "Func":
        return self._op(lib.GCRT_VM_CLEAR, slot)

    def move(self, dst: int, src: int) -> "Func":
        return self._op(lib.GCRT_VM_MOVE, dst, src)

    def call(self, func: Union["Func", int]) -> "Func":
        return self._op(lib.GCRT_VM_CALL, func.index if isinstance(func, Func) else func)

    def ret(self) -> "Func":
        return self._op(lib.GCRT_VM_RET)

    def yield_(self) -> "Func":
        return self._op(lib.GCRT_VM_YIELD)

    def park(self) -> "Func":
        return self._op(lib.GCRT_VM_PARK)

    def wake(self, delta: int) -> "Func":
        return self._op(lib.GCRT_VM_WAKE, delta)

    def syscall(self, usec: int) -> "Func":
        return self._op(lib.GCRT_VM_SYSCALL, usec)

    def gc(self) -> "Func":
        return self._op(lib.GCRT_VM_GC)

    def seti(self, slot: int, value: int) -> "Func":
        return self._op(lib.GCRT_VM_SETI, slot, value)

    def loop(self, label: str, counter_slot: int) -> "Func":
        self.code.append((lib.GCRT_VM_LOOP, label, counter_slot, 0))
        return self

    def check(self, slot: int) -> "Func":
        return self._op(lib.GCRT_VM_CHECK, slot)

    def exit(self) -> "Func":
        return self._op(lib.GCRT_VM_EXIT)

    def raw(self, op: int, a: int = 0, b: int = 0, c: int = 0) -> "Func":
        """Any instruction, unchecked here (the runtime verifies it)."""
        return self._op(op, a, b, c)


class ProgramBuilder:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.types: list[Any] = []
        self.type_fields: list[tuple[int, frozenset[int]]] = []
        self.funcs: list[Func] = []

    def type(self, nfields: int, ptr_fields: Sequence[int] = ()) -> int:
        """A type of nfields fields (1..nfields) after the canary word."""
        mask = [False] * (nfields + 1)
        for f in ptr_fields:
            mask[f] = True
        self.types.append(self.rt.type(8 * (nfields + 1), mask))
        self.type_fields.append((nfields, frozenset(ptr_fields)))
        return len(self.types) - 1

    def func(self, nslots: int, ptr_slots: Sequence[int] = ()) -> Func:
        f = Func(len(self.funcs), nslots, ptr_slots)
        self.funcs.append(f)
        return f

    def code(self) -> tuple[list[Insn], list[int]]:
        """The linked code and each function's entry."""
        code: list[Insn] = []
        entries = []
        for f in self.funcs:
            entries.append(len(code))
            for op, a, b, c in f.code:
                if isinstance(a, str):
                    a = entries[-1] + f.labels[a]
                code.append((op, a, b, c))
        return code, entries

    def build(self) -> "Program":
        code, entries = self.code()
        descs = []
        for f in self.funcs:
            nbits = max(f.ptr_slots) + 1 if f.ptr_slots else 0
            bm = ffi.new("uint8_t[]", max(1, (nbits + 7) // 8))
            for s in f.ptr_slots:
                bm[s // 8] |= 1 << (s % 8)
            out = ffi.new("uint32_t *")
            check(lib.gcrt_frame_desc(self.rt.ptr(), f.nslots, bm, nbits, out), self.rt.ptr(), "frame_desc")
            descs.append(out[0])
        cins = ffi.new("gcrt_vm_insn[]", [list(i) for i in code]) if code else ffi.NULL
        cdesc = ffi.new("uint32_t[]", descs)
        centry = ffi.new("uint32_t[]", entries)
        ctypes = ffi.new("gcrt_type[]", [t.handle for t in self.types])
        out = ffi.new("gcrt_vm_program **")
        rc = lib.gcrt_vm_program_new(
            self.rt.ptr(), cins, len(code), cdesc, centry, len(self.funcs), ctypes, len(self.types), out
        )
        check(rc, self.rt.ptr(), "vm_program_new")
        return Program(self.rt, out[0])


class Program:
    def __init__(self, rt: Runtime, handle: Any) -> None:
        self.rt = rt
        self.handle = handle

    def go(self, n: int = 1) -> list[Any]:
        """Start n goroutines running this program (one WAKE group)."""
        gs = ffi.new("gcrt_g *[]", n)
        check(lib.gcrt_vm_go(self.rt.ptr(), self.handle, n, gs), self.rt.ptr(), "vm_go")
        return list(gs)

    def stats(self, g: Any) -> VMStats:
        out = ffi.new("gcrt_vm_stats *")
        check(lib.gcrt_vm_stats_read(self.rt.ptr(), g, out), self.rt.ptr(), "vm_stats_read")
        return VMStats(
            out.steps, out.insns, out.allocs, out.loads, out.stores, out.maxstack, bool(out.done), out.exitcode
        )

