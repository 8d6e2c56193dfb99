// `postern trace HOST [--max-hops N] [--probes N]`: a traceroute of the mail path, printed
// hop by hop as each completes, on its own libuv loop (it needs no store and no server).
//
// Exit codes: 0 the destination answered, 1 it did not (or the trace failed), 2 bad input.
#pragma once

#include <string>

#include "app/cli.h"
#include "core/result.h"

namespace postern::app {

struct TraceArgs {
  std::string host;  // validated by diag::validate_target in trace_command
  int max_hops = 30;
  int probes = 3;
};

// Exactly one positional HOST; --max-hops 1..255, --probes 1..100 as decimal integers.
core::Result<TraceArgs, std::string> parse_trace_args(const CommandLine& command_line);

int trace_command(const CommandLine& command_line);

}  // namespace postern::app
