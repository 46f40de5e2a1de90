#!/bin/bash
# vmm's ACPI tables through the ACPI reference tools (ACPICA's iasl, the same
# interpreter code Linux carries): each table disassembles with no error or
# warning, the decompiled DSDT compiles back without errors, and the decoded
# text says what vmm means: the PM1a blocks and SCI in the FADT, a local APIC
# per vCPU and the IOAPIC in the MADT, \_S5 and the PCI host bridge with its
# windows and routing in the DSDT.  (tests/unit/vmm_acpi checks the bytes.)
set -u
BUILD=${BUILD:-build}
DUMP=$BUILD/tests/vmm_acpi
[ -x "$DUMP" ] || { echo "missing $DUMP (run make)"; exit 1; }
command -v iasl >/dev/null || { echo "iasl not installed (acpica-tools; scripts/deps.sh)" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vp-acpi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
no() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$DUMP" --dump "$tmp" || { echo "FAIL: vmm_acpi --dump"; exit 1; }
cd "$tmp" || exit 1
for t in xsdt facp apic dsdt facs; do
	iasl -d "$t.dat" >"$t.log" 2>&1 || no "iasl -d $t.dat failed: $(tail -n 3 "$t.log")"
	grep -iE "error|warning" "$t.log" "$t.dsl" 2>/dev/null && no "iasl complains about $t"
done
# The round trip: ACPICA's compiler accepts what its disassembler made of our AML.
mkdir rt && cp dsdt.dsl rt/
(cd rt && iasl dsdt.dsl >log 2>&1) && grep -q "Compilation successful. 0 Errors, 0 Warnings" rt/log ||
	no "the decompiled DSDT does not compile cleanly: $(tail -n 3 rt/log)"

want() {	# FILE REGEX WHAT
	grep -qE "$2" "$1" || no "$1: no $3"
}
want facp.dsl 'PM1A Event Block Address : 00000600' "PM1a event block at 0x600"
want facp.dsl 'PM1A Control Block Address : 00000604' "PM1a control block at 0x604"
want facp.dsl 'SCI Interrupt : 0009' "SCI on IRQ 9"
want facp.dsl 'Hardware Reduced \(V5\) : 0' "full (not hardware-reduced) ACPI"
[ "$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' apic.dsl)" = 2 ] ||
	no "apic.dsl: not 2 local APICs for 2 vCPUs"
want apic.dsl 'I/O Apic ID : 02' "IOAPIC with ID 2 (after the 2 CPUs)"
want dsdt.dsl 'Name \(_S5, Package \(0x04\)' "\\_S5 package"
want dsdt.dsl 'EisaId \("PNP0A03"\)' "PCI host bridge (PNP0A03)"
want dsdt.dsl '0x0000000C00000000, // Range Minimum' "64-bit MMIO window at 48 GiB"
want dsdt.dsl '0xC0000000,         // Range Minimum' "32-bit MMIO window at 3 GiB"
want dsdt.dsl '0x001FFFFF,' "_PRT entry for slot 31"
[ $fails = 0 ] || exit 1
echo "vmm_acpi_iasl: iasl decodes every table and the DSDT compiles back"
