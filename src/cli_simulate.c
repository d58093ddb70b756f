/* cli_simulate.c — 'esalign simulate': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_simulate(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign simulate: not built yet\n");
	return 1;
}
