// SPDX-License-Identifier: MIT
/*
 * zlib's CRC-32 (reflected polynomial 0xedb88320, initial value and final
 * xor ~0), so `crc32` of guestlet's blk-crc matches zlib.crc32() / cksum -a
 * crc32b / Python's zlib over the same bytes.  Slicing by 4 with tables built
 * on first use (freestanding: no libc, no zlib).
 */
#include <guest-drivers/virtio.h>

static u32 crc_tab[4][256];
static bool crc_ready;

static void crc_init(void)
{
	u32 i, k, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_tab[0][i];
		for (k = 1; k < 4; k++) {
			c = crc_tab[0][c & 0xff] ^ (c >> 8);
			crc_tab[k][i] = c;
		}
	}
	crc_ready = true;
}

u32 gd_crc32(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (len && ((unsigned long)p & 3)) {
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 4) {
		u32 w = (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;

		crc ^= w;
		crc = crc_tab[3][crc & 0xff] ^ crc_tab[2][(crc >> 8) & 0xff] ^
		      crc_tab[1][(crc >> 16) & 0xff] ^ crc_tab[0][crc >> 24];
		p += 4;
		len -= 4;
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
