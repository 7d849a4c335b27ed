# benchmarks/common.mk: what the C benchmarks' Makefiles share: the
# compiler flags, the release libgcrt.a (rebuilt by `lib`), Boehm GC's flags
# when pkg-config finds bdw-gc (libgc-dev), and `clean`.

.DEFAULT_GOAL := all
CSRC := ../../csrc
BUILD := build
CC ?= cc
CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wpedantic -pthread \
	-I$(CSRC)/include
LIBGCRT := $(CSRC)/build/libgcrt.a -pthread
HAVE_BDWGC := $(shell pkg-config --exists bdw-gc && echo yes)
BDWGC_CFLAGS := -DHAVE_BDWGC $(if $(HAVE_BDWGC),$(shell pkg-config --cflags bdw-gc))
BDWGC_LIBS := $(if $(HAVE_BDWGC),$(shell pkg-config --libs bdw-gc))

lib:
	$(MAKE) -s -C $(CSRC)

clean:
	rm -rf $(BUILD)

.PHONY: lib clean
