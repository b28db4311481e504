// md5.h: MD5 message digest (RFC 1321), used only to check downloads against
// the checksums the data sets' authors publish; not for security.
//
//   md5_ctx c;
//   md5_init(&c);
//   md5_update(&c, buf, len);          // any number of times
//   char hex[MD5_HEX_LEN + 1];
//   md5_final_hex(&c, hex);            // "d41d8cd98f00b204e9800998ecf8427e"
#ifndef LRSCOPE_MD5_H
#define LRSCOPE_MD5_H

#include "../util/common.h"

enum { MD5_DIGEST_LEN = 16, MD5_HEX_LEN = 32 };

typedef struct {
    uint32_t state[4];   // A, B, C, D
    uint64_t bytes;      // message length so far
    uint8_t block[64];   // pending partial block
} md5_ctx;

void md5_init(md5_ctx *c);
void md5_update(md5_ctx *c, const void *data, size_t len);
void md5_final(md5_ctx *c, uint8_t digest[MD5_DIGEST_LEN]);
// Final digest as 32 lower-case hex digits plus NUL.
void md5_final_hex(md5_ctx *c, char hex[MD5_HEX_LEN + 1]);

// MD5 of a whole file as hex; fails with a message naming the file.
int md5_file_hex(const char *path, char hex[MD5_HEX_LEN + 1], lr_err *e);
// 1 if s is exactly 32 hex digits (either case).
int md5_is_hex(const char *s);

#endif
