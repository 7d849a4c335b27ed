# Shared rules of the head-to-head benchmarks (gcbench, binarytrees): one
# source $(NAME).c built three times, -DHEAP_MALLOC / -DHEAP_BDWGC /
# -DHEAP_GCRT (heap.h), the last against the release libgcrt.a.

CSRC := ../../csrc
BUILD := build
CC ?= cc
CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -pthread \
	-I../gcbench -I$(CSRC)/include
HAVE_BDWGC := $(shell pkg-config --exists bdw-gc && echo yes)
VARIANTS := malloc pygcrt $(if $(HAVE_BDWGC),bdwgc)

all: $(VARIANTS:%=$(BUILD)/$(NAME)-%)

lib:
	$(MAKE) -s -C $(CSRC)

$(BUILD)/$(NAME)-malloc: $(NAME).c ../gcbench/heap.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -DHEAP_MALLOC $< -o $@

$(BUILD)/$(NAME)-bdwgc: $(NAME).c ../gcbench/heap.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -DHEAP_BDWGC $(shell pkg-config --cflags bdw-gc) $< -o $@ \
		$(shell pkg-config --libs bdw-gc)

$(BUILD)/$(NAME)-pygcrt: $(NAME).c ../gcbench/heap.h lib
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -DHEAP_GCRT $< -o $@ $(CSRC)/build/libgcrt.a -pthread

run: all
	@for v in $(VARIANTS); do echo "== $$v"; ./$(BUILD)/$(NAME)-$$v; done

clean:
	rm -rf $(BUILD)

.PHONY: all lib run clean
