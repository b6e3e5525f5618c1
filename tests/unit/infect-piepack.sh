#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The blob build refuses what cannot run relocated inside a target: pie-pack
# accepts a blob whose only relocations are R_X86_64_RELATIVE (a pointer
# table), rejects any other relocation type (here the PC32/PLT32 that
# ld --emit-relocs keeps), and the link fails on a call into libc. TAP output.
set -u
b=${top_builddir:-.}
s=${top_srcdir:-.}
t=$(mktemp -d /tmp/criu-piepack.XXXXXX)
trap 'rm -rf "$t"' EXIT
flags="-O2 -fpie -ffreestanding -nostdlib -fno-stack-protector -fno-builtin \
 -fno-asynchronous-unwind-tables -fno-jump-tables -mno-red-zone -fvisibility=hidden"
ldflags="-pie --no-dynamic-linker -z noexecstack -z norelro -T $s/parasite/pie.lds"
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

echo "1..5"

cat > "$t/head.S" <<'E'
	.section .head.text, "ax"
	.globl __export_entry
	.hidden __export_entry
__export_entry:
	call blob_main
	int3
	.section .note.GNU-stack, "", @progbits
E
cat > "$t/good.c" <<'E'
static const char *const names[] = { "a", "b" };
const char *const *blob_table = names;
long blob_main(void) { return (long)names[1][0]; }
E
cat > "$t/libc.c" <<'E'
extern int puts(const char *);
long blob_main(void) { return puts("x"); }
E

cc $flags -c "$t/head.S" -o "$t/head.o" && cc $flags -c "$t/good.c" -o "$t/good.o" &&
	ld.bfd $ldflags -o "$t/good.elf" "$t/head.o" "$t/good.o" &&
	objcopy -O binary -j .text -j .rodata -j .data "$t/good.elf" "$t/good.bin" &&
	"$b/parasite/pie-pack" good "$t/good.elf" "$t/good.bin" "$t/good-blob.c" "$t/good-blob.h" &&
	grep -q "nr_relocs = 3" "$t/good-blob.c" && grep -q "GOOD_OFF_ENTRY 0x0UL" "$t/good-blob.h" &&
	ok "pointers in data give R_X86_64_RELATIVE relocations only" ||
	notok "pointers in data give R_X86_64_RELATIVE relocations only"

if ld.bfd $ldflags --emit-relocs -o "$t/bad.elf" "$t/head.o" "$t/good.o" &&
	objcopy -O binary -j .text -j .rodata -j .data "$t/bad.elf" "$t/bad.bin" &&
	! "$b/parasite/pie-pack" bad "$t/bad.elf" "$t/bad.bin" "$t/bad-blob.c" "$t/bad-blob.h" 2>"$t/err" &&
	grep -q "only R_X86_64_RELATIVE is allowed" "$t/err"; then
	ok "other relocation types are refused"
else
	notok "other relocation types are refused"
fi
[ ! -e "$t/bad-blob.c" ] && [ ! -e "$t/bad-blob.h" ] && ok "nothing is generated for a refused blob" ||
	notok "nothing is generated for a refused blob"
cc $flags -c "$t/libc.c" -o "$t/libc.o"
if ld.bfd $ldflags --no-undefined -o "$t/libc.elf" "$t/head.o" "$t/libc.o" 2>/dev/null; then
	notok "a call into libc does not link"
else
	ok "a call into libc does not link"
fi

# The real parasite: only RELATIVE relocations, text and data on separate pages.
if readelf -rW "$b/parasite/parasite/parasite.pie.elf" | awk '/R_X86_64_/ && !/R_X86_64_RELATIVE/ { bad = 1 } END { exit bad }'; then
	ok "the parasite blob has only R_X86_64_RELATIVE relocations"
else
	notok "the parasite blob has only R_X86_64_RELATIVE relocations"
fi
exit $fail
