/* TODO (part 2, checksum): add `len` bytes of `data` to the running
 * one's-complement sum `sum`, and return the new sum (RFC 1071).
 *   The stub below adds nothing, so every checksum comes out 0xffff.
 *   - Read the bytes two at a time as one 16-bit number, the first byte
 *     the high half: (p[i] << 8) | p[i + 1]. Network byte order, so the
 *     result is the same on any machine; never read a uint16_t from the
 *     buffer.
 *   - One's-complement addition: a carry out of bit 15 is added back in
 *     at bit 0 (the end-around carry). Sum into a wider integer and fold
 *     it, (total & 0xffff) + (total >> 16), after every addition: then
 *     no carry is lost. (Folding once at the end is not enough: the
 *     fold itself can carry again.)
 *   - An odd length: the last byte is the high half of a word whose low
 *     half is 0.
 *   - Return 16 bits; inet_checksum() below complements them.
 *   tests/cksum_test.c checks it against RFC 1071's example and others. */
(void)data;
(void)len;
return sum;
