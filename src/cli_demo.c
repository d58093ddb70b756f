/* cli_demo.c — 'esalign demo': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_demo(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign demo: not built yet\n");
	return 1;
}
