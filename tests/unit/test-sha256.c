/*
 * test-sha256.c - our SHA-256 against the FIPS 180-4 example vectors
 * (NIST CSRC "SHA256.pdf" / "SHA2_Additional.pdf").
 */
#include "internal.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const char *const abc_448 =
	"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char *const abc_896 =
	"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static void check_hex(const char *msg, size_t len, const char *want)
{
	char hex[PROCMGR_SHA256_HEX + 1];

	procmgr_sha256_hex(msg, len, hex);
	ck_assert_str_eq(hex, want);
}

START_TEST(test_nist_vectors)
{
	check_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223"
			    "b00361a396177a9cb410ff61f20015ad");
	check_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb924"
			 "27ae41e4649b934ca495991b7852b855");
	check_hex(abc_448, strlen(abc_448),
		  "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1");
	check_hex(abc_896, strlen(abc_896),
		  "cf5b16a778af8380036ce59e7b049237"
		  "0b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_million_a)
{
	char *a = malloc(1000000);

	ck_assert_ptr_nonnull(a);
	memset(a, 'a', 1000000);
	check_hex(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67"
			      "f1809a48a497200e046d39ccc7112cd0");
	free(a);
}
END_TEST

/* The million 'a's fed in odd-sized pieces cross every block boundary. */
START_TEST(test_million_a_in_pieces)
{
	struct pm_sha256 c;
	unsigned char d[32];
	char hex[PROCMGR_SHA256_HEX + 1], piece[97];
	size_t left = 1000000, n;

	memset(piece, 'a', sizeof(piece));
	pm_sha256_init(&c);
	while (left > 0) {
		n = left < sizeof(piece) ? left : sizeof(piece);
		pm_sha256_update(&c, piece, n);
		left -= n;
	}
	pm_sha256_final(&c, d);
	pm_hex(d, sizeof(d), hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
			      "f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* Every split of the 896-bit message into two updates gives one digest. */
START_TEST(test_split_at_every_offset)
{
	const char *want = "cf5b16a778af8380036ce59e7b049237"
			   "0b249b11e8f07a51afac45037afee9d1";
	size_t len = strlen(abc_896);
	struct pm_sha256 c;
	unsigned char d[32];
	char hex[PROCMGR_SHA256_HEX + 1];

	for (size_t i = 0; i <= len; i++) {
		pm_sha256_init(&c);
		pm_sha256_update(&c, abc_896, i);
		pm_sha256_update(&c, abc_896 + i, len - i);
		pm_sha256_final(&c, d);
		pm_hex(d, sizeof(d), hex);
		ck_assert_msg(strcmp(hex, want) == 0, "split at %zu: %s", i,
			      hex);
	}
}
END_TEST

/* Lengths 55, 56 and 64 are where the padding needs a second block. */
START_TEST(test_padding_edges)
{
	char buf[130];

	memset(buf, 'a', sizeof(buf));
	check_hex(buf, 55, "9f4390f8d30c2dd92ec9f095b65e2b9a"
			   "e9b0a925a5258e241c9f1e910f734318");
	check_hex(buf, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f"
			   "590ce20f1bde7090ef7970686ec6738a");
	check_hex(buf, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209"
			   "f439851db43d0ba5997337df154668eb");
	check_hex(buf, 119, "31eba51c313a5c08226adf18d4a359cf"
			    "dfd8d2e816b13f4af952f7ea6584dcfb");
}
END_TEST

START_TEST(test_hex)
{
	const unsigned char b[] = { 0x00, 0x0f, 0xa5, 0xff };
	char hex[9];

	pm_hex(b, sizeof(b), hex);
	ck_assert_str_eq(hex, "000fa5ff");
	pm_hex(b, 0, hex);
	ck_assert_str_eq(hex, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_nist_vectors);
	tcase_add_test(tc, test_million_a);
	tcase_add_test(tc, test_million_a_in_pieces);
	tcase_add_test(tc, test_split_at_every_offset);
	tcase_add_test(tc, test_padding_edges);
	tcase_add_test(tc, test_hex);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
