/* cli.h — one entry point per subcommand (argv[0] is the subcommand name). Each returns the process exit status;
 * they live in cli_<name>.c and stay thin: parse options, call the library, turn errors into one-line messages. */
#ifndef ES_CLI_H
#define ES_CLI_H
#include <stdint.h>
#include "util.h"
#define ESALIGN_VERSION ES_VERSION
int main_index(int argc, char *argv[]);
int main_align(int argc, char *argv[]);
int main_train(int argc, char *argv[]);
int main_embed(int argc, char *argv[]);
int main_simulate(int argc, char *argv[]);
int main_eval(int argc, char *argv[]);
int main_demo(int argc, char *argv[]);
/* Print "esalign <cmd>: <last error>" to stderr and return 1. */
int es_cli_fail(const char *cmd);
/* The command line as one string (for @PG CL:), malloc'ed. */
char *es_cli_cmdline(void);
/* Option values, one rule for every subcommand: the whole argument must be a number in [lo,hi]; otherwise es_error is
 * set to "OPT: expected an integer in LO..HI, got 'ARG'" (OPT as the user spells it, e.g. "-t" or "--nprobe") and
 * -1 is returned (the caller then returns es_cli_fail(cmd)). */
int es_opt_int(const char *opt, const char *arg, long long lo, long long hi, int *out);
int es_opt_int64(const char *opt, const char *arg, long long lo, long long hi, int64_t *out);
int es_opt_double(const char *opt, const char *arg, double lo, double hi, double *out);
/* A comma-separated list of at most max numbers, each in [lo,hi] (e.g. "--lens 250,150,100"); *n receives the
 * count. Same message rule, naming the bad element. */
int es_opt_int_list(const char *opt, const char *arg, long long lo, long long hi, int max, int *out, int *n);
int es_opt_double_list(const char *opt, const char *arg, double lo, double hi, int max, double *out, int *n);
extern int es_cli_argc;
extern char **es_cli_argv;
#endif
