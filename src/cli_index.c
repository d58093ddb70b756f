/* cli_index.c — 'esalign index': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_index(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign index: not built yet\n");
	return 1;
}
