# --memory 4096 crosses the 32-bit PCI hole: the e820 map must split guest RAM around it and
# the guest must still see (almost) all of it. Guest RAM is untouched until used, so this
# fits in the test host.
. /e2e/lib.sh
MEM=4096 . /e2e/scenarios/memory.sh
