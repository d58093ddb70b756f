/* cli_embed.c — 'esalign embed': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_embed(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign embed: not built yet\n");
	return 1;
}
