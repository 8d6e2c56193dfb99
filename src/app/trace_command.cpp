// The trace verb: validate, resolve (MX first) and trace on a private uv loop, printing a
// tracert-like table as hops complete.
#include "app/trace_command.h"

#include <uv.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>

#include "diag/resolver.h"
#include "diag/target.h"
#include "diag/tracer.h"

namespace postern::app {

namespace {

std::optional<int> parse_int(const std::string& text, int low, int high) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty() || value < low || value > high)
    return std::nullopt;
  return value;
}

void print_hop(const diag::HopResult& hop) {
  std::string line =
      "  " + std::to_string(hop.ttl) + "  " + (hop.address.empty() ? "*" : hop.address);
  for (const auto rtt : hop.rtts_us) {
    if (hop.address.empty()) break;  // nothing answered: the "*" says it
    char buf[32];
    if (rtt < 0) {
      line += "  *";
    } else {
      std::snprintf(buf, sizeof buf, "  %.3f ms", static_cast<double>(rtt) / 1000.0);
      line += buf;
    }
  }
  line += "  loss " + std::to_string(hop.loss_percent()) + "%";
  if (hop.mtu > 0) line += "  mtu " + std::to_string(hop.mtu);
  for (const auto& other : hop.also) line += "  (also " + other + ")";
  if (hop.unreachable) line += "  !unreachable";
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

core::Result<TraceArgs, std::string> parse_trace_args(const CommandLine& cl) {
  TraceArgs args;
  if (cl.positional.size() != 1)
    return std::string("usage: postern trace HOST [--max-hops N] [--probes N]");
  args.host = cl.positional[0];
  for (const auto& [key, value] : cl.options) {
    if (key == "max-hops") {
      auto n = parse_int(value, 1, 255);
      if (!n) return std::string("--max-hops wants a number from 1 to 255");
      args.max_hops = *n;
    } else if (key == "probes") {
      auto n = parse_int(value, 1, 100);
      if (!n) return std::string("--probes wants a number from 1 to 100");
      args.probes = *n;
    } else if (key != "board" && key != "data") {  // global options are harmless here
      return "option --" + key + " does not apply to trace";
    }
  }
  return args;
}

int trace_command(const CommandLine& cl) {
  auto args = parse_trace_args(cl);
  if (!args) {
    std::fprintf(stderr, "postern trace: %s\n", args.error().c_str());
    return 2;
  }
  auto target = diag::validate_target(args->host);
  if (!target) {
    std::fprintf(stderr, "postern trace: %s\n",
                 diag::describe_target_error(target.error()).c_str());
    return 2;
  }

  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    std::fprintf(stderr, "postern trace: cannot start the event loop\n");
    return 1;
  }
  int exit_code = 1;
  {
    std::unique_ptr<diag::Tracer> tracer;
    auto resolver = diag::Resolver::create(&loop);
    if (!resolver) {
      std::fprintf(stderr, "postern trace: resolver: %s\n",
                   diag::Resolver::describe(resolver.error()).c_str());
    } else {
      diag::TraceOptions options;
      options.max_hops = args->max_hops;
      options.probes = args->probes;
      (*resolver)->resolve(
          *target, diag::AddressFamily::any, [&](core::Result<diag::Resolution> r) {
            if (!r) {
              std::fprintf(stderr, "postern trace: %s: %s\n", target->text.c_str(),
                           diag::Resolver::describe(r.error()).c_str());
              return;
            }
            std::printf("trace to %s", target->text.c_str());
            if (!r->mx.empty()) std::printf(" (mail exchanger %s)", r->mx.c_str());
            if (r->numeric != target->text) std::printf(" [%s]", r->numeric.c_str());
            std::printf(", %d hops max, %d probes per hop\n", options.max_hops, options.probes);
            std::fflush(stdout);
            diag::TraceResult header;
            header.target = target->text;
            header.mx = r->mx;
            auto started = diag::Tracer::start(
                &loop, r->address, options, print_hop,
                [&](diag::TraceResult result) {
                  std::printf(
                      "%s%s%s\n",
                      result.outcome == diag::TraceOutcome::reached ? "reached " : "not reached: ",
                      result.outcome == diag::TraceOutcome::reached
                          ? result.address.c_str()
                          : diag::to_string(result.outcome),
                      result.error.empty() ? "" : (" (" + result.error + ")").c_str());
                  std::fflush(stdout);
                  if (result.outcome == diag::TraceOutcome::reached) exit_code = 0;
                },
                header);
            if (!started) {
              std::fprintf(
                  stderr, "postern trace: cannot open the probe socket: %s\n",
                  started.error().sys ? uv_strerror(-started.error().sys) : started.error().where);
              return;
            }
            tracer = std::move(*started);
          });
    }
    uv_run(&loop, UV_RUN_DEFAULT);  // ends when the lookups and the trace are done
    tracer.reset();
  }                               // the resolver closes its handles here
  uv_run(&loop, UV_RUN_DEFAULT);  // let the close callbacks run
  if (uv_loop_close(&loop) != 0) std::fprintf(stderr, "postern trace: a handle was left open\n");
  return exit_code;
}

}  // namespace postern::app
