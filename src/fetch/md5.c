// md5.c: MD5 (RFC 1321) written from the RFC's description: 64-byte blocks,
// four rounds of 16 steps, little-endian words, length padding in bits.
#define _POSIX_C_SOURCE 200809L
#include "md5.h"
#include "../util/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

// T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4.
static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

// Per-round left-rotation amounts, four per round.
static const int S[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

static void md5_block(uint32_t state[4], const uint8_t *p) {
    uint32_t X[16];
    for (int i = 0; i < 16; i++)
        X[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
               (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; i++) {
        int round = i / 16, k;
        uint32_t f;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;                 // F
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) % 16; break;  // G
        case 2: f = b ^ c ^ d; k = (3 * i + 5) % 16; break;           // H
        default: f = c ^ (b | ~d); k = (7 * i) % 16; break;           // I
        }
        uint32_t next = b + rotl(a + f + X[k] + T[i], S[round][i % 4]);
        a = d;
        d = c;
        c = b;
        b = next;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void md5_init(md5_ctx *c) {
    memset(c, 0, sizeof *c);
    c->state[0] = 0x67452301;
    c->state[1] = 0xefcdab89;
    c->state[2] = 0x98badcfe;
    c->state[3] = 0x10325476;
}

void md5_update(md5_ctx *c, const void *data, size_t len) {
    const uint8_t *p = data;
    size_t have = (size_t)(c->bytes % 64);
    c->bytes += len;
    if (have) {
        size_t take = 64 - have < len ? 64 - have : len;
        memcpy(c->block + have, p, take);
        p += take;
        len -= take;
        if (have + take < 64) return;
        md5_block(c->state, c->block);
    }
    for (; len >= 64; p += 64, len -= 64) md5_block(c->state, p);
    if (len) memcpy(c->block, p, len);
}

void md5_final(md5_ctx *c, uint8_t digest[MD5_DIGEST_LEN]) {
    uint64_t bits = c->bytes * 8;
    static const uint8_t pad[64] = {0x80};
    size_t have = (size_t)(c->bytes % 64);
    md5_update(c, pad, have < 56 ? 56 - have : 120 - have);
    uint8_t len_le[8];
    for (int i = 0; i < 8; i++) len_le[i] = (uint8_t)(bits >> (8 * i));
    md5_update(c, len_le, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(c->state[i] >> (8 * j));
}

void md5_final_hex(md5_ctx *c, char hex[MD5_HEX_LEN + 1]) {
    uint8_t d[MD5_DIGEST_LEN];
    md5_final(c, d);
    for (int i = 0; i < MD5_DIGEST_LEN; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int md5_file_hex(const char *path, char hex[MD5_HEX_LEN + 1], lr_err *e) {
    FILE *f = fs_fopen_regular(path, "a downloaded file (a regular file)", NULL, e);
    if (!f) return -1;
    md5_ctx c;
    md5_init(&c);
    enum { CHUNK = 1 << 16 };
    uint8_t *buf = lr_malloc(CHUNK);
    size_t got;
    while ((got = fread(buf, 1, CHUNK, f)) > 0) md5_update(&c, buf, got);
    int bad = ferror(f);
    free(buf);
    fclose(f);
    if (bad) return lr_fail(e, "%s: read error while checking its checksum", path);
    md5_final_hex(&c, hex);
    return 0;
}

int md5_is_hex(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n])) return 0;
    return n == MD5_HEX_LEN;
}
