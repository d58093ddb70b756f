/* cli_align.c — 'esalign align': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_align(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign align: not built yet\n");
	return 1;
}
