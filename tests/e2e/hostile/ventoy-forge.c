// SPDX-License-Identifier: GPL-2.0
/*
 * ventoy-forge: what Ventoy's UEFI memdisk mode leaves for Linux, forged
 * for memdiskblk's tests (tests/e2e/cases/ventoy-hostile.py). A gnu-efi
 * program (tests/lib/images.py: efi_program()).
 *
 * It runs as \EFI\BOOT\BOOTX64.EFI from an ESP that also holds forge.cfg
 * ("variant=NAME" and "cmdline=TEXT" lines), payload.iso, vmlinuz and
 * maybe initrd.img. As Ventoy's GRUB does, it allocates header + ISO as
 * one EfiRuntimeServicesData allocation, writes a ventoy_chain_head there
 * (2616 bytes, the first 512 of them a ventoy_os_param with Ventoy's GUID,
 * checksum and the ISO's size) and the ISO right behind it; as
 * ventoy_x64.efi does, it sets the volatile variable VentoyRamDisk to
 * { PhyAddr = the ISO's first byte, DiskSize = ISO size - 2616 } (Ventoy
 * subtracts the header twice). The variant breaks one thing (see
 * forge()). Then it starts \vmlinuz with the command line, and the
 * kernel's EFI stub loads the initrd= it names from the same ESP.
 *
 * What it did goes to the console as "@@ forge.KEY VALUE" lines, numbers
 * in hex, for the test to read back.
 */
#include <efi.h>
#include <efilib.h>

#define PAGE 4096
#define CHAIN_HEAD 2616		/* sizeof(ventoy_chain_head) */
#define OS_PARAM 512		/* sizeof(ventoy_os_param), at its start */
#define OFF_CHKSUM 16		/* ventoy_os_param.chksum (u8) */
#define OFF_IMG_SIZE 429	/* ventoy_os_param.vtoy_img_size (u64) */
#define RELEASE_PAD (384ULL << 20)	/* "release": zeros behind the ISO */
#define VOLATILE_ATTRS (EFI_VARIABLE_BOOTSERVICE_ACCESS | \
			EFI_VARIABLE_RUNTIME_ACCESS)

static EFI_GUID ventoy_guid = { 0x77772020, 0x2e77, 0x6576,
	{ 0x6e, 0x74, 0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74 } };

/* The variable's data: Ventoy's is the first two fields (16 bytes). */
struct ram_disk {
	UINT64 phy_addr;
	UINT64 disk_size;
	UINT64 spare;		/* zero: the "size" variant's 8 bytes more */
};

struct forgery {
	UINT8 *hdr;		/* the ventoy_chain_head */
	UINT64 iso_size;	/* bytes of payload.iso */
	UINT64 img_size;	/* what the header says */
	struct ram_disk var;
	UINTN var_size;
	UINT32 attrs;
	BOOLEAN bad_sum;	/* the header's checksum off by one */
};

/* Say what failed and end the guest (QEMU runs with -no-reboot). */
static EFI_STATUS fail(const CHAR16 *what, EFI_STATUS status)
{
	Print(L"\r\n@@ forge.error %s %r\r\n", what, status);
	uefi_call_wrapper(RT->ResetSystem, 4, EfiResetCold, status, 0, NULL);
	return status;
}

/* A file of the ESP's root, opened, and its size. */
static EFI_STATUS open_file(EFI_FILE_HANDLE root, CHAR16 *name,
			    EFI_FILE_HANDLE *fh, UINT64 *size)
{
	EFI_FILE_INFO *info;
	EFI_STATUS status;

	status = uefi_call_wrapper(root->Open, 5, root, fh, name,
				   EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(status))
		return status;
	info = LibFileInfo(*fh);
	if (!info)
		return EFI_NOT_FOUND;
	*size = info->FileSize;
	FreePool(info);
	return EFI_SUCCESS;
}

static EFI_STATUS read_file(EFI_FILE_HANDLE fh, void *buf, UINT64 size)
{
	UINTN n = size;
	EFI_STATUS status;

	status = uefi_call_wrapper(fh->Read, 3, fh, &n, buf);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (!EFI_ERROR(status) && n != size)
		status = EFI_END_OF_FILE;
	return status;
}

/*
 * The value of "key=value" in cfg, its lines ended by NULs (cfg_lines()),
 * or NULL.
 */
static CHAR8 *cfg_get(CHAR8 *cfg, UINTN size, const char *key)
{
	UINTN n = strlena((CHAR8 *)key);
	CHAR8 *line = cfg;

	for (; line < cfg + size; line += strlena(line) + 1)
		if (!strncmpa(line, (CHAR8 *)key, n) && line[n] == '=')
			return line + n + 1;
	return NULL;
}

static void cfg_lines(CHAR8 *cfg, UINTN size)
{
	UINTN i;

	for (i = 0; i < size; i++)
		if (cfg[i] == '\n' || cfg[i] == '\r')
			cfg[i] = 0;
}

static int is(const CHAR8 *variant, const char *name)
{
	return !strcmpa((CHAR8 *)variant, (CHAR8 *)name);
}

/*
 * Pages for the chain head and ISO. Ventoy: EfiRuntimeServicesData, any
 * address, the header at its start. "align": one page more, the header
 * 512 bytes in. "ram": EfiLoaderData (System RAM to Linux). "ram-tail":
 * the page right behind the allocation is EfiLoaderData and the header
 * says the ISO is one page longer, so the image runs into it.
 */
static EFI_STATUS allocate(const CHAR8 *variant, UINTN pages,
			   EFI_PHYSICAL_ADDRESS *base)
{
	EFI_MEMORY_TYPE type = EfiRuntimeServicesData;
	EFI_PHYSICAL_ADDRESS tail;
	EFI_STATUS status;

	if (is(variant, "ram"))
		type = EfiLoaderData;
	if (!is(variant, "ram-tail"))
		return uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
					 type, pages, base);
	/* Find pages + 1 free pages, then take them back as two types. */
	status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
				   EfiLoaderData, pages + 1, base);
	if (EFI_ERROR(status))
		return status;
	uefi_call_wrapper(BS->FreePages, 2, *base, pages + 1);
	status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress,
				   EfiRuntimeServicesData, pages, base);
	if (EFI_ERROR(status))
		return status;
	tail = *base + pages * PAGE;
	Print(L"\r\n@@ forge.tail 0x%lx\r\n", tail);
	return uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress,
				 EfiLoaderData, 1, &tail);
}

/* The variant's one flaw; "valid" is exactly what Ventoy does. */
static EFI_STATUS forge(const CHAR8 *v, struct forgery *f)
{
	if (is(v, "valid") || is(v, "align") || is(v, "ram"))
		return EFI_SUCCESS;
	if (is(v, "release"))		/* valid, with whole memory blocks */
		f->img_size += RELEASE_PAD;
	else if (is(v, "ram-tail"))
		f->img_size += PAGE;
	else if (is(v, "size"))
		f->var_size = sizeof(f->var);
	else if (is(v, "attrs"))
		f->attrs |= EFI_VARIABLE_NON_VOLATILE;
	else if (is(v, "wrap"))
		f->img_size = -(UINT64)2048;
	else if (is(v, "checksum"))
		f->bad_sum = TRUE;
	else if (is(v, "guid"))
		f->hdr[0] ^= 0x01;
	else if (is(v, "disksize"))
		f->var.disk_size = f->img_size - PAGE;
	else
		return EFI_INVALID_PARAMETER;
	/* DiskSize follows img_size as Ventoy's would, unless forged. */
	if (!is(v, "disksize"))
		f->var.disk_size = f->img_size - CHAIN_HEAD;
	return EFI_SUCCESS;
}

static void checksum(UINT8 *os_param)
{
	UINT8 sum = 0;
	UINTN i;

	for (i = 0; i < OS_PARAM; i++)
		sum += os_param[i];
	os_param[OFF_CHKSUM] -= sum;
}

/* \vmlinuz from the ESP, started with cmdline as its load options. */
static EFI_STATUS start_kernel(EFI_HANDLE image, EFI_HANDLE dev,
			       const CHAR8 *cmdline)
{
	EFI_DEVICE_PATH *path = FileDevicePath(dev, L"\\vmlinuz");
	EFI_LOADED_IMAGE *li;
	EFI_HANDLE kernel;
	EFI_STATUS status;
	UINTN i, n = strlena((CHAR8 *)cmdline);
	CHAR16 *opts = AllocatePool((n + 1) * sizeof(CHAR16));

	if (!path || !opts)
		return fail(L"memory", EFI_OUT_OF_RESOURCES);
	for (i = 0; i <= n; i++)
		opts[i] = cmdline[i];
	status = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, path,
				   NULL, 0, &kernel);
	if (EFI_ERROR(status))
		return fail(L"LoadImage", status);
	status = uefi_call_wrapper(BS->HandleProtocol, 3, kernel,
				   &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(status))
		return fail(L"LoadedImage", status);
	li->LoadOptions = opts;
	li->LoadOptionsSize = (n + 1) * sizeof(CHAR16);
	Print(L"\r\n@@ forge.starting %a\r\n", cmdline);
	status = uefi_call_wrapper(BS->StartImage, 3, kernel, NULL, NULL);
	return fail(L"StartImage", status);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_PHYSICAL_ADDRESS base;
	EFI_LOADED_IMAGE *me;
	EFI_FILE_HANDLE root, fh;
	struct forgery f = { 0 };
	CHAR8 *cfg, *variant, *cmdline;
	EFI_STATUS status;
	UINT64 size;
	UINTN pages;

	InitializeLib(image, systab);
	status = uefi_call_wrapper(BS->HandleProtocol, 3, image,
				   &LoadedImageProtocol, (void **)&me);
	if (EFI_ERROR(status))
		return fail(L"LoadedImage", status);
	root = LibOpenRoot(me->DeviceHandle);
	if (!root)
		return fail(L"ESP", EFI_NOT_FOUND);

	status = open_file(root, L"\\forge.cfg", &fh, &size);
	cfg = EFI_ERROR(status) ? NULL : AllocateZeroPool(size + 1);
	if (!cfg || EFI_ERROR(read_file(fh, cfg, size)))
		return fail(L"forge.cfg", status);
	cfg_lines(cfg, size);
	variant = cfg_get(cfg, size, "variant");
	cmdline = cfg_get(cfg, size, "cmdline");
	if (!variant || !cmdline)
		return fail(L"forge.cfg keys", EFI_INVALID_PARAMETER);

	status = open_file(root, L"\\payload.iso", &fh, &f.iso_size);
	if (EFI_ERROR(status))
		return fail(L"payload.iso", status);
	pages = (CHAIN_HEAD + f.iso_size + PAGE - 1) / PAGE;
	if (is(variant, "align"))
		pages++;
	if (is(variant, "release"))
		pages += RELEASE_PAD / PAGE;
	status = allocate(variant, pages, &base);
	if (EFI_ERROR(status))
		return fail(L"AllocatePages", status);
	f.hdr = (UINT8 *)(UINTN)base + (is(variant, "align") ? 512 : 0);
	ZeroMem(f.hdr, CHAIN_HEAD);
	status = read_file(fh, f.hdr + CHAIN_HEAD, f.iso_size);
	if (EFI_ERROR(status))
		return fail(L"payload.iso read", status);
	if (is(variant, "release"))
		ZeroMem(f.hdr + CHAIN_HEAD + f.iso_size, RELEASE_PAD);

	CopyMem(f.hdr, &ventoy_guid, sizeof(ventoy_guid));
	f.img_size = f.iso_size;
	f.var.phy_addr = (UINTN)f.hdr + CHAIN_HEAD;
	f.var.disk_size = f.iso_size - CHAIN_HEAD;
	f.var_size = 16;
	f.attrs = VOLATILE_ATTRS;
	status = forge(variant, &f);
	if (EFI_ERROR(status))
		return fail(L"variant", status);
	CopyMem(f.hdr + OFF_IMG_SIZE, &f.img_size, sizeof(f.img_size));
	checksum(f.hdr);
	if (f.bad_sum)
		f.hdr[OFF_CHKSUM]++;

	status = uefi_call_wrapper(RT->SetVariable, 5, L"VentoyRamDisk",
				   &ventoy_guid, f.attrs, f.var_size, &f.var);
	if (EFI_ERROR(status))
		return fail(L"SetVariable", status);
	Print(L"\r\n@@ forge.variant %a\r\n", variant);
	Print(L"@@ forge.base 0x%lx\r\n", base);
	Print(L"@@ forge.pages 0x%lx\r\n", (UINT64)pages);
	Print(L"@@ forge.header 0x%lx\r\n", (UINT64)(UINTN)f.hdr);
	Print(L"@@ forge.phyaddr 0x%lx\r\n", f.var.phy_addr);
	Print(L"@@ forge.disksize 0x%lx\r\n", f.var.disk_size);
	Print(L"@@ forge.imgsize 0x%lx\r\n", f.img_size);
	Print(L"@@ forge.varsize 0x%lx\r\n", (UINT64)f.var_size);
	Print(L"@@ forge.attrs 0x%x\r\n", f.attrs);
	return start_kernel(image, me->DeviceHandle, cmdline);
}
