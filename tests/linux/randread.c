/* randread DEVICE COUNT: the guest side of make bench's 4 KiB random-read figure
 * (tools/bench-io). COUNT reads of 4 KiB at 4 KiB-aligned offsets spread over the whole of
 * DEVICE, opened with O_DIRECT so every read reaches the device, not the page cache. The offsets
 * come from a fixed-seed xorshift64, so keel and the direct QEMU run read the same blocks in the
 * same order. busybox has no such tool (its dd reads sequentially). Prints one line:
 *   KEEL-RANDREAD: COUNT reads of 4096 bytes, SUM
 * (SUM: a sum over the bytes read, so the reads cannot be skipped) and exits 0, or 1 on a usage
 * or I/O error. Built static into the test initramfs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#define BLOCK 4096u

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: randread DEVICE COUNT\n");
		return 1;
	}
	long count = strtol(argv[2], NULL, 10);
	int fd = open(argv[1], O_RDONLY | O_DIRECT);
	uint64_t bytes = 0;
	if (count <= 0 || fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) || bytes < BLOCK) {
		perror("randread");
		return 1;
	}
	void *buf;
	if (posix_memalign(&buf, BLOCK, BLOCK))
		return 1;
	uint64_t seed = 0x9E3779B97F4A7C15ull, blocks = bytes / BLOCK, sum = 0;
	for (long i = 0; i < count; i++) {
		off_t off = (off_t)(xorshift64(&seed) % blocks * BLOCK);
		if (pread(fd, buf, BLOCK, off) != (ssize_t)BLOCK) {
			perror("randread: pread");
			return 1;
		}
		sum += ((const uint8_t *)buf)[i % BLOCK];
	}
	printf("KEEL-RANDREAD: %ld reads of %u bytes, %llu\n", count, BLOCK,
	       (unsigned long long)sum);
	return 0;
}
