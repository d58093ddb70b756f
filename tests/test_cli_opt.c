/* test_cli_opt.c — the numeric option parsers of the command line (cli_opt.c): whole-argument rule, ranges, the
 * message naming the option, the range and the value, and comma-separated lists. */
#include "test.h"
#include "cli.h"
#include <limits.h>
#include <stdint.h>

#define CHECK_ERR(substr) \
	CHECKF(strstr(es_last_error(), substr) != NULL, "error '%s' lacks '%s'", es_last_error(), substr)

TEST(cli_opt_int)
{
	int v = -7;
	CHECK_EQ_INT(es_opt_int("-t", "4", 1, 64, &v), 0);
	CHECK_EQ_INT(v, 4);
	CHECK_EQ_INT(es_opt_int("-t", "1", 1, 64, &v), 0);
	CHECK_EQ_INT(es_opt_int("-t", "64", 1, 64, &v), 0);
	CHECK_EQ_INT(v, 64);
	CHECK_EQ_INT(es_opt_int("-t", "-3", -5, 5, &v), 0);
	CHECK_EQ_INT(v, -3);
	v = 9;
	CHECK_EQ_INT(es_opt_int("-t", "65", 1, 64, &v), -1);
	CHECK_STR(es_last_error(), "-t: expected an integer in 1..64, got '65'");
	CHECK_EQ_INT(v, 9);  /* untouched on error */
	CHECK_EQ_INT(es_opt_int("-t", "0", 1, 64, &v), -1);
	CHECK_EQ_INT(es_opt_int("--nprobe", "4x", 1, 64, &v), -1);
	CHECK_STR(es_last_error(), "--nprobe: expected an integer in 1..64, got '4x'");
	CHECK_EQ_INT(es_opt_int("-t", "", 1, 64, &v), -1);
	CHECK_ERR("got ''");
	CHECK_EQ_INT(es_opt_int("-t", " 4", 1, 64, &v), -1);
	CHECK_EQ_INT(es_opt_int("-t", "4 ", 1, 64, &v), -1);
	CHECK_EQ_INT(es_opt_int("-t", "0x10", 0, 64, &v), -1);
	CHECK_EQ_INT(es_opt_int("-t", "2.5", 0, 64, &v), -1);
	CHECK_EQ_INT(es_opt_int("-t", "99999999999999999999999", 0, 64, &v), -1);
	CHECK_ERR("got '99999999999999999999999'");
	/* an argument longer than the buffer is refused whole, not cut */
	char longarg[200];
	memset(longarg, '1', sizeof longarg - 1);
	longarg[sizeof longarg - 1] = 0;
	CHECK_EQ_INT(es_opt_int("-n", longarg, 0, INT_MAX, &v), -1);
	CHECK_ERR("-n: expected an integer");
}

TEST(cli_opt_int64_double)
{
	int64_t w = 0;
	CHECK_EQ_INT(es_opt_int64("-s", "9223372036854775807", 0, INT64_MAX, &w), 0);
	CHECK(w == INT64_MAX);
	CHECK_EQ_INT(es_opt_int64("-s", "9223372036854775808", 0, INT64_MAX, &w), -1);
	CHECK_EQ_INT(es_opt_int64("-s", "-1", 0, INT64_MAX, &w), -1);
	double x = -1;
	CHECK_EQ_INT(es_opt_double("-e", "0.01", 0, 0.75, &x), 0);
	CHECK_NEAR(x, 0.01, 1e-15);
	CHECK_EQ_INT(es_opt_double("-e", "1e-3", 0, 0.75, &x), 0);
	CHECK_NEAR(x, 0.001, 1e-15);
	CHECK_EQ_INT(es_opt_double("-e", "0.75", 0, 0.75, &x), 0);
	CHECK_EQ_INT(es_opt_double("-e", "0.76", 0, 0.75, &x), -1);
	CHECK_STR(es_last_error(), "-e: expected a number in 0..0.75, got '0.76'");
	CHECK_EQ_INT(es_opt_double("-e", "abc", 0, 0.75, &x), -1);
	CHECK_EQ_INT(es_opt_double("-e", "nan", 0, 0.75, &x), -1);
	CHECK_EQ_INT(es_opt_double("-e", "inf", 0, 0.75, &x), -1);
	CHECK_EQ_INT(es_opt_double("-e", " 0.1", 0, 0.75, &x), -1);
	CHECK_EQ_INT(es_opt_double("-e", "", 0, 0.75, &x), -1);
}

TEST(cli_opt_lists)
{
	int a[4], n = -1;
	CHECK_EQ_INT(es_opt_int_list("--lens", "250,150,100", 30, 1000, 4, a, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(a[0], 250);
	CHECK_EQ_INT(a[2], 100);
	CHECK_EQ_INT(es_opt_int_list("--lens", "77", 30, 1000, 4, a, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(es_opt_int_list("--lens", "1,2,3,4", 0, 9, 4, a, &n), 0);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(es_opt_int_list("--lens", "1,2,3,4,5", 0, 9, 4, a, &n), -1);
	CHECK_STR(es_last_error(), "--lens: at most 4 values, got '1,2,3,4,5'");
	CHECK_EQ_INT(es_opt_int_list("--lens", "250,20,100", 30, 1000, 4, a, &n), -1);
	CHECK_STR(es_last_error(), "--lens: expected an integer in 30..1000, got '20'");
	CHECK_EQ_INT(es_opt_int_list("--lens", "250,", 30, 1000, 4, a, &n), -1);
	CHECK_ERR("got ''");
	CHECK_EQ_INT(es_opt_int_list("--lens", ",250", 30, 1000, 4, a, &n), -1);
	CHECK_EQ_INT(es_opt_int_list("--lens", "", 30, 1000, 4, a, &n), -1);
	double d[3];
	CHECK_EQ_INT(es_opt_double_list("--rates", "0.1,0.25", 0, 1, 3, d, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_NEAR(d[1], 0.25, 1e-15);
	CHECK_EQ_INT(es_opt_double_list("--rates", "0.1,x", 0, 1, 3, d, &n), -1);
	CHECK_STR(es_last_error(), "--rates: expected a number in 0..1, got 'x'");
}
