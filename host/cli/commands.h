/* The subcommands of `reel`. Each returns an exit code (cli/args.h). */
#ifndef REEL_COMMANDS_H
#define REEL_COMMANDS_H

int reel_cmd_compare(int argc, char **argv);
int reel_cmd_info(int argc, char **argv);
int reel_cmd_train(int argc, char **argv);
int reel_cmd_predict(int argc, char **argv);
int reel_cmd_search(int argc, char **argv);
int reel_cmd_select(int argc, char **argv);
int reel_cmd_export(int argc, char **argv);
int reel_cmd_decide(int argc, char **argv);

#endif
