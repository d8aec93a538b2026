// One setup function per command, each defined in commands/<verb>.cpp and
// listed in commands/table.cpp.
#pragma once

#include <CLI/CLI.hpp>

#include "runtime/commands/command.h"

namespace runvm::runtime {

struct CreateRequest;
// create's flags, shared with run.
void add_create_flags(CLI::App& cmd, CreateRequest& req);

Action setup_create(CLI::App& cmd);
Action setup_start(CLI::App& cmd);
Action setup_run(CLI::App& cmd);
Action setup_state(CLI::App& cmd);
Action setup_kill(CLI::App& cmd);
Action setup_delete(CLI::App& cmd);
Action setup_list(CLI::App& cmd);
Action setup_ps(CLI::App& cmd);
Action setup_exec(CLI::App& cmd);
Action setup_pause(CLI::App& cmd);
Action setup_resume(CLI::App& cmd);
Action setup_events(CLI::App& cmd);
Action setup_update(CLI::App& cmd);
Action setup_features(CLI::App& cmd);
Action setup_spec(CLI::App& cmd);
Action setup_check(CLI::App& cmd);

}  // namespace runvm::runtime
