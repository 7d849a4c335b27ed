# benchmarks/bench.mk: a benchmark that is one program, bench.c, linked
# against the release libgcrt.a (and Boehm GC when the Makefile sets
# WITH_BDWGC := yes and libgc-dev is installed).
#
#   make run [ARGS=...]   build, then run build/bench $(ARGS)

include ../common.mk

ifeq ($(WITH_BDWGC)$(HAVE_BDWGC),yesyes)
CFLAGS += $(BDWGC_CFLAGS)
LIBGCRT += $(BDWGC_LIBS)
endif

all: $(BUILD)/bench

$(BUILD)/bench: bench.c lib
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) bench.c -o $@ $(LIBGCRT)

run: $(BUILD)/bench
	./$(BUILD)/bench $(ARGS)

.PHONY: all run
