/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A hostile boot loader for tests: an MBR that, once MEMDISK (or GRUB4DOS)
 * has installed itself, overwrites memory with the patches the test
 * harness put at PATCHES (records of u32 physical address, u16 length,
 * bytes; a zero length ends the list; an address with bit 31 set is
 * relative to the segment the INT 13h vector names, e.g. GRUB4DOS's
 * handler), then boots the active partition's boot sector like any MBR
 * (DS:SI pointing at its partition entry, DL the drive).
 *
 * Assemble: as --32 mbr.S -o mbr.o
 *           ld -m elf_i386 -Ttext 0x600 --oformat binary mbr.o -o mbr.bin
 */
	.code16
	.text
	.globl	start
start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp
	movw	$0x7c00, %si		/* relocate to 0x600, out of the way */
	movw	$0x600, %di
	movw	$256, %cx
	cld
	rep	movsw
	ljmp	$0, $relocated
relocated:
	sti
	pushw	%dx			/* the drive, kept on the stack */
	movw	$patches, %si
next_patch:
	lodsl				/* %eax: physical address */
	btrl	$31, %eax
	jnc	absolute
	movzwl	0x4e, %edx		/* + the INT 13h vector's segment */
	shll	$4, %edx
	addl	%edx, %eax
absolute:
	movl	%eax, %edx
	lodsw
	movw	%ax, %cx		/* length */
	jcxz	patched
	movl	%edx, %eax
	shrl	$4, %eax
	movw	%ax, %es
	andw	$15, %dx
	movw	%dx, %di
	rep	movsb
	jmp	next_patch
patched:
	xorw	%ax, %ax
	movw	%ax, %es
	movw	$dap, %si		/* read partition 1's boot sector */
	movb	$0x42, %ah
	popw	%dx
	pushw	%dx
	int	$0x13
	jc	halt
	movw	$0x600 + 446, %si	/* its partition entry */
	popw	%dx
	ljmp	$0, $0x7c00
halt:
	hlt
	jmp	halt

dap:	.byte	0x10, 0
	.word	1, 0x7c00, 0
	.quad	2048

	.org	0x80
patches:
	.long	0
	.word	0
