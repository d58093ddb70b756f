/* cli_eval.c — 'esalign eval': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_eval(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign eval: not built yet\n");
	return 1;
}
