// SPDX-License-Identifier: GPL-2.0
/*
 * Print the layout of MEMDISK's, GRUB4DOS's and Ventoy's tables, from their one definition in
 * memdiskblk.h, as JSON for the Python test generators (tests/lib/layout.py):
 *
 *   {"mbft": {"size": 70, "fields": {"signature": [0, 4], ...}}, ...,
 *    "const": {"mbft_signature": "mBFT", ...}}
 *
 * Each field is [offset, size] within its struct; "mdi" is at
 * mbft.fields.mdi, "patch" right after a whole mbft (see memdiskblk.h).
 * Built with the userspace stand-ins in tests/include/.
 */
#include <stdio.h>

#include "memdiskblk.h"

static const char *sep;

static void begin(const char *name, size_t size)
{
	printf("%s\n \"%s\": {\"size\": %zu, \"fields\": {", sep, name, size);
	sep = "";
}

static void field(const char *name, size_t off, size_t size)
{
	printf("%s\n  \"%s\": [%zu, %zu]", sep, name, off, size);
	sep = ",";
}

static void end(void)
{
	printf("}}");
	sep = ",";
}

#define F(type, member) \
	field(#member, offsetof(type, member), sizeof_field(type, member))

int main(void)
{
	sep = "{";
	begin("mbft", sizeof(struct mdb_mbft));
	F(struct mdb_mbft, signature);
	F(struct mdb_mbft, length);
	F(struct mdb_mbft, revision);
	F(struct mdb_mbft, checksum);
	F(struct mdb_mbft, oem_id);
	F(struct mdb_mbft, oem_table_id);
	F(struct mdb_mbft, oem_revision);
	F(struct mdb_mbft, creator_id);
	F(struct mdb_mbft, creator_revision);
	F(struct mdb_mbft, safe_hook);
	F(struct mdb_mbft, mdi);
	end();

	begin("mdi", sizeof(struct mdb_mdi));
	F(struct mdb_mdi, bytes);
	F(struct mdb_mdi, version_minor);
	F(struct mdb_mdi, version_major);
	F(struct mdb_mdi, diskbuf);
	F(struct mdb_mdi, disksize);
	F(struct mdb_mdi, cmdline);
	F(struct mdb_mdi, old_int13);
	F(struct mdb_mdi, old_int15);
	F(struct mdb_mdi, old_dos_mem);
	F(struct mdb_mdi, bootloader_id);
	F(struct mdb_mdi, sector_shift);
	F(struct mdb_mdi, dpt_ptr);
	end();

	begin("patch", sizeof(struct mdb_mdi_patch));
	F(struct mdb_mdi_patch, drive_shift_limit);
	F(struct mdb_mdi_patch, cylinders);
	F(struct mdb_mdi_patch, heads);
	F(struct mdb_mdi_patch, sectors);
	F(struct mdb_mdi_patch, driveno);
	F(struct mdb_mdi_patch, drivetype);
	F(struct mdb_mdi_patch, drivecnt);
	F(struct mdb_mdi_patch, configflags);
	end();

	begin("hook", sizeof(struct mdb_safe_hook));
	F(struct mdb_safe_hook, jump);
	F(struct mdb_safe_hook, signature);
	F(struct mdb_safe_hook, vendor);
	F(struct mdb_safe_hook, prev);
	F(struct mdb_safe_hook, flags);
	F(struct mdb_safe_hook, mbft);
	end();

	begin("g4d_slot", sizeof(struct mdb_g4d_slot));
	F(struct mdb_g4d_slot, from_drive);
	F(struct mdb_g4d_slot, to_drive);
	F(struct mdb_g4d_slot, max_sector);
	F(struct mdb_g4d_slot, to_cylinder);
	F(struct mdb_g4d_slot, to_sector);
	F(struct mdb_g4d_slot, start_sector);
	F(struct mdb_g4d_slot, sector_count);
	end();

	begin("ventoy_var", sizeof(struct mdb_ventoy_var));
	F(struct mdb_ventoy_var, phys);
	F(struct mdb_ventoy_var, disk_size);
	end();

	begin("ventoy_param", sizeof(struct mdb_ventoy_param));
	F(struct mdb_ventoy_param, guid);
	F(struct mdb_ventoy_param, checksum);
	F(struct mdb_ventoy_param, img_path);
	F(struct mdb_ventoy_param, img_size);
	end();

	printf(",\n \"const\": {\"mbft_signature\": \"%s\", \"hook_signature\": \"%s\",\n"
	       "  \"hook_vendor\": \"%s\", \"mbft_min_len\": %u,\n"
	       "  \"config_readonly\": %u, \"ventoy_head_len\": %u,\n"
	       "  \"ventoy_var_attrs\": %u, \"g4d_entry\": %u, \"g4d_map_off\": %u}\n}\n",
	       MDB_MBFT_SIGNATURE, MDB_HOOK_SIGNATURE, MDB_HOOK_VENDOR,
	       MDB_MBFT_MIN_LEN, MDB_CONFIG_READONLY, MDB_VENTOY_HEAD_LEN,
	       MDB_VENTOY_VAR_ATTRS, MDB_G4D_ENTRY, MDB_G4D_MAP_OFF);
	return 0;
}
