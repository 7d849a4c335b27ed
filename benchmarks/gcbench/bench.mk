# Shared rules of the head-to-head benchmarks (gcbench, binarytrees): one
# source $(NAME).c built three times, -DHEAP_MALLOC / -DHEAP_BDWGC /
# -DHEAP_GCRT (heap.h), the last against the release libgcrt.a.

include ../common.mk

CFLAGS += -I../gcbench
VARIANTS := malloc pygcrt $(if $(HAVE_BDWGC),bdwgc)

all: $(VARIANTS:%=$(BUILD)/$(NAME)-%)

$(BUILD)/$(NAME)-malloc: $(NAME).c ../gcbench/heap.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -DHEAP_MALLOC $< -o $@

$(BUILD)/$(NAME)-bdwgc: $(NAME).c ../gcbench/heap.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -DHEAP_BDWGC $(BDWGC_CFLAGS) $< -o $@ $(BDWGC_LIBS)

$(BUILD)/$(NAME)-pygcrt: $(NAME).c ../gcbench/heap.h lib
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -DHEAP_GCRT $< -o $@ $(LIBGCRT)

run: all
	@for v in $(VARIANTS); do echo "== $$v"; ./$(BUILD)/$(NAME)-$$v; done

.PHONY: all run
