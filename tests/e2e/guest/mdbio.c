// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-side I/O tool for the end-to-end tests, built statically on the
 * host and put in the test initramfs.
 *
 *   mdbio edges DEV      I/O edge cases; one "@@ io.NAME RESULT" line each;
 *                        on a writable DEV also discard and write-zeroes of
 *                        unaligned ranges, checked byte for byte
 *   mdbio stress DEV SECONDS THREADS
 *                        mixed verified reads and writes, then a full
 *                        re-read; "@@ stress.* N" lines
 *   mdbio hold DEV SECONDS
 *                        keep DEV open and read it for SECONDS; prints
 *                        "open" once it holds DEV
 *   mdbio cycle KO N DEV load KO (finit_module) and unload it
 *                        (delete_module) N times, each time checking that
 *                        the block device DEV exists while it is loaded;
 *                        prints how many cycles passed. The syscalls
 *                        modprobe and rmmod make, without their start-up:
 *                        under TCG and KASAN a modprobe/rmmod pair costs
 *                        0.75 s, these 0.31 s (0.30 and 0.09 on 6.12)
 *   mdbio crc32 FILE     the CRC-32 of FILE's whole content (zlib's, as
 *                        Python's zlib.crc32 on the host), 8 hex digits;
 *                        under TCG about nine times as fast as busybox's
 *                        sha256sum (256 MiB: 1.8 s against 15.7 s)
 *   mdbio load KO PARAMS NTH
 *   mdbio write FILE TEXT NTH
 *                        load KO with PARAMS (finit_module), or write TEXT
 *                        to FILE, with the NTH fallible allocation of that
 *                        one syscall made to fail (/proc/thread-self/
 *                        fail-nth, fault injection scoped to this task; 0:
 *                        none); prints RESULT and how many allocations the
 *                        syscall made if none failed ("ok 412"), or
 *                        "injected" if the NTH one failed
 *   mdbio kexec KERNEL INITRD CMDLINE
 *                        load KERNEL (kexec_file_load) and start it: what
 *                        kexec-tools does, with no library beyond libc
 *
 * RESULT is "ok" or the errno name, so the host can assert defined errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096

static const char *res(long rc)
{
	static char buf[32];

	if (rc >= 0) {
		snprintf(buf, sizeof(buf), "ok:%ld", rc);
		return buf;
	}
	switch (errno) {
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case EPERM: return "EPERM";
	case EROFS: return "EROFS";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EACCES: return "EACCES";
	default:
		snprintf(buf, sizeof(buf), "errno%d", errno);
		return buf;
	}
}

static void say(const char *name, long rc)
{
	printf("@@ io.%s %s\n", name, res(rc));
	fflush(stdout);
}

#define REGION (64 * 1024)	/* the part zero_ranges() writes */

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 131 + 7) | 1;	/* never zero */
}

/* Read [off, off + len) of the device with O_DIRECT; 0 on success. */
static int read_all(int dfd, unsigned char *buf, uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t n = pread(dfd, buf, len > (1 << 20) ? 1 << 20 : len, off);

		if (n <= 0)
			return -1;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Fill the first REGION bytes with a pattern, then discard and write-zero
 * ranges aligned to 512 bytes but not to pages: each must zero exactly its
 * range ("exact", else "mismatch@OFFSET" of the first wrong byte), and the
 * rest of the device must not change ("io.rest_unchanged 1").
 */
static void zero_ranges(int fd, int dfd, uint64_t size)
{
	static const struct {
		const char *name;
		unsigned long req;
		uint64_t off, len;
	} op[] = {
		{ "discard_range", BLKDISCARD, 8704, 5120 },
		{ "zeroout_range", BLKZEROOUT, 34304, 3072 },
	};
	unsigned char *want, *got, *rest, *rest2;
	uint64_t i, range[2];
	unsigned int k;

	if (size < 2 * REGION || posix_memalign((void **)&want, BLK, REGION) ||
	    posix_memalign((void **)&got, BLK, REGION) ||
	    posix_memalign((void **)&rest, BLK, size - REGION) ||
	    posix_memalign((void **)&rest2, BLK, size - REGION)) {
		printf("@@ io.zero_ranges setup-failed\n");
		return;
	}
	if (read_all(dfd, rest, REGION, size - REGION)) {
		printf("@@ io.zero_ranges read-failed\n");
		return;
	}
	for (i = 0; i < REGION; i++)
		want[i] = pattern(i);
	if (pwrite(dfd, want, REGION, 0) != REGION) {
		say("zero_ranges", -1);
		return;
	}
	for (k = 0; k < sizeof(op) / sizeof(op[0]); k++) {
		range[0] = op[k].off;
		range[1] = op[k].len;
		if (ioctl(fd, op[k].req, range) < 0 ||
		    read_all(dfd, got, 0, REGION)) {
			say(op[k].name, -1);
			continue;
		}
		memset(want + op[k].off, 0, op[k].len);
		for (i = 0; i < REGION && got[i] == want[i]; i++)
			;
		if (i == REGION)
			printf("@@ io.%s exact\n", op[k].name);
		else
			printf("@@ io.%s mismatch@%llu\n", op[k].name,
			       (unsigned long long)i);
	}
	printf("@@ io.rest_unchanged %d\n",
	       !read_all(dfd, rest2, REGION, size - REGION) &&
	       !memcmp(rest, rest2, size - REGION));
	fflush(stdout);
	free(want);
	free(got);
	free(rest);
	free(rest2);
}

static int edges(const char *dev)
{
	uint64_t size = 0, range[2];
	char *buf, *odd;
	int fd, fd2, dfd, writable = 1;
	long rc;

	fd = open(dev, O_RDWR);
	if (fd < 0) {
		writable = 0;
		fd = open(dev, O_RDONLY);
	}
	dfd = open(dev, (fd >= 0 ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (dfd < 0)
		dfd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0 || dfd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		perror(dev);
		return 1;
	}
	if (posix_memalign((void **)&buf, BLK, 2 * BLK))
		return 1;
	memset(buf, 0, 2 * BLK);
	odd = buf + 1;

	say("read_last", pread(dfd, buf, 512, size - 512));
	say("read_past", pread(dfd, buf, 512, size));
	say("read_across", pread(dfd, buf, 1024, size - 512));
	say("read_zero", pread(dfd, buf, 0, 0));
	say("read_unaligned_buf", pread(dfd, odd, 512, 0));
	say("read_unaligned_off", pread(dfd, buf, 512, 1));
	say("read_unaligned_len", pread(dfd, buf, 100, 0));
	rc = pread(dfd, buf, 512, size - 512);
	say("write_last", rc < 0 ? rc : pwrite(dfd, buf, 512, size - 512));
	say("write_past", pwrite(dfd, buf, 512, size));
	say("write_zero", pwrite(dfd, buf, 0, 0));
	say("fsync", fsync(fd));
	say("fdatasync", fdatasync(dfd));
	range[0] = 0;
	range[1] = BLK;
	say("discard", ioctl(fd, BLKDISCARD, range));
	say("zeroout", ioctl(fd, BLKZEROOUT, range));
	range[0] = size;
	say("zeroout_past", ioctl(fd, BLKZEROOUT, range));
	if (writable)
		zero_ranges(fd, dfd, size);
	say("rereadpt", ioctl(fd, BLKRRPART, 0));
	fd2 = open(dev, O_RDONLY | O_EXCL);
	say("excl_first", fd2);
	say("excl_second", open(dev, O_RDONLY | O_EXCL));
	if (fd2 >= 0)
		close(fd2);
	close(dfd);
	close(fd);
	return 0;
}

/* CRC-32C (Castagnoli), bitwise: small and obviously right. */
static uint32_t crc32c(const unsigned char *p, size_t n)
{
	uint32_t crc = ~0u;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & -(crc & 1));
	}
	return ~crc;
}

struct worker {
	int fd;
	uint64_t first, count;	/* this thread's blocks */
	uint32_t *gen;		/* generation written to each block, 0: never */
	unsigned int seed;
	time_t until;
	unsigned long reads, writes, bad;
};

/* Block content: a header (block, generation, crc) and seeded filler. */
static void fill(unsigned char *b, uint64_t blk, uint32_t gen)
{
	unsigned int s = (unsigned int)(blk * 2654435761u) ^ gen;
	size_t i;

	memcpy(b, &blk, 8);
	memcpy(b + 8, &gen, 4);
	for (i = 16; i < BLK; i++) {
		s = s * 1103515245u + 12345u;
		b[i] = s >> 16;
	}
	gen = crc32c(b + 16, BLK - 16);
	memcpy(b + 12, &gen, 4);
}

static int check(const unsigned char *b, uint64_t blk, uint32_t gen)
{
	unsigned char want[BLK];

	fill(want, blk, gen);
	return memcmp(b, want, BLK) == 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char *b;

	if (posix_memalign((void **)&b, BLK, BLK))
		return NULL;
	while (time(NULL) < w->until) {
		uint64_t i = rand_r(&w->seed) % w->count, blk = w->first + i;

		if (rand_r(&w->seed) % 2) {
			fill(b, blk, w->gen[i] + 1);
			if (pwrite(w->fd, b, BLK, blk * BLK) != BLK) {
				w->bad++;
				continue;
			}
			w->gen[i]++;
			w->writes++;
		} else if (w->gen[i]) {
			if (pread(w->fd, b, BLK, blk * BLK) != BLK ||
			    !check(b, blk, w->gen[i]))
				w->bad++;
			w->reads++;
		}
	}
	free(b);
	return NULL;
}

static int stress(const char *dev, int seconds, int threads)
{
	struct worker w[16];
	pthread_t tid[16];
	uint64_t size, blocks, per;
	unsigned long reads = 0, writes = 0, bad = 0, verified = 0;
	unsigned char *b;
	int fd, t;

	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || threads < 1 ||
	    threads > 16 || posix_memalign((void **)&b, BLK, BLK)) {
		perror(dev);
		return 1;
	}
	blocks = size / BLK;
	per = blocks / threads;
	for (t = 0; t < threads; t++) {
		w[t] = (struct worker){ .fd = fd, .first = t * per, .count = per,
			.seed = 1234u + t, .until = time(NULL) + seconds };
		w[t].gen = calloc(per, sizeof(uint32_t));
		pthread_create(&tid[t], NULL, work, &w[t]);
	}
	for (t = 0; t < threads; t++) {
		pthread_join(tid[t], NULL);
		reads += w[t].reads;
		writes += w[t].writes;
		bad += w[t].bad;
	}
	/* Full re-read: every block written must hold its last generation. */
	for (t = 0; t < threads; t++) {
		uint64_t i;

		for (i = 0; i < per; i++) {
			if (!w[t].gen[i])
				continue;
			if (pread(fd, b, BLK, (w[t].first + i) * BLK) != BLK ||
			    !check(b, w[t].first + i, w[t].gen[i]))
				bad++;
			verified++;
		}
	}
	printf("@@ stress.reads %lu\n@@ stress.writes %lu\n", reads, writes);
	printf("@@ stress.verified %lu\n@@ stress.mismatches %lu\n", verified, bad);
	return 0;
}

static int hold(const char *dev, int seconds)
{
	char buf[BLK];
	time_t until = time(NULL) + seconds;
	int fd = open(dev, O_RDONLY);

	if (fd < 0)
		return 1;
	printf("open\n");
	fflush(stdout);
	while (time(NULL) < until)
		if (pread(fd, buf, sizeof(buf), 0) < 0)
			return 1;
	close(fd);
	return 0;
}

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), eight bytes a step. */
static uint32_t crc_tab[8][256];

static void crc32_init(void)
{
	uint32_t i;
	int k;

	for (i = 0; i < 256; i++) {
		uint32_t c = i;

		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_tab[k][i] = (crc_tab[k - 1][i] >> 8) ^
					crc_tab[0][crc_tab[k - 1][i] & 0xff];
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);	/* little-endian x86 */
		w ^= crc;
		crc = crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
		      crc_tab[5][(w >> 16) & 0xff] ^ crc_tab[4][(w >> 24) & 0xff] ^
		      crc_tab[3][(w >> 32) & 0xff] ^ crc_tab[2][(w >> 40) & 0xff] ^
		      crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
	}
	while (n--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

static int crc32_file(const char *path)
{
	static unsigned char buf[1 << 20];
	uint32_t crc = ~0u;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		perror(path);
		return 1;
	}
	crc32_init();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32_update(crc, buf, n);
	close(fd);
	if (n < 0) {
		perror(path);
		return 1;
	}
	printf("%08x\n", ~crc);
	return 0;
}

static int cycle(const char *ko, int n, const char *dev)
{
	const char *name = "memdiskblk";
	struct stat st;
	int i;

	for (i = 0; i < n; i++) {
		int fd = open(ko, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0)) {
			perror(ko);
			break;
		}
		close(fd);
		if (stat(dev, &st) || !S_ISBLK(st.st_mode)) {
			fprintf(stderr, "%s: no block device after load %d\n", dev, i);
			break;
		}
		if (syscall(SYS_delete_module, name, O_NONBLOCK)) {
			perror(name);
			break;
		}
	}
	printf("%d\n", i);
	return i != n;
}

/* Arm fail-nth for the next syscall's NTH allocation; 0 disarms. */
static int fail_nth(unsigned long nth)
{
	char buf[32];
	int fd = open("/proc/thread-self/fail-nth", O_WRONLY);
	int len = snprintf(buf, sizeof(buf), "%lu", nth);

	if (fd < 0 || write(fd, buf, len) != len) {
		perror("fail-nth");
		return -1;
	}
	close(fd);
	return 0;
}

/* After the syscall: "injected", or how many allocations it made. */
static void report_nth(int err, unsigned long nth)
{
	char buf[32] = "";
	int fd = open("/proc/thread-self/fail-nth", O_RDONLY);
	unsigned long left;

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0) {
		perror("fail-nth");
		return;
	}
	close(fd);
	left = strtoul(buf, NULL, 10);
	fail_nth(0);
	if (nth && !left)
		printf("%s injected\n", err ? strerrorname_np(err) : "ok");
	else
		printf("%s %lu\n", err ? strerrorname_np(err) : "ok",
		       nth ? nth - left : 0);
}

static int load(const char *ko, const char *params, unsigned long nth)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0) {
		perror(ko);
		return 1;
	}
	if (fail_nth(nth))
		return 1;
	if (syscall(SYS_finit_module, fd, params, 0))
		err = errno;
	report_nth(err, nth);
	close(fd);
	return 0;
}

static int write_nth(const char *file, const char *text, unsigned long nth)
{
	int fd = open(file, O_WRONLY);
	ssize_t len = strlen(text);
	int err = 0;

	if (fd < 0) {
		perror(file);
		return 1;
	}
	if (fail_nth(nth))
		return 1;
	if (write(fd, text, len) != len)
		err = errno;
	report_nth(err, nth);
	close(fd);
	return 0;
}

static int kexec(const char *kernel, const char *initrd, const char *cmdline)
{
	int kfd = open(kernel, O_RDONLY);
	int ifd = open(initrd, O_RDONLY);

	if (kfd < 0 || ifd < 0) {
		perror("kexec: open");
		return 1;
	}
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1,
		    cmdline, 0UL)) {
		perror("kexec_file_load");
		return 1;
	}
	sync();
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		LINUX_REBOOT_CMD_KEXEC, NULL);
	perror("reboot");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "edges"))
		return edges(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "stress"))
		return stress(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "cycle"))
		return cycle(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 3 && !strcmp(argv[1], "crc32"))
		return crc32_file(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "load"))
		return load(argv[2], argv[3], strtoul(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "write"))
		return write_nth(argv[2], argv[3], strtoul(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "kexec"))
		return kexec(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: mdbio edges DEV | stress DEV SECONDS THREADS | hold DEV SECONDS | cycle KO N DEV | crc32 FILE | load KO PARAMS NTH | write FILE TEXT NTH | kexec KERNEL INITRD CMDLINE\n");
	return 2;
}
