/* cli.h — one entry point per subcommand (argv[0] is the subcommand name). Each returns the process exit status;
 * they live in cli_<name>.c and stay thin: parse options, call the library, turn errors into one-line messages. */
#ifndef ES_CLI_H
#define ES_CLI_H
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
extern int es_cli_argc;
extern char **es_cli_argv;
#endif
