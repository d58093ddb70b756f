/* cli_train.c — 'esalign train': not built yet; its issue replaces this file. */
#include "cli.h"
#include <stdio.h>
int main_train(int argc, char *argv[])
{
	(void)argc; (void)argv;
	fprintf(stderr, "esalign train: not built yet\n");
	return 1;
}
