// SPDX-License-Identifier: GPL-2.0-only
/*
 * mdbbench: the guest side of `make bench`, one measurement per call.
 * Each call prints one line "@@ bench.KEY ns BYTES_OR_IOS" that
 * tests/bench/run.py collects; timing is CLOCK_MONOTONIC.
 *
 *   mdbbench seq KEY DEV direct|buffered
 *	read DEV from start to end with 1 MiB read()s
 *   mdbbench rand KEY DEV direct|buffered JOBS COUNT
 *	JOBS threads, each COUNT 4 KiB pread()s at random 4 KiB offsets
 *   mdbbench memcpy KEY BYTES
 *	copy a BYTES-long buffer 1 MiB at a time into a 1 MiB buffer
 *   mdbbench copy KEY SRC DST
 *	copy SRC into DST with 1 MiB read()s and write()s, then fsync
 *   mdbbench load KEY DEV KO PARAMS [KO PARAMS] ...
 *	finit_module() each KO with its PARAMS ("-" for none), then poll
 *	until a 4 KiB O_DIRECT read of DEV succeeds (prints the poll count)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define BLOCK 4096

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "mdbbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *aligned(size_t size)
{
	void *p;

	if (posix_memalign(&p, BLOCK, size))
		die("posix_memalign");
	memset(p, 0x5a, size);
	return p;
}

static int open_dev(const char *dev, const char *mode)
{
	int fd = open(dev, O_RDONLY | (strcmp(mode, "direct") ? 0 : O_DIRECT));

	if (fd < 0)
		die(dev);
	return fd;
}

static void report(const char *key, uint64_t ns, uint64_t amount)
{
	printf("@@ bench.%s %llu %llu\n", key, (unsigned long long)ns,
	       (unsigned long long)amount);
}

static int seq(const char *key, const char *dev, const char *mode)
{
	int fd = open_dev(dev, mode);
	char *buf = aligned(CHUNK);
	uint64_t total = 0, t0 = now_ns();
	ssize_t n;

	while ((n = read(fd, buf, CHUNK)) > 0)
		total += n;
	if (n < 0)
		die("read");
	report(key, now_ns() - t0, total);
	close(fd);
	return 0;
}

struct job {
	int fd;
	uint64_t blocks, count, seed;
};

static void *rand_job(void *arg)
{
	struct job *j = arg;
	char *buf = aligned(BLOCK);
	uint64_t x = j->seed, i;

	for (i = 0; i < j->count; i++) {
		/* xorshift64: cheap and good enough to spread the offsets */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(j->fd, buf, BLOCK, (off_t)(x % j->blocks) * BLOCK) != BLOCK)
			die("pread");
	}
	free(buf);
	return NULL;
}

static int rnd(const char *key, const char *dev, const char *mode, int jobs,
	       uint64_t count)
{
	struct job j[64];
	pthread_t t[64];
	uint64_t t0;
	off_t size;
	int i, fd = open_dev(dev, mode);

	size = lseek(fd, 0, SEEK_END);
	if (size < BLOCK || jobs < 1 || jobs > 64)
		die("size or jobs");
	for (i = 0; i < jobs; i++) {
		j[i].fd = fd;
		j[i].blocks = size / BLOCK;
		j[i].count = count;
		j[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
	}
	t0 = now_ns();
	for (i = 0; i < jobs; i++)
		if (pthread_create(&t[i], NULL, rand_job, &j[i]))
			die("pthread_create");
	for (i = 0; i < jobs; i++)
		pthread_join(t[i], NULL);
	report(key, now_ns() - t0, count * jobs);
	close(fd);
	return 0;
}

static int copy(const char *key, uint64_t bytes)
{
	char *src = aligned(bytes), *dst = aligned(CHUNK);
	uint64_t pos, t0 = now_ns();

	for (pos = 0; pos + CHUNK <= bytes; pos += CHUNK) {
		memcpy(dst, src + pos, CHUNK);
		/* keep the compiler from dropping the copy */
		__asm__ __volatile__("" : : "r"(dst) : "memory");
	}
	report(key, now_ns() - t0, pos);
	return 0;
}

static int copy_file(const char *key, const char *src, const char *dst)
{
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT, 0600);
	char *buf = aligned(CHUNK);
	uint64_t total = 0, t0 = now_ns();
	ssize_t n;

	if (in < 0 || out < 0)
		die("open");
	while ((n = read(in, buf, CHUNK)) > 0) {
		if (write(out, buf, n) != n)
			die("write");
		total += n;
	}
	if (n < 0 || fsync(out))
		die("read or fsync");
	report(key, now_ns() - t0, total);
	close(in);
	close(out);
	return 0;
}

static int load(const char *key, const char *dev, int argc, char **argv)
{
	char *buf = aligned(BLOCK);
	uint64_t t0 = now_ns(), polls = 0;
	int i, fd;

	for (i = 0; i + 1 < argc; i += 2) {
		const char *params = strcmp(argv[i + 1], "-") ? argv[i + 1] : "";
		int mfd = open(argv[i], O_RDONLY);

		if (mfd < 0 || syscall(SYS_finit_module, mfd, params, 0))
			die(argv[i]);
		close(mfd);
	}
	for (;;) {
		fd = open(dev, O_RDONLY | O_DIRECT);
		if (fd >= 0 && pread(fd, buf, BLOCK, 0) == BLOCK)
			break;
		if (fd >= 0)
			close(fd);
		if (++polls > 1000000)
			die(dev);
	}
	report(key, now_ns() - t0, polls);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "seq"))
		return seq(argv[2], argv[3], argv[4]);
	if (argc >= 7 && !strcmp(argv[1], "rand"))
		return rnd(argv[2], argv[3], argv[4], atoi(argv[5]),
			   strtoull(argv[6], NULL, 0));
	if (argc >= 4 && !strcmp(argv[1], "memcpy"))
		return copy(argv[2], strtoull(argv[3], NULL, 0));
	if (argc >= 5 && !strcmp(argv[1], "copy"))
		return copy_file(argv[2], argv[3], argv[4]);
	if (argc >= 5 && !strcmp(argv[1], "load"))
		return load(argv[2], argv[3], argc - 4, argv + 4);
	fprintf(stderr, "usage: see the comment at the top of mdbbench.c\n");
	return 2;
}
